/**
 * Seller-notification latency, end to end (not a test): orders are posted at a
 * fixed rate (open loop: the next request does not wait for the last), and for
 * each order the time from its POST response to the seller's socket receiving
 * its `order_notification` is recorded. Own FerretDB and Redis, one API and one
 * worker process.
 *
 *   npx tsx bench/notification-latency.ts [--rates 50,200] [--seconds 10]
 */
import { parseArgs } from 'node:util';
import { io as connect } from 'socket.io-client';
import { eventually } from '../tests/helpers/processes.js';
import { percentile, say, startBenchSystem } from './harness.js';

const { values } = parseArgs({
  options: { rates: { type: 'string', default: '50,200' }, seconds: { type: 'string', default: '10' } },
});
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);

const system = await startBenchSystem();
const { base, call } = system;

try {
  const seller = { token: system.tokens.seller };
  const customer = { token: system.tokens.customer };
  const product = { id: system.productIds[0]! };

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
  await system.stop();
}
