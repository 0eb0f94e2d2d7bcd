import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, redisServer, type ManagedService } from '../scripts/embedded-services.js';
import { Product } from '../src/features/catalog/product.model.js';
import { Notification } from '../src/features/notifications/notification.model.js';
import { newOrderNumber } from '../src/features/orders/order-numbers.js';
import { Order } from '../src/order-flow/order.model.js';
import { cachedOrder } from '../src/order-flow/order-cache.js';
import { orderIndexKeys } from '../src/order-flow/order-index.js';
import type { WorkerSystem } from '../workers/system.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody, owedJobsOf } from './helpers/orders.js';
import { oweJobs, reconcileOwedWork } from '../src/order-flow/owed-work.js';
import { writeNewOrders } from '../src/order-flow/order-writes.js';
import { OwedJob } from '../src/order-flow/owed-job.model.js';
import { parseOrderJobId } from '../src/order-flow/order-jobs.js';
import { closeQueues, createQueues } from '../src/jobs/queues.js';
import { createLogger } from '../src/lib/logger.js';
import { closeRedis, createRedis } from '../src/lib/redis.js';
import { eventually } from './helpers/processes.js';
import { startTestApi, startTestWorkers, testConfig, type TestApi } from './helpers/system.js';
import { readOrder } from '../src/order-flow/inventory-outcome.js';

// This file owns its Redis, so it can stop it.
let dir: string;
let redis: ManagedService;
let api: TestApi;
let workers: WorkerSystem;
let http: HttpClient;
let seller: Actor;
let customer: Actor;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orders-outage-'));
  redis = redisServer({ port: await freePort(), dataDir: dir });
  await redis.start();
  api = await startTestApi(
    testConfig({ REDIS_URL: redis.url, RECONCILE_GRACE_MS: '500', RECONCILE_INTERVAL_MS: '250' }),
  );
  workers = startTestWorkers(api.config);
  http = httpClient(api.url);
  const admin = await loginAdmin(http);
  [seller, customer] = await Promise.all([createActor(http, admin, 'seller'), registerCustomer(http)]);
});
afterAll(async () => {
  await workers?.close();
  await api?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function expectFullyProcessed(orderId: string, productId: string, stock: number) {
  await eventually(async () => {
    const order = (await readOrder(orderId))!;
    expect(order.inventoryStatus).toBe('reduced');
    expect(await owedJobsOf([orderId])).toEqual([]);
    expect((await Product.findById(productId).lean())!.stock).toBe(stock);
    expect(await Notification.countDocuments({ orderId, type: 'order_notification' })).toBe(1);
  }, 30_000);
}

describe('"saved" means the jobs will run', () => {
  it('an order placed while Redis is down gets its inventory reduced and its seller notified once Redis is back', async () => {
    const product = await createProduct(http, seller, { stock: 10 });
    await redis.stop();

    const res = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 4 }]), {
      token: customer.token,
    });
    expect(res.status).toBe(201);
    const orderId = res.body.orders[0].id;
    // Nothing could be enqueued: the order still owes its jobs. No cache warm: the reduction caches it.
    expect((await owedJobsOf([orderId])).sort()).toEqual(
      [`notify-seller_${orderId}`, `reduce-inventory_${orderId}`].sort(),
    );
    // Reads fall back to MongoDB.
    const read = await http.get(`/api/orders/${orderId}`, { token: customer.token });
    expect(read.status).toBe(200);
    expect(read.body.status).toBe('pending');

    await redis.start();
    // No request is needed: the worker's relay finds the owed jobs.
    await expectFullyProcessed(orderId, product.id, 6);
    // Placement owed no cache warm: the reduction's job cached the order (and filed it, as Redis held
    // no state of it) as its own effect. The outcome is recorded beside the order: still version 1.
    const client = new Redis(redis.url);
    try {
      expect((await cachedOrder(client, orderId))?.inventoryStatus).toBe('reduced');
      expect(await client.hget(orderIndexKeys().entries, orderId)).toMatch(/^1\|pending\|1$/);
    } finally {
      client.disconnect();
    }
  });

  it('an order whose API died right after the insert (nothing enqueued) still gets every job', async () => {
    const product = await createProduct(http, seller, { stock: 10 });
    const placed = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 1 }]), {
      token: customer.token,
    });
    const template = (await Order.findById(placed.body.orders[0].id).lean())!;
    await expectFullyProcessed(template._id.toHexString(), product.id, 9);

    // What a crashed API leaves behind: its owed work, the order as inserted, no job in Redis.
    const _id = new Types.ObjectId();
    const id = _id.toHexString();
    await oweJobs([`reduce-inventory_${id}`, `notify-seller_${id}`].map((jobId) => ({ jobId, version: 1 })));
    await Order.collection.insertOne({
      ...template,
      _id,
      orderNumber: newOrderNumber(),
      inventoryStatus: 'pending',
      version: 1,
    });
    await expectFullyProcessed(id, product.id, 8);
  });

  it('work owed by an order its API never wrote (killed between the two inserts) is dropped once it is old; landed work is sent', async () => {
    const product = await createProduct(http, seller, { stock: 10 });
    const placed = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 1 }]), {
      token: customer.token,
    });
    const landed = placed.body.orders[0].id as string;
    await expectFullyProcessed(landed, product.id, 9);
    const ghost = new Types.ObjectId().toHexString();
    const ids = (orderId: string) => [`reduce-inventory_${orderId}`, `notify-seller_${orderId}`];
    const log = createLogger('silent', 'test');
    const client = createRedis(redis.url, 'command', log);
    const producer = createRedis(redis.url, 'blocking', log);
    const queues = createQueues(producer, api.config.QUEUE_PREFIX, log);
    try {
      // Redis lost the landed order's jobs (they had completed and are gone): removed before any
      // work is owed again, so no reconciler can find them completed and retry them as they were.
      // (An active job cannot be removed: wait until they finished.)
      const queueOf = (jobId: string) => queues[parseOrderJobId(jobId)!.queue];
      await eventually(async () =>
        expect(await Promise.all(ids(landed).map((jobId) => queueOf(jobId).getJobState(jobId)))).toEqual([
          'completed',
          'completed',
        ]),
      );
      expect(await Promise.all(ids(landed).map((jobId) => queueOf(jobId).remove(jobId)))).toEqual([1, 1]);
      // The ghost's owed work, and the landed order's owed work whose jobs Redis lost.
      await oweJobs([...ids(ghost), ...ids(landed)].map((jobId) => ({ jobId, version: 1, requestId: 'trace-lost' })));
      // Five minutes: past this pass's abandon age, short of the running workers' own (10 min).
      await OwedJob.collection.updateMany({}, { $set: { createdAt: new Date(Date.now() - 5 * 60_000) } });
      const outcome = await reconcileOwedWork({ queues, redis: client, log }, { graceMs: 0, abandonMs: 60_000 });
      expect(outcome.abandoned).toBe(2);
      expect(await owedJobsOf([ghost])).toEqual([]);
    } finally {
      await closeQueues(queues);
      await Promise.all([closeRedis(client), closeRedis(producer)]);
    }
    // The landed order's jobs ran again (idempotent) and struck themselves off.
    await eventually(async () => expect(await owedJobsOf([landed])).toEqual([]), 30_000);
    expect((await Product.findById(product.id).lean())!.stock).toBe(9);
    expect(await Notification.countDocuments({ orderId: landed, type: 'order_notification' })).toBe(1);
    // The re-sent jobs carry the request that owed them, for the worker's log.
    const inventory = new Queue('inventory', { connection: { url: redis.url }, prefix: api.config.QUEUE_PREFIX });
    try {
      expect((await Job.fromId(inventory, ids(landed)[0]!))?.data).toMatchObject({
        orderId: landed,
        requestId: 'trace-lost',
      });
    } finally {
      await inventory.close();
    }
  });

  describe('orders written together send one job per kind', () => {
    const log = createLogger('silent', 'test');
    let client: ReturnType<typeof createRedis>;
    let producer: ReturnType<typeof createRedis>;
    let queues: ReturnType<typeof createQueues>;
    beforeAll(() => {
      client = createRedis(redis.url, 'command', log);
      producer = createRedis(redis.url, 'blocking', log);
      queues = createQueues(producer, api.config.QUEUE_PREFIX, log);
    });
    afterAll(async () => {
      await closeQueues(queues);
      await Promise.all([closeRedis(client), closeRedis(producer)]);
    });

    /** Copies of a placed order, new ids and numbers, as a group commit would write them. */
    async function newOrdersLike(count: number, productId: string) {
      const placed = await http.post('/api/orders', orderBody([{ productId, quantity: 1 }]), {
        token: customer.token,
      });
      expect(placed.status).toBe(201);
      const template = (await Order.findById(placed.body.orders[0].id).lean())!;
      await expectFullyProcessed(template._id.toHexString(), productId, 9);
      return Array.from({ length: count }, () => ({
        ...template,
        _id: new Types.ObjectId(),
        orderNumber: newOrderNumber(),
        inventoryStatus: 'pending' as const,
        version: 1,
      }));
    }
    const placementJobs = (order: { _id: Types.ObjectId }) =>
      (['reduce-inventory', 'notify-seller'] as const).map((name) => ({
        jobId: `${name}_${order._id.toHexString()}`,
        version: 1,
      }));
    const insert = async (orders: readonly object[]) => {
      await Order.collection.insertMany(orders.map((order) => ({ ...order })));
      return new Set<string>();
    };

    it('three orders: one owed entry and one job per kind carry them, struck off once all are done', async () => {
      const product = await createProduct(http, seller, { stock: 10 });
      const orders = await newOrdersLike(3, product.id);
      const ids = orders.map((order) => order._id.toHexString());
      await writeNewOrders({ queues, redis: client, log }, orders, placementJobs, insert);
      const owed = await OwedJob.find({ orderIds: orders[1]!._id }).lean();
      expect(owed.map((record) => record._id.split('_').slice(0, 2).join('_')).sort()).toEqual([
        'notify-seller_batch',
        'reduce-inventory_batch',
      ]);
      // Completed jobs are kept for a while (DEFAULT_JOB_OPTIONS): these can be looked at whenever.
      for (const record of owed) {
        expect(record.members!.map((m) => m.orderId)).toEqual(ids);
        const name = record._id.split('_')[0]!;
        const job = await Job.fromId(queues[parseOrderJobId(`${name}_${ids[0]}`)!.queue], record._id);
        expect(job?.name).toBe(name);
        expect((job?.data.batch as Array<{ orderId: string }>).map((m) => m.orderId)).toEqual(ids);
      }
      // No job or owed entry of its own for an order sent in a batch.
      expect(await queues.inventory.getJob(`reduce-inventory_${ids[0]}`)).toBeUndefined();
      expect(await OwedJob.exists({ _id: `reduce-inventory_${ids[0]}` })).toBeNull();
      for (const id of ids) await expectFullyProcessed(id, product.id, 6);
      expect(await OwedJob.countDocuments({ _id: { $in: owed.map((record) => record._id) } })).toBe(0);
    });

    it('a batch job Redis lost: the reconciler sends it again, and each order is done once', async () => {
      const product = await createProduct(http, seller, { stock: 10 });
      const orders = await newOrdersLike(2, product.id);
      // What an API killed after the insert leaves: the batch entries owed, no job in Redis.
      const batch = (name: string) => ({
        jobId: `${name}_batch_lost${Date.now()}`,
        version: 1,
        members: orders.map((order) => ({ orderId: order._id.toHexString(), version: 1 })),
      });
      await oweJobs([batch('reduce-inventory'), batch('notify-seller')]);
      await insert(orders);
      for (const order of orders) await expectFullyProcessed(order._id.toHexString(), product.id, 7);
    });

    it('a batch with an order its API never wrote: once old, the reconciler drops that order and the others are done', async () => {
      const product = await createProduct(http, seller, { stock: 10 });
      const [landed, ghost] = await newOrdersLike(2, product.id);
      const members = [landed!, ghost!].map((order) => ({ orderId: order._id.toHexString(), version: 1 }));
      const jobId = `reduce-inventory_batch_ghost${Date.now()}`;
      await oweJobs([{ jobId, version: 1, members }]);
      await insert([landed!]);
      // Five minutes old: past this pass's abandon age, short of the running workers' own (10 min).
      await OwedJob.collection.updateOne(
        { _id: jobId as never },
        { $set: { createdAt: new Date(Date.now() - 5 * 60_000) } },
      );
      // The running workers' reconcilers (abandoning after 10 minutes) may send the batch as it
      // was meanwhile; passes of this one prune it again until the landed order is done.
      let abandoned = 0;
      await eventually(async () => {
        abandoned += (await reconcileOwedWork({ queues, redis: client, log }, { graceMs: 0, abandonMs: 60_000 }))
          .abandoned;
        expect(await OwedJob.exists({ _id: jobId })).toBeNull();
      }, 30_000);
      expect(abandoned).toBeGreaterThanOrEqual(1);
      expect((await readOrder(landed!._id))!.inventoryStatus).toBe('reduced');
      expect((await Product.findById(product.id).lean())!.stock).toBe(8);
      expect(await Order.exists({ _id: ghost!._id })).toBeNull();
    });

    it('a batch one of whose orders cannot be done yet: the others are, and the batch is retried with that one alone', async () => {
      const [first, second] = await Promise.all([
        createProduct(http, seller, { stock: 10 }),
        createProduct(http, seller, { stock: 10 }),
      ]);
      const [early, late] = await newOrdersLike(2, first.id);
      late!.items = late!.items.map((item) => ({ ...item, productId: new Types.ObjectId(second.id) }));
      // Someone holds the second product's lock (past the reduction's 10 s wait): its line cannot be taken now.
      await client.set(`lock:product:${second.id}`, 'someone-else', 'PX', 60_000);
      try {
        await writeNewOrders({ queues, redis: client, log }, [early!, late!], placementJobs, insert);
        // Done, though its batch is still owed (by the order left in it).
        await eventually(async () => {
          expect((await readOrder(early!._id))!.inventoryStatus).toBe('reduced');
          expect((await Product.findById(first.id).lean())!.stock).toBe(8);
        }, 30_000);
        const owedLate = await OwedJob.find({ orderIds: late!._id }).lean();
        const batchId = owedLate.find((record) => record._id.startsWith('reduce-inventory_'))!._id;
        await eventually(async () => {
          const job = await Job.fromId(queues.inventory, batchId);
          expect((job?.data.batch as Array<{ orderId: string }>).map((m) => m.orderId)).toEqual([
            late!._id.toHexString(),
          ]);
        }, 30_000);
      } finally {
        await client.del(`lock:product:${second.id}`);
      }
      await expectFullyProcessed(late!._id.toHexString(), second.id, 9);
      // The early order's stock was taken once, whatever the batch's retries did.
      expect((await Product.findById(first.id).lean())!.stock).toBe(8);
    }, 90_000);
  });
});
