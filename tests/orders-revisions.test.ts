import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderRevision, revisionId } from '../src/order-flow/order-revision.model.js';
import {
  ChangeNotLanded,
  changeOrder,
  readLandedOrder,
  type OrderWriteContext,
} from '../src/order-flow/order-writes.js';
import { Order } from '../src/order-flow/order.model.js';
import { closeQueues, createQueues } from '../src/jobs/queues.js';
import { AppError } from '../src/lib/errors.js';
import { createLogger } from '../src/lib/logger.js';
import { closeRedis, createRedis } from '../src/lib/redis.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { startTestApi, type TestApi } from './helpers/system.js';

let api: TestApi;
let http: HttpClient;
let customer: Actor;
let seller: Actor;
const log = createLogger('silent', 'test');
// Two writers whose locks live in different Redis databases: each takes "the" order lock
// without seeing the other's, exactly as if the lock had expired under a stalled writer.
let writerA: OrderWriteContext;
let writerB: OrderWriteContext;

beforeAll(async () => {
  api = await startTestApi();
  http = httpClient(api.url);
  const admin = await loginAdmin(http);
  [seller, customer] = await Promise.all([createActor(http, admin, 'seller'), registerCustomer(http)]);
  const producer = createRedis(api.config.REDIS_URL, 'blocking', log);
  const queues = createQueues(producer, api.config.QUEUE_PREFIX, log);
  writerA = { queues, log, redis: createRedis(`${api.config.REDIS_URL}/3`, 'command', log) };
  writerB = { queues, log, redis: createRedis(`${api.config.REDIS_URL}/4`, 'command', log) };
});
afterAll(async () => {
  await closeQueues(writerA.queues);
  await Promise.all([closeRedis(writerA.redis), closeRedis(writerB.redis)]);
  await api?.close();
});

async function newOrder() {
  const product = await createProduct(http, seller);
  const res = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 1 }]), {
    token: customer.token,
  });
  return res.body.orders[0].id as string;
}

/** What a writer killed after claiming version 2 (a confirm) long ago leaves: the claim, and an order still at 1. */
async function deadClaimOfConfirm(orderId: string) {
  await OrderRevision.create({
    _id: revisionId(orderId, 2),
    orderId,
    version: 2,
    set: { status: 'confirmed', version: 2 },
  });
  await OrderRevision.collection.updateOne(
    { _id: revisionId(orderId, 2) as never },
    { $set: { createdAt: new Date(Date.now() - 60_000) } },
  );
}

const confirmOnce = (order: { status: string }) => {
  if (order.status !== 'pending') throw new AppError('conflict', `the order is ${order.status}`);
  return { set: { status: 'confirmed' }, jobs: [] };
};

describe('order versions are claimed by inserting a revision', () => {
  it('two writers without a working lock: exactly one change applies', async () => {
    const orderId = await newOrder();
    for (let round = 0; round < 5; round++) {
      const id = round === 0 ? orderId : await newOrder();
      const results = await Promise.allSettled([
        changeOrder(writerA, id, confirmOnce),
        changeOrder(writerB, id, confirmOnce),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(AppError);
      const order = (await Order.findById(id).lean())!;
      expect(order.status).toBe('confirmed');
      expect(order.version).toBe(2);
      expect(await OrderRevision.countDocuments({ orderId: id })).toBe(1);
    }
  });

  it('a claim whose writer died is finished by the next writer, not lost or doubled', async () => {
    const orderId = await newOrder();
    // The dead writer claimed version 2 (confirm) long ago but never wrote it.
    await deadClaimOfConfirm(orderId);

    const { order } = await changeOrder(writerA, orderId, (current) =>
      current.status === 'confirmed' ? { set: { status: 'in_progress' }, jobs: [] } : confirmOnce(current),
    );
    expect(order.status).toBe('in_progress');
    expect(order.version).toBe(3);
  });

  it('a job owed by a claim whose writer died finishes the claim; one owed by a change not written yet waits', async () => {
    const orderId = await newOrder();
    // Version 3 not claimed at all: its job must wait (retry), not act on the older order.
    await expect(readLandedOrder(writerA, orderId, 3)).rejects.toBeInstanceOf(ChangeNotLanded);
    // The dead writer claimed version 2 (confirm) and was killed before writing the order.
    await deadClaimOfConfirm(orderId);

    const order = await readLandedOrder(writerA, orderId, 2);
    expect(order).toMatchObject({ status: 'confirmed', version: 2 });
    // Twice (the job retried, or a second worker): the same order, nothing applied again.
    expect(await readLandedOrder(writerB, orderId, 2)).toMatchObject({ status: 'confirmed', version: 2 });
    expect((await Order.findById(orderId).lean())!.version).toBe(2);
  });
});
