import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  indexOrder,
  orderIndexKeys,
  pageFromIndex,
  rebuildOrderIndex,
  statsFromIndex,
} from '../src/order-flow/order-index.js';
import { invalidateOrderStats } from '../src/order-flow/order-stats.js';
import { ListOrdersQuerySchema } from '../src/features/orders/orders.schemas.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { eventually } from './helpers/processes.js';
import { startTestApi, startTestWorkers, type TestApi } from './helpers/system.js';

// The list index must answer exactly what MongoDB answers. Every comparison
// below asks both: MongoDB by taking the index's "ready" mark away, the index by
// putting it back (and checking it did answer).
let api: TestApi;
let http: HttpClient;
let redis: Redis;
let admin: Actor;
let seller1: Actor;
let seller2: Actor;
let zara: Actor;
let mira: Actor;
const placed: any[] = [];

const QUERIES = [
  '',
  'status=pending',
  'status=pending,confirmed,cancelled',
  'limit=2&page=2',
  'sort=createdAt&limit=3',
  'status=confirmed,pending&limit=1&page=3',
  'startDate=2000-01-01&endDate=2999-12-31',
  'startDate=2999-01-01',
];

const query = (q: string) => ListOrdersQuerySchema.parse(Object.fromEntries(new URLSearchParams(q)));

async function fromMongo(actor: Actor, q: string) {
  await redis.del(orderIndexKeys().ready);
  const res = await http.get(`/api/orders?${q}`, { token: actor.token });
  await redis.set(orderIndexKeys().ready, 'test');
  expect(res.status).toBe(200);
  return res.body;
}

async function fromIndex(actor: Actor, q: string) {
  expect(await pageFromIndex(redis, actor, query(q))).toBeDefined();
  const res = await http.get(`/api/orders?${q}`, { token: actor.token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function place(customer: Actor, productId: string) {
  const res = await http.post('/api/orders', orderBody([{ productId, quantity: 1 }]), { token: customer.token });
  expect(res.status).toBe(201);
  placed.push(...res.body.orders);
  return res.body.orders[0];
}

async function deleteIndex() {
  const keys = await redis.keys(orderIndexKeys().pattern);
  if (keys.length) await redis.del(...keys);
}

beforeAll(async () => {
  api = await startTestApi();
  http = httpClient(api.url);
  redis = new Redis(api.config.REDIS_URL);
  admin = await loginAdmin(http);
  [seller1, seller2, zara, mira] = await Promise.all([
    createActor(http, admin, 'seller'),
    createActor(http, admin, 'seller'),
    registerCustomer(http),
    registerCustomer(http),
  ]);
  const [p1, p2] = await Promise.all([
    createProduct(http, seller1, { price: 500, stock: 100 }),
    createProduct(http, seller2, { price: 900, stock: 100 }),
  ]);
  // One at a time, so creation times differ; the two-seller checkout shares one.
  for (const [customer, product] of [
    [zara, p1],
    [mira, p1],
    [zara, p2],
    [mira, p2],
    [zara, p1],
  ] as const) {
    await place(customer, product.id);
  }
  const split = await http.post(
    '/api/orders',
    orderBody([
      { productId: p1.id, quantity: 2 },
      { productId: p2.id, quantity: 2 },
    ]),
    { token: mira.token },
  );
  expect(split.status).toBe(201);
  placed.push(...split.body.orders);
  expect((await http.request('PUT', `/api/orders/${placed[1].id}/confirm`, { token: seller1.token })).status).toBe(200);
  expect((await http.request('PUT', `/api/orders/${placed[3].id}/confirm`, { token: seller2.token })).status).toBe(200);
  expect((await http.request('DELETE', `/api/orders/${placed[4].id}`, { token: zara.token })).status).toBe(200);
  // Every write above filed its order as it went; only the ready mark is missing.
  expect(await rebuildOrderIndex(redis)).toBe(placed.length);
});
afterAll(async () => {
  await redis?.quit();
  await api?.close();
});

describe('the order list index', () => {
  it('answers every list query as MongoDB does, for each kind of caller', async () => {
    for (const actor of [admin, seller1, seller2, zara, mira]) {
      for (const q of QUERIES) {
        const expected = await fromMongo(actor, q);
        expect(await fromIndex(actor, q), `${actor.role} ?${q}`).toEqual(expected);
      }
    }
    // Sanity: the fixture is what the comparisons assume.
    expect((await fromIndex(admin, '')).total).toBe(placed.length);
    expect((await fromIndex(admin, 'status=cancelled')).data.map((o: any) => o.id)).toEqual([placed[4].id]);
  });

  it('answers a seller asking for another seller with nothing, and staff asking for a seller with theirs', async () => {
    const other = await fromIndex(seller1, `sellerId=${seller2.id}`);
    expect(other).toMatchObject({ data: [], total: 0 });
    expect(await fromIndex(admin, `sellerId=${seller2.id}`)).toEqual(await fromMongo(admin, `sellerId=${seller2.id}`));
  });

  it('leaves to MongoDB what it does not keep: search, payment status, other sorts', async () => {
    for (const q of ['search=zz', 'paymentStatus=unpaid', 'sort=-totalAmount']) {
      expect(await pageFromIndex(redis, admin, query(q))).toBeUndefined();
    }
    expect(await pageFromIndex(redis, zara, query(`sellerId=${seller1.id}`))).toBeUndefined();
  });

  it('moves an order between statuses when it changes, and its stats follow', async () => {
    const order = placed[0];
    expect((await fromIndex(admin, 'status=pending')).data.map((o: any) => o.id)).toContain(order.id);
    expect((await http.request('PUT', `/api/orders/${order.id}/confirm`, { token: seller1.token })).status).toBe(200);
    expect((await fromIndex(admin, 'status=pending')).data.map((o: any) => o.id)).not.toContain(order.id);
    expect((await fromIndex(admin, 'status=confirmed')).data.map((o: any) => o.id)).toContain(order.id);

    for (const actor of [admin, seller1, zara]) {
      await invalidateOrderStats(redis);
      await redis.del(orderIndexKeys().ready);
      const fromDatabase = (await http.get('/api/orders/stats', { token: actor.token })).body;
      await redis.set(orderIndexKeys().ready, 'test');
      const scope =
        actor.role === 'admin' ? { kind: 'all' as const } : { kind: actor.role as 'seller' | 'customer', id: actor.id };
      expect(await statsFromIndex(redis, scope)).toEqual(fromDatabase);
    }
  });

  it('never files an order under an older version than the one it holds', async () => {
    const order = placed[1];
    const current = (await http.get(`/api/orders/${order.id}`, { token: admin.token })).body;
    expect(current.status).toBe('confirmed');
    await indexOrder(redis, {
      id: order.id,
      version: current.version - 1,
      createdAt: order.createdAt,
      status: 'pending',
      paymentStatus: 'unpaid',
      sellerId: order.seller.id,
      customerId: order.customer.id,
    });
    expect((await fromIndex(admin, 'status=pending')).data.map((o: any) => o.id)).not.toContain(order.id);
    expect((await fromIndex(admin, 'status=confirmed')).data.map((o: any) => o.id)).toContain(order.id);
  });

  it('when Redis loses it, lists come from MongoDB until a rebuild makes it whole again', async () => {
    const before = await fromIndex(mira, '');
    await deleteIndex();
    expect(await pageFromIndex(redis, mira, query(''))).toBeUndefined();
    const res = await http.get('/api/orders', { token: mira.token });
    expect(res.body).toEqual(before);

    expect(await rebuildOrderIndex(redis)).toBe(placed.length);
    for (const actor of [admin, seller2, mira]) {
      for (const q of QUERIES)
        expect(await fromIndex(actor, q), `${actor.role} ?${q}`).toEqual(await fromMongo(actor, q));
    }
  });

  it('is rebuilt by the worker’s maintenance schedule when it is missing', async () => {
    await deleteIndex();
    const workers = startTestWorkers(api.config);
    try {
      await eventually(async () => expect(await redis.exists(orderIndexKeys().ready)).toBe(1), 30_000);
      // The workers also run the jobs the orders owed (inventory, cache), which change them: compare once settled.
      await eventually(async () => expect(await fromIndex(admin, '')).toEqual(await fromMongo(admin, '')), 30_000);
    } finally {
      await workers.close();
    }
  });
});
