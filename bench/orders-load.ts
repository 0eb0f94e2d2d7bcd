/**
 * A first load measurement of the order paths (not a test; never part of `npm test`):
 *   - POST /api/orders throughput and latency at 50 connections, workers running;
 *   - GET /api/orders/:id latency with every read a cache miss, then every read a hit.
 * Starts its own FerretDB and redis-server on free ports, one API process and one
 * worker process, like `npm start`, and prints a markdown table.
 *
 *   npx tsx bench/orders-load.ts [--seconds 20] [--connections 50]
 */
import { parseArgs } from 'node:util';
import autocannon, { type Result } from 'autocannon';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAMES } from '../src/jobs/queues.js';
import { eventually } from '../tests/helpers/processes.js';
import { say, startBenchSystem } from './harness.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '50' },
    // postgresql: FerretDB on the local PostgreSQL (database ferretdb_bench, recreated each run).
    backend: { type: 'string', default: 'sqlite' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const system = await startBenchSystem(values.backend === 'postgresql' ? 'postgresql' : 'sqlite');
const { base, call, backend } = system;
const redis = { url: system.redisUrl };

function run(options: autocannon.Options): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

const row = (name: string, r: Result) =>
  `| ${name} | ${r.connections} | ${r.requests.total} | ${r.non2xx} | ${r.requests.average.toFixed(0)} | ${r.latency.p50} | ${r.latency.p90} | ${r.latency.p99} | ${r.latency.max} |`;

try {
  const admin = { token: system.tokens.admin };
  const customer = { token: system.tokens.customer };
  const products = system.productIds.map((id) => ({ id }));
  const orderBody = JSON.stringify({
    items: products.map((p: { id: string }, i: number) => ({ productId: p.id, quantity: i + 1 })),
    deliveryAddress: '1 Bench Street, Benchville',
  });

  say(`POST /api/orders, ${connections} connections, ${seconds} s…`);
  const placeStarted = Date.now();
  const place = await run({
    url: `${base}/api/orders`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${customer.token}` },
    body: orderBody,
  });

  // Let the worker drain the jobs the orders owe, so its cache warming does not blur the miss pass.
  say('waiting for the workers to drain the queues…');
  const drain = new Redis(redis.url);
  await eventually(async () => {
    for (const queue of QUEUE_NAMES) {
      const q = new Queue(queue, { connection: drain, prefix: 'orders' });
      const counts = await q.getJobCounts('waiting', 'active');
      await q.close();
      if ((counts.waiting ?? 0) + (counts.active ?? 0) > 0) throw new Error(`${queue} busy`);
    }
  }, 600_000);
  await drain.quit();
  const drained = Date.now();

  // Every order id, for the read passes.
  const ids: string[] = [];
  for (let page = 1; ; page++) {
    const list = await call('GET', `/api/orders?limit=100&page=${page}`, undefined, admin.token);
    ids.push(...list.data.map((o: { id: string }) => o.id));
    if (page >= list.totalPages) break;
  }
  const reads = ids.slice(0, 3000);
  const requests = reads.map((id) => ({ method: 'GET' as const, path: `/api/orders/${id}` }));
  const readOptions = {
    url: base,
    connections,
    amount: requests.length,
    headers: { authorization: `Bearer ${admin.token}` },
    requests,
  };

  const client = new Redis(redis.url);
  const keys = reads.map((id) => `order:${id}`);
  for (let i = 0; i < keys.length; i += 500) await client.del(...keys.slice(i, i + 500));
  say(`GET /api/orders/:id, ${reads.length} reads, every one a cache miss…`);
  const uncached = await run(readOptions);
  say(`GET /api/orders/:id for ${seconds} s over the same ${reads.length} orders, every read a cache hit…`);
  const { amount: _amount, ...hitOptions } = readOptions;
  const cached = await run({ ...hitOptions, duration: seconds });
  await client.quit();

  const lines = [
    `Orders placed: ${place.requests.total - place.non2xx}; all their jobs done ${((drained - placeStarted) / 1000).toFixed(1)} s after the load started (${seconds} s of load).`,
    `Machine: ${(await import('node:os')).cpus().length} cores; FerretDB 1.24 (${backend}) and Redis 7 on loopback; one API and one worker process.`,
    '',
    '| scenario | connections | requests | non-2xx | req/s | p50 ms | p90 ms | p99 ms | max ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    row('POST /api/orders (3 items)', place),
    row('GET /api/orders/:id, cache miss', uncached),
    row('GET /api/orders/:id, cache hit', cached),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await system.stop();
}
