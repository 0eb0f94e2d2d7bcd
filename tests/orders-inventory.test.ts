import { Queue } from 'bullmq';
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Product } from '../src/features/catalog/product.model.js';
import {
  applyReduction,
  reduceInventoryForOrder,
  reduceInventoryForOrders,
  restoreInventoryForOrder,
  type InventoryContext,
} from '../src/features/inventory/inventory.service.js';
import { InventoryMove } from '../src/features/inventory/inventory-move.model.js';
import { orderCacheKeys } from '../src/order-flow/order-cache.js';
import { OrderRevision, revisionId } from '../src/order-flow/order-revision.model.js';
import { Order } from '../src/order-flow/order.model.js';
import { InventoryOutcome, readOrder, recordInventoryOutcomes } from '../src/order-flow/inventory-outcome.js';
import { closeQueues, createQueues } from '../src/jobs/queues.js';
import { EventPublisher } from '../src/lib/events.js';
import { createLogger } from '../src/lib/logger.js';
import { closeRedis, createRedis } from '../src/lib/redis.js';
import type { WorkerSystem } from '../workers/system.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { eventually } from './helpers/processes.js';
import { startTestApi, startTestWorkers, type TestApi } from './helpers/system.js';

let api: TestApi;
let http: HttpClient;
let admin: Actor;
let seller: Actor;
let customer: Actor;
let ctx: InventoryContext;
const log = createLogger('silent', 'test');

beforeAll(async () => {
  api = await startTestApi();
  http = httpClient(api.url);
  admin = await loginAdmin(http);
  [seller, customer] = await Promise.all([createActor(http, admin, 'seller'), registerCustomer(http)]);
  const redis = createRedis(api.config.REDIS_URL, 'command', log);
  const producer = createRedis(api.config.REDIS_URL, 'blocking', log);
  ctx = {
    queues: createQueues(producer, api.config.QUEUE_PREFIX, log),
    redis,
    log,
    events: new EventPublisher(producer),
  };
});
afterAll(async () => {
  await closeQueues(ctx.queues);
  await closeRedis(ctx.redis);
  await api?.close();
});

const stockOf = async (id: string) => (await Product.findById(id).lean())!.stock;

/** What a run that took `quantity` of a product for an order and recorded the move leaves. */
async function earlierRunTook(orderId: string, productId: string, quantity: number) {
  await Product.updateOne({ _id: productId }, { $inc: { stock: -quantity } });
  await InventoryMove.create({ _id: `reduce:${orderId}:${productId}`, kind: 'reduce', orderId, productId, quantity });
}

/** Places an order over HTTP; no worker runs in this part, so its jobs wait in Redis. */
async function placeOrder(items: Array<{ productId: string; quantity: number }>) {
  const res = await http.post('/api/orders', orderBody(items), { token: customer.token });
  expect(res.status).toBe(201);
  return res.body.orders[0].id as string;
}

describe('inventory moves exactly once per order and product', () => {
  it('a reduce job run twice, then five times at once, changes stock once', async () => {
    const a = await createProduct(http, seller, { stock: 10 });
    const b = await createProduct(http, seller, { stock: 7 });
    const orderId = await placeOrder([
      { productId: a.id, quantity: 3 },
      { productId: b.id, quantity: 2 },
    ]);

    await reduceInventoryForOrder(ctx, orderId, log);
    await reduceInventoryForOrder(ctx, orderId, log);
    await Promise.all(Array.from({ length: 5 }, () => reduceInventoryForOrder(ctx, orderId, log)));

    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([7, 5]);
    expect((await readOrder(orderId))!.inventoryStatus).toBe('reduced');
  });

  it('five copies of a fresh reduce running at once change stock once', async () => {
    const a = await createProduct(http, seller, { stock: 10 });
    const orderId = await placeOrder([{ productId: a.id, quantity: 4 }]);
    await Promise.all(Array.from({ length: 5 }, () => reduceInventoryForOrder(ctx, orderId, log)));
    expect(await stockOf(a.id)).toBe(6);
  });

  it('a reduce that died after its first product and is retried changes each product once', async () => {
    const a = await createProduct(http, seller, { stock: 10 });
    const b = await createProduct(http, seller, { stock: 10 });
    const orderId = await placeOrder([
      { productId: a.id, quantity: 1 },
      { productId: b.id, quantity: 2 },
    ]);
    const order = (await Order.findById(orderId).lean())!;
    // The first step of the job, then the "crash": the order still says pending.
    await applyReduction(ctx.redis, orderId, order.items[0]!);
    expect((await readOrder(orderId))!.inventoryStatus).toBe('pending');

    await reduceInventoryForOrder(ctx, orderId, log);
    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([9, 8]);
  });

  it('cancel twice, restore run three times at once: stock comes back once', async () => {
    const a = await createProduct(http, seller, { stock: 10 });
    const orderId = await placeOrder([{ productId: a.id, quantity: 4 }]);
    await reduceInventoryForOrder(ctx, orderId, log);
    expect(await stockOf(a.id)).toBe(6);

    expect((await http.request('DELETE', `/api/orders/${orderId}`, { token: customer.token })).status).toBe(200);
    expect((await http.request('DELETE', `/api/orders/${orderId}`, { token: customer.token })).status).toBe(200);
    await Promise.all(Array.from({ length: 3 }, () => restoreInventoryForOrder(ctx, orderId, log)));
    await restoreInventoryForOrder(ctx, orderId, log);

    expect(await stockOf(a.id)).toBe(10);
    expect((await readOrder(orderId))!.inventoryStatus).toBe('restored');
  });

  it('a restore that runs before the reduction finished waits (retries) instead of missing it', async () => {
    const a = await createProduct(http, seller, { stock: 10 });
    const orderId = await placeOrder([{ productId: a.id, quantity: 2 }]);
    expect((await http.request('DELETE', `/api/orders/${orderId}`, { token: customer.token })).status).toBe(200);
    await expect(restoreInventoryForOrder(ctx, orderId, log)).rejects.toThrow(/not had its inventory reduced yet/);
    await reduceInventoryForOrder(ctx, orderId, log);
    await restoreInventoryForOrder(ctx, orderId, log);
    expect(await stockOf(a.id)).toBe(10);
  });

  it('stock runs short: the order is marked short with what was missing, and stock stays at zero', async () => {
    const a = await createProduct(http, seller, { stock: 3 });
    const first = await placeOrder([{ productId: a.id, quantity: 3 }]);
    const second = await placeOrder([{ productId: a.id, quantity: 2 }]);
    await reduceInventoryForOrder(ctx, first, log);
    await reduceInventoryForOrder(ctx, second, log);
    const shortOrder = (await readOrder(second))!;
    expect(shortOrder.inventoryStatus).toBe('short');
    expect(shortOrder.shortItems.map((s) => [String(s.productId), s.requested, s.available])).toEqual([[a.id, 2, 0]]);
    expect(await stockOf(a.id)).toBe(0);
  });
});

describe('the stock ledger', () => {
  it('records each move once as its own document; the product does not grow with its orders', async () => {
    const a = await createProduct(http, seller, { stock: 10 });
    const cancelled = await placeOrder([{ productId: a.id, quantity: 2 }]);
    const open = await placeOrder([{ productId: a.id, quantity: 3 }]);
    await reduceInventoryForOrder(ctx, cancelled, log);
    await reduceInventoryForOrder(ctx, open, log);
    expect((await http.request('DELETE', `/api/orders/${cancelled}`, { token: customer.token })).status).toBe(200);
    await restoreInventoryForOrder(ctx, cancelled, log);
    // Late duplicates of every job change nothing.
    await reduceInventoryForOrder(ctx, cancelled, log);
    await restoreInventoryForOrder(ctx, cancelled, log);
    await reduceInventoryForOrder(ctx, open, log);

    const moves = await InventoryMove.find({ productId: a.id }).lean();
    expect(moves.map((m) => [m._id, m.quantity]).sort()).toEqual(
      [
        [`reduce:${cancelled}:${a.id}`, 2],
        [`reduce:${open}:${a.id}`, 3],
        [`restore:${cancelled}:${a.id}`, 2],
      ].sort(),
    );
    expect(await stockOf(a.id)).toBe(7);
    const stored = (await Product.findById(a.id).select('+pendingMove').lean()) as Record<string, unknown>;
    expect(Object.keys(stored).sort()).toEqual(
      ['_id', 'createdAt', 'name', 'price', 'sellerId', 'sku', 'stock', 'updatedAt'].sort(),
    );
  });

  it('a writer that died after changing the stock but before recording it: the retry finishes it, stock moves once', async () => {
    const a = await createProduct(http, seller, { stock: 10 });
    const orderId = await placeOrder([{ productId: a.id, quantity: 4 }]);
    // What step 3 leaves behind: the stock changed and the move pending, no record.
    const move = { id: `reduce:${orderId}:${a.id}`, kind: 'reduce', orderId, quantity: 4 };
    await Product.updateOne({ _id: a.id }, { $inc: { stock: -4 }, $set: { pendingMove: move } });

    await reduceInventoryForOrder(ctx, orderId, log);
    expect(await stockOf(a.id)).toBe(6);
    expect(await InventoryMove.exists({ _id: move.id })).not.toBeNull();
    expect((await Product.findById(a.id).select('+pendingMove').lean())!.pendingMove).toBeUndefined();
    expect((await readOrder(orderId))!.inventoryStatus).toBe('reduced');
  });

  it("another order's move finishes a dead writer's move first, so neither is lost nor doubled", async () => {
    const a = await createProduct(http, seller, { stock: 10 });
    const dead = await placeOrder([{ productId: a.id, quantity: 1 }]);
    const next = await placeOrder([{ productId: a.id, quantity: 2 }]);
    const move = { id: `reduce:${dead}:${a.id}`, kind: 'reduce', orderId: dead, quantity: 1 };
    await Product.updateOne({ _id: a.id }, { $inc: { stock: -1 }, $set: { pendingMove: move } });

    await reduceInventoryForOrder(ctx, next, log);
    expect(await stockOf(a.id)).toBe(7);
    expect(await InventoryMove.exists({ _id: move.id })).not.toBeNull();
    // The dead writer's job, retried: already recorded, nothing moves.
    await reduceInventoryForOrder(ctx, dead, log);
    expect(await stockOf(a.id)).toBe(7);
    // And it can be restored, because its reduction is on record.
    expect((await http.request('DELETE', `/api/orders/${dead}`, { token: customer.token })).status).toBe(200);
    await restoreInventoryForOrder(ctx, dead, log);
    expect(await stockOf(a.id)).toBe(8);
  });
});

describe('under load, with real workers', () => {
  let workers: WorkerSystem;
  beforeAll(() => {
    workers = startTestWorkers(api.config);
  });
  afterAll(() => workers?.close());

  it('50 concurrent orders for a product with stock 10: stock never below zero, reduced + left = 10', async () => {
    const p = await createProduct(http, seller, { stock: 10 });
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        http.post('/api/orders', orderBody([{ productId: p.id, quantity: 1 }]), { token: customer.token }),
      ),
    );
    // Placement only checks stock as it stands; some may already see it gone.
    expect(results.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    const placed = results.filter((r) => r.status === 201).map((r) => r.body.orders[0].id as string);

    const stored = () => Promise.all(placed.map(async (id) => (await readOrder(id))!));
    await eventually(async () => {
      expect((await stored()).filter((o) => o.inventoryStatus === 'pending')).toHaveLength(0);
    }, 60_000);
    const orders = await stored();
    const reduced = orders.filter((o) => o.inventoryStatus === 'reduced').length;
    const left = await stockOf(p.id);
    expect(left).toBeGreaterThanOrEqual(0);
    expect(reduced + left).toBe(10);
    expect(orders.filter((o) => o.inventoryStatus === 'short')).toHaveLength(placed.length - reduced);
  });

  it('the same reduce job enqueued five times under different ids changes stock once', async () => {
    const p = await createProduct(http, seller, { stock: 10 });
    const orderId = await placeOrder([{ productId: p.id, quantity: 3 }]);
    const queue = new Queue('inventory', {
      connection: { url: api.config.REDIS_URL },
      prefix: api.config.QUEUE_PREFIX,
    });
    try {
      await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          queue.add('reduce-inventory', { orderId }, { jobId: `dup-${orderId}-${i}` }),
        ),
      );
      await eventually(async () => {
        const states = await Promise.all(Array.from({ length: 5 }, (_, i) => queue.getJobState(`dup-${orderId}-${i}`)));
        expect(states).toEqual(Array(5).fill('completed'));
      });
    } finally {
      await queue.close();
    }
    expect(await stockOf(p.id)).toBe(7);
  });
});

describe('many orders reduced in one batch', () => {
  const reduceAll = async (ids: string[]) => {
    const outcomes = await reduceInventoryForOrders(
      ctx,
      ids.map((orderId) => ({ orderId, version: 1 })),
      log,
    );
    expect(outcomes.map((o) => o.status)).toEqual(ids.map(() => 'fulfilled'));
  };
  const statuses = async (ids: string[]) => Promise.all(ids.map(async (id) => (await readOrder(id))!.inventoryStatus));

  it('a batch in which the stock runs out: the first orders are reduced, the rest short, the stock ends at zero', async () => {
    const scarce = await createProduct(http, seller, { stock: 7 });
    const plenty = await createProduct(http, seller, { stock: 100 });
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) ids.push(await placeOrder([{ productId: scarce.id, quantity: 1 }]));
    // Short on one line only: the other line is taken all the same.
    ids.push(
      await placeOrder([
        { productId: scarce.id, quantity: 1 },
        { productId: plenty.id, quantity: 2 },
      ]),
    );

    await reduceAll(ids);
    expect(await statuses(ids)).toEqual([...Array(7).fill('reduced'), 'short', 'short', 'short']);
    expect(await stockOf(scarce.id)).toBe(0);
    expect(await stockOf(plenty.id)).toBe(98);
    const last = (await readOrder(ids[9]!))!;
    expect(last.shortItems.map((s) => [String(s.productId), s.requested, s.available])).toEqual([[scarce.id, 1, 0]]);
    expect(await InventoryMove.countDocuments({ productId: scarce.id, kind: 'reduce' })).toBe(7);
    expect(await InventoryMove.countDocuments({ productId: plenty.id, kind: 'reduce' })).toBe(1);
  });

  it('a retry whose line an earlier run took, leaving too little stock for it now: reduced, not short', async () => {
    const a = await createProduct(http, seller, { stock: 2 });
    const orderId = await placeOrder([{ productId: a.id, quantity: 2 }]);
    // The earlier run took the stock and recorded the move, then died before the order said so.
    await earlierRunTook(orderId, a.id, 2);

    await reduceAll([orderId]);
    const order = (await readOrder(orderId))!;
    expect([order.inventoryStatus, order.shortItems]).toEqual(['reduced', []]);
    expect(await stockOf(a.id)).toBe(0);
  });

  it('a retry that finds stock for a line the recorded outcome says was short gives it back: the outcome stands', async () => {
    const a = await createProduct(http, seller, { stock: 5 });
    const b = await createProduct(http, seller, { stock: 5 });
    const orderId = await placeOrder([
      { productId: a.id, quantity: 2 },
      { productId: b.id, quantity: 2 },
    ]);
    // The earlier run took a's stock, found b's gone (sold meanwhile), recorded `short` and died
    // before caching it: the cache still says pending. Then b was restocked.
    await earlierRunTook(orderId, a.id, 2);
    await recordInventoryOutcomes([
      { orderId, shortItems: [{ productId: new Types.ObjectId(b.id), requested: 2, available: 0 }] },
    ]);

    await reduceAll([orderId]);
    await reduceAll([orderId]);
    const order = (await readOrder(orderId))!;
    expect([order.inventoryStatus, order.shortItems.map((s) => String(s.productId))]).toEqual(['short', [b.id]]);
    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([3, 5]);
    // b's take went back as a restore move: a later cancel gives back a alone.
    expect((await InventoryMove.find({ orderId }).lean()).map((m) => m._id).sort()).toEqual(
      [`reduce:${orderId}:${a.id}`, `reduce:${orderId}:${b.id}`, `restore:${orderId}:${b.id}`].sort(),
    );
    expect(await http.request('DELETE', `/api/orders/${orderId}`, { token: customer.token })).toMatchObject({
      status: 200,
    });
    await restoreInventoryForOrder(ctx, orderId, log);
    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([5, 5]);
  });

  it('a batch decided on cached orders that are behind the database: the newer change is kept', async () => {
    const a = await createProduct(http, seller, { stock: 10 });
    const ids = [
      await placeOrder([{ productId: a.id, quantity: 1 }]),
      await placeOrder([{ productId: a.id, quantity: 1 }]),
    ];
    // Another writer changed the first order (version 2) and died before writing its cache:
    // the cache still holds version 1.
    const set = { status: 'cancelled', cancelReason: 'changed my mind', version: 2 };
    await OrderRevision.create({ _id: revisionId(ids[0]!, 2), orderId: ids[0], version: 2, set });
    await Order.collection.updateOne({ _id: new Order({ _id: ids[0] })._id }, { $set: set });

    await reduceAll(ids);
    // The outcome is a record of its own: the order keeps its version and the other writer's change.
    const [first, second] = await Promise.all(ids.map((id) => readOrder(id)));
    expect([first!.status, first!.cancelReason, first!.inventoryStatus, first!.version]).toEqual([
      'cancelled',
      'changed my mind',
      'reduced',
      2,
    ]);
    expect([second!.inventoryStatus, second!.version]).toEqual(['reduced', 1]);
    expect(await stockOf(a.id)).toBe(8);
  });

  it('a batch whose writer died after recording its moves, before the stock change: they are taken back, then each moves once', async () => {
    const a = await createProduct(http, seller, { stock: 10 });
    const ids = [
      await placeOrder([{ productId: a.id, quantity: 2 }]),
      await placeOrder([{ productId: a.id, quantity: 2 }]),
      await placeOrder([{ productId: a.id, quantity: 2 }]),
    ];
    const record = (orderId: string, batch: string) => ({
      _id: `reduce:${orderId}:${a.id}`,
      kind: 'reduce' as const,
      orderId,
      productId: a.id,
      quantity: 2,
      batch,
    });
    // The third order's move was made by an earlier run that died before the order said so.
    await Product.updateOne({ _id: a.id }, { $inc: { stock: -2 } });
    await InventoryMove.create(record(ids[2]!, 'earlier'));
    // Then a batch named the first and third moves, recorded the first (the third was refused
    // as a duplicate) and died before taking its records back or changing the stock.
    await Product.updateOne(
      { _id: a.id },
      { $set: { intendedMoves: { batch: 'dead', ids: [`reduce:${ids[0]}:${a.id}`, `reduce:${ids[2]}:${a.id}`] } } },
    );
    await InventoryMove.create(record(ids[0]!, 'dead'));

    await reduceAll(ids);
    expect(await stockOf(a.id)).toBe(4);
    const moves = await InventoryMove.find({ productId: a.id }).lean();
    expect(moves.map((m) => m._id).sort()).toEqual(ids.map((id) => `reduce:${id}:${a.id}`).sort());
    expect(moves.find((m) => m._id === `reduce:${ids[2]}:${a.id}`)!.batch).toBe('earlier');
    expect((await Product.findById(a.id).select('+intendedMoves').lean())!.intendedMoves).toBeUndefined();
    expect(await statuses(ids)).toEqual(['reduced', 'reduced', 'reduced']);
  });

  it('a batch whose writer died after the stock change: the retried batch records its moves, nothing twice', async () => {
    const a = await createProduct(http, seller, { stock: 10 });
    const ids = [
      await placeOrder([{ productId: a.id, quantity: 2 }]),
      await placeOrder([{ productId: a.id, quantity: 2 }]),
      await placeOrder([{ productId: a.id, quantity: 2 }]),
    ];
    // What a batch that died between its stock change and its records leaves: two moves pending.
    const pendingMoves = ids
      .slice(0, 2)
      .map((orderId) => ({ id: `reduce:${orderId}:${a.id}`, kind: 'reduce', orderId, quantity: 2 }));
    await Product.updateOne({ _id: a.id }, { $inc: { stock: -4 }, $set: { pendingMoves } });

    await reduceAll(ids);
    expect(await stockOf(a.id)).toBe(4);
    expect(await InventoryMove.countDocuments({ productId: a.id })).toBe(3);
    expect((await Product.findById(a.id).select('+pendingMoves').lean())!.pendingMoves).toBeUndefined();
    expect(await statuses(ids)).toEqual(['reduced', 'reduced', 'reduced']);

    // Died after its records but before recording the orders' outcomes (and with the order caches
    // gone with Redis): the retry moves nothing again.
    await InventoryOutcome.deleteMany({ _id: { $in: ids } });
    expect(await statuses(ids)).toEqual(['pending', 'pending', 'pending']);
    await ctx.redis.del(...ids.flatMap((id) => [orderCacheKeys.order(id), orderCacheKeys.version(id)]));
    await reduceAll(ids);
    await reduceAll(ids);
    expect(await stockOf(a.id)).toBe(4);
    expect(await InventoryMove.countDocuments({ productId: a.id })).toBe(3);
    expect(await statuses(ids)).toEqual(['reduced', 'reduced', 'reduced']);
  });
});
