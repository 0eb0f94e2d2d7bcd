import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InventoryOutcome, readOrder, recordInventoryOutcomes } from '../src/order-flow/inventory-outcome.js';
import { cacheOrders, cacheOutcomes, orderCacheKeys } from '../src/order-flow/order-cache.js';
import { cacheAsStored, warmCaches } from '../src/order-flow/order-cache-warming.js';
import { toPublicOrder, type PublicOrder } from '../src/order-flow/order-view.js';
import { Order } from '../src/order-flow/order.model.js';
import type { WorkerSystem } from '../workers/system.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody, owedJobsOf } from './helpers/orders.js';
import { eventually } from './helpers/processes.js';
import { startTestApi, startTestWorkers, type TestApi } from './helpers/system.js';

// The reduction's outcome is a record beside the order (order-flow/inventory-outcome.ts), with no
// version of its own: the caches order states by version and inventory rank, both only forward.
let api: TestApi;
let http: HttpClient;
let redis: Redis;
let seller: Actor;
let customer: Actor;

beforeAll(async () => {
  api = await startTestApi();
  http = httpClient(api.url);
  redis = new Redis(api.config.REDIS_URL);
  const admin = await loginAdmin(http);
  [seller, customer] = await Promise.all([createActor(http, admin, 'seller'), registerCustomer(http)]);
});
afterAll(async () => {
  redis?.disconnect();
  await api?.close();
});

async function placeOrder(productId: string, quantity = 1): Promise<string> {
  const res = await http.post('/api/orders', orderBody([{ productId, quantity }]), { token: customer.token });
  expect(res.status).toBe(201);
  return res.body.orders[0].id as string;
}

const cachedJson = async (id: string) => JSON.parse((await redis.get(orderCacheKeys.order(id)))!) as PublicOrder;
const storedView = async (id: string) => toPublicOrder((await readOrder(id))!);

describe('caches of an order whose outcome is recorded beside it (no workers)', () => {
  it('a change decided before the outcome never hides it: the cache refuses it and the stored order is cached', async () => {
    const product = await createProduct(http, seller, { stock: 10 });
    const id = await placeOrder(product.id);
    // A writer reads the order (pending) and is slow.
    const before = await storedView(id);
    expect(before).toMatchObject({ version: 1, inventoryStatus: 'pending' });

    // Meanwhile the outcome is recorded and cached: the same version, further along in inventory.
    await recordInventoryOutcomes([{ orderId: id, shortItems: [] }]);
    const outcome = await storedView(id);
    expect(outcome).toMatchObject({ version: 1, inventoryStatus: 'reduced' });
    expect(await cacheOutcomes(redis, [outcome])).toEqual([true]);
    expect(await cachedJson(id)).toEqual(outcome);
    // Only the order's own key and the state moved: the keys derived from the version stay.
    expect(await redis.get(orderCacheKeys.version(id))).toBe('1:1');
    expect(await redis.get(orderCacheKeys.status(id))).toBe('pending');

    // The slow writer stores version 2 (not knowing the outcome) and caches what it decided on.
    const confirmed = { ...before, status: 'confirmed' as const, version: 2 };
    await Order.updateOne({ _id: id }, { $set: { status: 'confirmed', version: 2 } });
    expect(await cacheOrders(redis, [confirmed])).toEqual([false]);
    expect(await cachedJson(id)).toEqual(outcome);

    // Refused, it caches the order as stored, which has both. Even when its first read of the stored
    // order was taken before the outcome (a `warm-order` job owed by the change, say): refused
    // again, it reads the order again.
    const staleRead = { ...(await readOrder(id))!, inventoryStatus: 'pending' as const, shortItems: [] };
    expect(await warmCaches(redis, staleRead)).toBe(false);
    expect(await cacheAsStored(redis, id, staleRead)).toBe(true);
    const both = await cachedJson(id);
    expect(both).toMatchObject({ version: 2, status: 'confirmed', inventoryStatus: 'reduced' });
    expect(await redis.get(orderCacheKeys.version(id))).toBe('2:1');
    expect(await redis.get(orderCacheKeys.status(id))).toBe('confirmed');

    // Late writers of either older state change nothing, and are told a newer state is cached.
    expect(await cacheOrders(redis, [outcome, confirmed])).toEqual([true, true]);
    expect(await cacheOutcomes(redis, [outcome])).toEqual([true]);
    expect(await cachedJson(id)).toEqual(both);
    const read = await http.get(`/api/orders/${id}`, { token: customer.token });
    expect(read.body).toEqual(both);
  });

  it('the outcome cached after a change it did not see is refused the same way', async () => {
    const product = await createProduct(http, seller, { stock: 10 });
    const id = await placeOrder(product.id);
    const before = await storedView(id);
    const confirm = await http.request('PUT', `/api/orders/${id}/confirm`, { token: seller.token });
    expect(confirm.body).toMatchObject({ version: 2, status: 'confirmed', inventoryStatus: 'pending' });

    // The outcome, decided on the version 1 the reduction read, arrives after the confirm's cache.
    await recordInventoryOutcomes([{ orderId: id, shortItems: [] }]);
    expect(await cacheOutcomes(redis, [{ ...before, inventoryStatus: 'reduced' }])).toEqual([false]);
    expect(await cachedJson(id)).toMatchObject({ version: 2, inventoryStatus: 'pending' });
    expect(await cacheAsStored(redis, id)).toBe(true);
    expect(await cachedJson(id)).toMatchObject({ version: 2, status: 'confirmed', inventoryStatus: 'reduced' });
  });

  it('an order expired from the cache is filled again at the state its version key names', async () => {
    const product = await createProduct(http, seller, { stock: 10 });
    const id = await placeOrder(product.id);
    await recordInventoryOutcomes([{ orderId: id, shortItems: [] }]);
    expect(await cacheOutcomes(redis, [await storedView(id)])).toEqual([true]);
    // The order's key lives 5 minutes, the version's an hour.
    await redis.del(orderCacheKeys.order(id));
    const read = await http.get(`/api/orders/${id}`, { token: customer.token });
    expect(read.body.inventoryStatus).toBe('reduced');
    expect(await cachedJson(id)).toEqual(read.body);
  });

  it('an outcome is not cached where the cache lost its order: the order as stored is', async () => {
    const product = await createProduct(http, seller, { stock: 10 });
    const id = await placeOrder(product.id);
    const decidedOn = await storedView(id);
    // Redis lost the order (restarted empty), and a change landed that nobody cached since.
    await redis.del(orderCacheKeys.order(id), orderCacheKeys.version(id), orderCacheKeys.status(id));
    await Order.updateOne({ _id: id }, { $set: { status: 'confirmed', version: 2 } });
    await recordInventoryOutcomes([{ orderId: id, shortItems: [] }]);

    // The view the outcome was decided on is behind: writing it would put version 1 back.
    expect(await cacheOutcomes(redis, [{ ...decidedOn, inventoryStatus: 'reduced' }])).toEqual([false]);
    expect(await redis.exists(orderCacheKeys.order(id), orderCacheKeys.version(id))).toBe(0);
    expect(await cacheAsStored(redis, id)).toBe(true);
    expect(await cachedJson(id)).toMatchObject({ version: 2, status: 'confirmed', inventoryStatus: 'reduced' });
    expect(await redis.get(orderCacheKeys.status(id))).toBe('confirmed');
  });

  it('an outcome recorded twice keeps the first; reads merge it in until a change folds it into the order', async () => {
    const product = await createProduct(http, seller, { stock: 10 });
    const id = await placeOrder(product.id);
    const shortItems = [{ productId: (await readOrder(id))!.items[0]!.productId, requested: 1, available: 0 }];
    const [first] = [...(await recordInventoryOutcomes([{ orderId: id, shortItems }])).values()];
    const [second] = [...(await recordInventoryOutcomes([{ orderId: id, shortItems: [] }])).values()];
    expect(second).toEqual(first);
    expect(await InventoryOutcome.countDocuments({ _id: id })).toBe(1);
    expect((await Order.findById(id).lean())!.inventoryStatus).toBe('pending');
    expect((await readOrder(id))!.inventoryStatus).toBe('short');

    await redis.del(orderCacheKeys.order(id), orderCacheKeys.version(id));
    const read = await http.get(`/api/orders/${id}`, { token: customer.token });
    expect(read.body).toMatchObject({
      inventoryStatus: 'short',
      shortItems: [{ productId: product.id, available: 0 }],
    });

    const confirm = await http.request('PUT', `/api/orders/${id}/confirm`, { token: seller.token });
    expect(confirm.body).toMatchObject({ version: 2, inventoryStatus: 'short' });
    const stored = (await Order.findById(id).lean())!;
    expect([stored.inventoryStatus, stored.shortItems.length]).toEqual(['short', 1]);
  });
});

describe('with real workers', () => {
  let workers: WorkerSystem;
  beforeAll(() => {
    workers = startTestWorkers(api.config);
  });
  afterAll(() => workers?.close());

  it('orders confirmed while their stock is being reduced end cached as stored: confirmed and reduced', async () => {
    const product = await createProduct(http, seller, { stock: 1_000 });
    const ids = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const id = await placeOrder(product.id);
        // Half are confirmed at once, racing the reduction; the other half a moment later.
        if (i % 2) await new Promise((resolve) => setTimeout(resolve, 20));
        const confirm = await http.request('PUT', `/api/orders/${id}/confirm`, { token: seller.token });
        expect(confirm.status).toBe(200);
        return id;
      }),
    );
    await eventually(async () => {
      expect(await owedJobsOf(ids)).toEqual([]);
      for (const id of ids) {
        const stored = await storedView(id);
        expect([stored.status, stored.inventoryStatus]).toEqual(['confirmed', 'reduced']);
        expect(await cachedJson(id)).toEqual(stored);
      }
    }, 30_000);
    expect((await http.get(`/api/products/${product.id}`, { token: customer.token })).body.stock).toBe(1_000 - 24);
  });
});
