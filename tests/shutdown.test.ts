import { Queue } from 'bullmq';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Order } from '../src/order-flow/order.model.js';
import { QUEUE_NAMES } from '../src/jobs/queues.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient } from './helpers/http.js';
import { createProduct, orderBody, owedJobsOf } from './helpers/orders.js';
import { eventually, runEntry, startApiProcess, type RunningProcess } from './helpers/processes.js';
import { testEnv } from './helpers/system.js';
import { readOrder } from '../src/order-flow/inventory-outcome.js';

/** Real processes: SIGTERM the API and the worker in the middle of a burst of orders. */
let env: Record<string, string>;
const running: RunningProcess[] = [];

async function startApi() {
  const api = await startApiProcess({ ...env, LOG_LEVEL: 'info' });
  running.push(api.process);
  return { api: api.process, url: api.url };
}

beforeAll(async () => {
  env = testEnv({ RECONCILE_GRACE_MS: '500', RECONCILE_INTERVAL_MS: '250' });
  await mongoose.connect(env.MONGODB_URI!);
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await mongoose.disconnect();
});

describe('graceful shutdown', () => {
  it('SIGTERM during a burst of orders loses no order and fails no job', async () => {
    const first = await startApi();
    const worker = runEntry('workers/index.ts', { ...env, LOG_LEVEL: 'info' });
    running.push(worker);
    await eventually(async () => expect(worker.output()).toContain('workers started'));
    const http = httpClient(first.url);
    const admin = await loginAdmin(http);
    const seller: Actor = await createActor(http, admin, 'seller');
    const customer: Actor = await registerCustomer(http);
    const product = await createProduct(http, seller, { stock: 1_000 });

    let answered = 0;
    const burst = Array.from({ length: 60 }, () =>
      http
        .post('/api/orders', orderBody([{ productId: product.id, quantity: 1 }]), { token: customer.token })
        .then((res) => {
          answered++;
          return { status: res.status, id: res.body?.orders?.[0]?.id as string | undefined };
        })
        .catch(() => ({ status: 0, id: undefined })),
    );
    await eventually(async () => expect(answered).toBeGreaterThanOrEqual(10));
    const [apiExit, workerExit] = await Promise.all([first.api.stop('SIGTERM'), worker.stop('SIGTERM')]);
    const results = await Promise.all(burst);

    // Both finished their work and exited cleanly.
    expect(apiExit).toBe(0);
    expect(workerExit).toBe(0);
    expect(first.api.output()).toContain('shut down cleanly');
    // Every request was answered 201 or refused before it started; none failed half-way.
    expect(results.every((r) => r.status === 201 || r.status === 0)).toBe(true);
    const placed = results.filter((r) => r.status === 201).map((r) => r.id!);
    expect(placed.length).toBeGreaterThanOrEqual(10);
    // No order exists that its client was not told about, and none that was told about is missing.
    const stored = await Order.find({ 'customer.id': customer.id }, { _id: 1 }).lean();
    expect(stored.map((o) => o._id.toHexString()).sort()).toEqual([...placed].sort());

    // A new worker finishes whatever the old one left: every order fully processed, no job failed.
    running.push(runEntry('workers/index.ts', env));
    await eventually(async () => {
      const orders = await Promise.all(placed.map((id) => readOrder(id)));
      expect(orders.filter((o) => o!.inventoryStatus !== 'reduced')).toEqual([]);
      expect(await owedJobsOf(placed)).toEqual([]);
    }, 60_000);
    for (const name of QUEUE_NAMES) {
      const queue = new Queue(name, { connection: { url: env.REDIS_URL! }, prefix: env.QUEUE_PREFIX });
      expect(await queue.getFailedCount(), name).toBe(0);
      await queue.close();
    }
  });
});
