/**
 * Seller-notification latency, end to end (not a test): orders are posted at a
 * fixed rate (open loop: the next request does not wait for the last), and for
 * each order the time from its POST response to the seller's socket receiving
 * its `order_notification` is recorded. Own FerretDB and Redis, one API and one
 * worker process.
 *
 *   npx tsx bench/notification-latency.ts [--rates 50,200] [--seconds 10]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { io as connect } from 'socket.io-client';
import { ferretDB, freePort, redisServer } from '../scripts/embedded-services.js';
import { eventually, runEntry } from '../tests/helpers/processes.js';

const { values } = parseArgs({
  options: { rates: { type: 'string', default: '50,200' }, seconds: { type: 'string', default: '10' } },
});
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);
const say = (message: string) => process.stderr.write(`[bench] ${message}\n`);

const dir = mkdtempSync(join(tmpdir(), 'orders-latency-'));
const mongo = ferretDB({ port: await freePort(), dataDir: join(dir, 'ferretdb') });
const redis = redisServer({ port: await freePort(), dataDir: join(dir, 'redis') });
await Promise.all([mongo.start(), redis.start()]);
const port = await freePort();
const env = {
  NODE_ENV: 'production',
  JWT_SECRET: 'bench-secret-bench-secret-bench-secret-1234',
  ADMIN_EMAIL: 'admin@bench.local',
  ADMIN_PASSWORD: 'bench-admin-password',
  PASSWORD_HASH_COST: '10',
  LOG_LEVEL: 'warn',
  MONGODB_URI: `${mongo.url.replace(/\/orders$/, '')}/latency`,
  REDIS_URL: redis.url,
  PORT: String(port),
};
const api = runEntry('src/index.ts', env);
const worker = runEntry('workers/index.ts', env);
const base = `http://127.0.0.1:${port}`;

async function call(method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as any;
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

try {
  await eventually(async () => {
    if (!(await fetch(`${base}/readyz`)).ok) throw new Error('not ready');
  }, 60_000);
  const admin = await call('POST', '/api/auth/login', { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD });
  await call(
    'POST',
    '/api/users',
    { name: 'Seller', email: 's@bench.local', password: 'seller-password', role: 'seller' },
    admin.token,
  );
  const seller = await call('POST', '/api/auth/login', { email: 's@bench.local', password: 'seller-password' });
  const customer = await call('POST', '/api/auth/register', {
    name: 'Buyer',
    email: 'c@bench.local',
    password: 'buyer-password',
  });
  const product = await call(
    'POST',
    '/api/products',
    { name: 'Tea', sku: 'T-1', price: 500, stock: 10_000_000 },
    seller.token,
  );

  const received = new Map<string, number>();
  const socket = connect(base, { auth: { token: seller.token }, transports: ['websocket'] });
  socket.on('order_notification', (payload: { orderId: string; notificationId: string }, ack?: () => void) => {
    if (!received.has(payload.orderId)) received.set(payload.orderId, performance.now());
    ack?.();
    socket.emit('notification:ack', { ids: [payload.notificationId] });
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));

  const lines = [
    '| target orders/s | placed | achieved orders/s | POST p50 ms | POST p99 ms | notified | notify p50 ms | notify p99 ms | max ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const rate of rates) {
    say(`${rate} orders/s for ${seconds} s…`);
    const responded = new Map<string, number>();
    const postTimes: number[] = [];
    const inflight: Promise<void>[] = [];
    const started = performance.now();
    const total = rate * seconds;
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const sent = performance.now();
      inflight.push(
        call(
          'POST',
          '/api/orders',
          { items: [{ productId: product.id, quantity: 1 }], deliveryAddress: '1 Bench Street' },
          customer.token,
        ).then((res) => {
          const now = performance.now();
          postTimes.push(now - sent);
          responded.set(res.orders[0].id, now);
        }),
      );
    }
    await Promise.all(inflight);
    const elapsed = (performance.now() - started) / 1000;
    await eventually(async () => {
      if ([...responded.keys()].some((id) => !received.has(id))) throw new Error('waiting for notifications');
    }, 300_000);
    const latencies = [...responded].map(([id, at]) => Math.max(0, received.get(id)! - at)).sort((a, b) => a - b);
    const posts = postTimes.sort((a, b) => a - b);
    lines.push(
      `| ${rate} | ${responded.size} | ${(responded.size / elapsed).toFixed(0)} | ${percentile(posts, 50).toFixed(0)} | ${percentile(posts, 99).toFixed(0)} | ${latencies.length} | ${percentile(latencies, 50).toFixed(0)} | ${percentile(latencies, 99).toFixed(0)} | ${latencies.at(-1)!.toFixed(0)} |`,
    );
  }
  socket.disconnect();
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await Promise.all([api.stop(), worker.stop()]);
  await Promise.all([mongo.stop(), redis.stop()]);
  rmSync(dir, { recursive: true, force: true });
}
