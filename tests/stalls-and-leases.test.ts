import { randomUUID } from 'node:crypto';
import { Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/embedded-services.js';
import { parseConfig } from '../src/env.js';
import { Product } from '../src/features/catalog/product.model.js';
import { InventoryMove } from '../src/features/inventory/inventory-move.model.js';
import { IdempotencyRecord, type IdempotencyDoc } from '../src/features/orders/idempotency.model.js';
import { sleep } from '../src/lib/async.js';
import { lockKeys } from '../src/lib/locks.js';
import { Order } from '../src/order-flow/order.model.js';
import { STALL_POLICY } from '../workers/runtime.js';
import type { WorkerSystem } from '../workers/system.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient, type HttpResult } from './helpers/http.js';
import { createProduct, orderBody, owedJobsOf } from './helpers/orders.js';
import { eventually, runEntry, type RunningProcess } from './helpers/processes.js';
import { startTestApi, startTestWorkers, testEnv, type TestApi } from './helpers/system.js';

/**
 * The time limits the README promises when a process dies mid-step: a job
 * whose worker keeps dying is failed by BullMQ and then finished by the
 * reconciler; a killed lock holder frees its document within the lock's TTL;
 * a killed checkout's key is taken over by its retry once its lease runs out.
 * Real Redis, FerretDB and processes; nothing is mocked.
 */
let env: Record<string, string>;
let api: TestApi;
let workers: WorkerSystem | undefined;
let http: HttpClient;
let seller: Actor;
let customer: Actor;
let redis: Redis;
const running: RunningProcess[] = [];

beforeAll(async () => {
  env = testEnv({ RECONCILE_GRACE_MS: '500', RECONCILE_INTERVAL_MS: '250' });
  // Only the API: no worker runs until the first test has made its job stall out.
  api = await startTestApi(parseConfig(env));
  http = httpClient(api.url);
  redis = new Redis(api.config.REDIS_URL, { maxRetriesPerRequest: null });
  const admin = await loginAdmin(http);
  [seller, customer] = await Promise.all([createActor(http, admin, 'seller'), registerCustomer(http)]);
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await workers?.close();
  await api?.close();
  await redis?.quit();
});

/** A worker whose job never finishes, with a short lock so that its death is noticed quickly. */
function dyingWorker(queue: string, connection: Redis) {
  const worker = new Worker(queue, () => new Promise<never>(() => {}), {
    connection,
    prefix: api.config.QUEUE_PREFIX,
    ...STALL_POLICY,
    lockDuration: 1_000,
    stalledInterval: 300,
  });
  // A force-closed worker may report its lost connection; nothing to act on.
  worker.on('error', () => {});
  return worker;
}

/**
 * Takes the job with one dying worker after another, each killed (closed
 * without renewing its lock) as soon as it is running the job, until BullMQ
 * fails the job for stalling. Returns how many workers died running it.
 */
async function stallUntilFailed(queue: Queue, jobId: string, timeoutMs: number): Promise<number> {
  const connection = new Redis(api.config.REDIS_URL, { maxRetriesPerRequest: null });
  const deadline = Date.now() + timeoutMs;
  let deaths = 0;
  try {
    while ((await (await Job.fromId(queue, jobId))?.getState()) !== 'failed') {
      if (Date.now() > deadline) throw new Error(`job ${jobId} did not stall out within ${timeoutMs} ms`);
      const worker = dyingWorker(queue.name, connection);
      const outcome = await new Promise<'died' | 'failed' | 'idle'>((resolve) => {
        // The next worker's stall check puts the job back within lockDuration + 2 stalledIntervals.
        const idle = setTimeout(() => resolve('idle'), 3_000);
        const settle = (what: 'died' | 'failed') => {
          clearTimeout(idle);
          resolve(what);
        };
        worker.on('active', (job) => {
          if (job.id !== jobId) return;
          // Stalled too often: BullMQ fails it on pick-up without running it; let that happen.
          if (job.deferredFailure) return;
          settle('died');
        });
        worker.on('failed', (job) => {
          if (job?.id === jobId) settle('failed');
        });
      });
      // Force: no waiting for the job, no more lock renewals; the job stays active, its lock lapses.
      await worker.close(true);
      if (outcome === 'died') deaths++;
    }
    return deaths;
  } finally {
    await connection.quit();
  }
}

describe('stalls and leases', () => {
  it('a job that stalls more than BullMQ allows is completed by the reconciler', async ({ annotate }) => {
    const product = await createProduct(http, seller, { stock: 10 });
    const placed = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 3 }]), {
      token: customer.token,
    });
    expect(placed.status).toBe(201);
    const orderId: string = placed.body.orders[0].id;
    const jobId = `reduce-inventory_${orderId}`;
    const inventory = new Queue('inventory', { connection: redis, prefix: api.config.QUEUE_PREFIX });
    try {
      expect(await (await Job.fromId(inventory, jobId))?.getState()).toBe('waiting');

      const deaths = await stallUntilFailed(inventory, jobId, 30_000);
      const failed = (await Job.fromId(inventory, jobId))!;
      expect(await failed.getState()).toBe('failed');
      expect(failed.failedReason).toBe('job stalled more than allowable limit');
      expect(failed.stalledCounter).toBe(STALL_POLICY.maxStalledCount + 1);
      expect(deaths).toBe(STALL_POLICY.maxStalledCount + 1);
      await annotate(`job failed by BullMQ after ${failed.stalledCounter} stalls (${deaths} workers died running it)`);
      // Nothing was done, and the order still owes it.
      expect((await Order.findById(orderId).lean())!.inventoryStatus).toBe('pending');
      expect(await owedJobsOf([orderId])).toContain(jobId);

      const startedAt = Date.now();
      workers = startTestWorkers(api.config);
      await eventually(async () => {
        expect((await Order.findById(orderId).lean())!.inventoryStatus).toBe('reduced');
        expect(await (await Job.fromId(inventory, jobId))!.getState()).toBe('completed');
        expect(await owedJobsOf([orderId])).toEqual([]);
      }, 20_000);
      await annotate(`reconciler re-sent it and it completed ${Date.now() - startedAt} ms after workers started`);
      // Stock taken exactly once, with one ledger record.
      expect((await Product.findById(product.id).lean())!.stock).toBe(7);
      expect(await InventoryMove.countDocuments({ _id: `reduce:${orderId}:${product.id}` })).toBe(1);
    } finally {
      await inventory.close();
    }
  });

  it('a killed lock holder frees the product within 5 s', async ({ annotate }) => {
    const product = await createProduct(http, seller);
    const key = lockKeys.product(product.id);
    const holder = runEntry('tests/fixtures/hold-lock.ts', { REDIS_URL: api.config.REDIS_URL, LOCK_KEY: key });
    running.push(holder);
    await eventually(async () => expect(holder.output()).toContain('holding'), 20_000);

    // Held past its 4 s TTL: the holder renews it while it works.
    await sleep(6_000);
    expect(await redis.exists(key)).toBe(1);

    const killedAt = Date.now();
    await holder.stop('SIGKILL');
    let freedAfter = Infinity;
    while (Date.now() - killedAt < 10_000) {
      if ((await redis.set(key, 'x', 'PX', 1_000, 'NX')) === 'OK') {
        freedAfter = Date.now() - killedAt;
        break;
      }
      await sleep(20);
    }
    await annotate(`lock free ${freedAfter} ms after SIGKILL`);
    expect(freedAfter).toBeLessThanOrEqual(5_000);
  }, 40_000);

  it('the retry of a checkout whose API was killed takes over its idempotency key within a few seconds', async ({
    annotate,
  }) => {
    const product = await createProduct(http, seller, { stock: 100 });
    const body = orderBody([{ productId: product.id, quantity: 1 }]);
    const record = (key: string) =>
      IdempotencyRecord.findOne({ customerId: customer.id, key }).lean<IdempotencyDoc>().exec();

    // Kill API A while it is in the middle of a checkout: its key claimed, the checkout not finished.
    let killed: { key: string; at: number; attempt: number; planned: boolean } | undefined;
    for (let attempt = 1; attempt <= 5 && !killed; attempt++) {
      const port = await freePort();
      const apiA = runEntry('src/index.ts', { ...env, PORT: String(port) });
      running.push(apiA);
      const urlA = `http://127.0.0.1:${port}`;
      await eventually(async () => {
        if (!(await fetch(`${urlA}/readyz`)).ok) throw new Error('not ready');
      }, 30_000);

      const key = `checkout-${randomUUID()}`;
      const request = httpClient(urlA)
        .post('/api/orders', body, { token: customer.token, headers: { 'idempotency-key': key } })
        .catch(() => undefined);
      let seen: IdempotencyDoc | null = null;
      const deadline = Date.now() + 10_000;
      while (!seen && Date.now() < deadline) {
        seen = await record(key);
        if (!seen) await sleep(2);
      }
      const at = Date.now();
      await apiA.stop('SIGKILL');
      await request;
      // Only a kill that landed before the checkout finished shows a takeover; otherwise try again.
      const left = seen?.status === 'processing' ? await record(key) : null;
      if (left?.status === 'processing') killed = { key, at, attempt, planned: Boolean(left.plan) };
    }
    expect(killed, 'no kill landed in the middle of a checkout').toBeDefined();
    const { key, at: killedAt } = killed!;
    await annotate(
      `kill landed mid-checkout on try ${killed!.attempt}, ${killed!.planned ? 'after' : 'before'} its plan was stored`,
    );

    // The retry, on another API, waits out the dead request's lease and then finishes the checkout.
    const retry = () => http.post('/api/orders', body, { token: customer.token, headers: { 'idempotency-key': key } });
    const answers: Array<HttpResult & { after: number }> = [];
    for (;;) {
      const res = await retry();
      answers.push({ ...res, after: Date.now() - killedAt });
      if (res.status === 201 || Date.now() - killedAt > 15_000) break;
      await sleep(250);
    }
    const done = answers.at(-1)!;
    const refused = answers.slice(0, -1);
    await annotate(`first 201 ${done.after} ms after the kill, after ${refused.length} answers of 409`);
    expect(done.status).toBe(201);
    expect(done.after).toBeLessThanOrEqual(8_000);
    // Until then the key is still the dead request's: 409 with Retry-After.
    expect(refused.length).toBeGreaterThan(0);
    for (const res of refused) {
      expect(res.status).toBe(409);
      expect(res.headers.get('retry-after')).toBe('1');
    }

    // One checkout, one order (one seller): none from the dead request beside the retry's.
    const stored = await Order.find({ 'customer.id': customer.id, idempotencyKey: key }, { _id: 1 }).lean();
    expect(stored.map((o) => o._id.toHexString())).toEqual([done.body.orders[0].id]);
    const again = await retry();
    expect(again.status).toBe(201);
    expect(again.body.checkoutId).toBe(done.body.checkoutId);
    expect(again.body.orders.map((o: { id: string }) => o.id)).toEqual([done.body.orders[0].id]);
    // And its stock is taken once.
    await eventually(async () => {
      expect((await Product.findById(product.id).lean())!.stock).toBe(99);
      expect(await owedJobsOf([done.body.orders[0].id])).toEqual([]);
    });
  }, 60_000);
});
