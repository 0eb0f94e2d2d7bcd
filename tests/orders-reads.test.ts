import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Order } from '../src/order-flow/order.model.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { startTestApi, type TestApi } from './helpers/system.js';

// No workers here: reads are what is under test, and without the cache-warming
// job every cache entry seen below was written by the request that the test made.
let api: TestApi;
let http: HttpClient;
let redis: Redis;
let admin: Actor;
let staff: Actor;
let seller1: Actor;
let seller2: Actor;
let zara: Actor;
let mira: Actor;

type Product = Awaited<ReturnType<typeof createProduct>>;
let p1: Product;
let p2: Product;
let p3: Product;
/** The fixture orders, by name; see beforeAll. */
const o: Record<'o1' | 'o2' | 'o3' | 'o4a' | 'o4b', any> = {} as any;

/** In progress: a delivery holds one unit of the first line (the status follows from deliveries). */
const startDelivery = (order: { id: string; items: Array<{ productId: string }> }, token: string) =>
  http.post(
    `/api/orders/${order.id}/deliveries`,
    { items: [{ productId: order.items[0]!.productId, quantity: 1 }] },
    { token },
  );
const put = (path: string, token: string, body?: unknown) => http.request('PUT', path, { token, body });
const del = (path: string, token: string) => http.request('DELETE', path, { token });
const ids = (page: { data: Array<{ id: string }> }) => page.data.map((order) => order.id).sort();
const idsOf = (...orders: Array<{ id: string }>) => orders.map((order) => order.id).sort();

async function place(customer: Actor, items: Array<{ productId: string; quantity: number }>) {
  const res = await http.post('/api/orders', orderBody(items), { token: customer.token });
  expect(res.status).toBe(201);
  return res.body.orders as any[];
}

beforeAll(async () => {
  api = await startTestApi();
  http = httpClient(api.url);
  redis = new Redis(api.config.REDIS_URL);
  admin = await loginAdmin(http);
  [staff, seller1, seller2, zara, mira] = await Promise.all([
    createActor(http, admin, 'staff'),
    createActor(http, admin, 'seller', 'Reads Seller One'),
    createActor(http, admin, 'seller', 'Reads Seller Two'),
    registerCustomer(http, "Zara (VIP) O'Neil"),
    registerCustomer(http, 'Mira Kapoor'),
  ]);
  [p1, p2, p3] = await Promise.all([
    createProduct(http, seller1, { price: 1_000, stock: 100 }),
    createProduct(http, seller1, { price: 300, stock: 100 }),
    createProduct(http, seller2, { price: 700, stock: 100 }),
  ]);
  // seller1: o1 (Zara, 2000, pending), o2 (Mira, 300, confirmed), o4a (Zara, 2200, in_progress)
  // seller2: o3 (Mira, 2100, pending), o4b (Zara, 700, pending)
  [o.o1] = await place(zara, [{ productId: p1.id, quantity: 2 }]);
  [o.o2] = await place(mira, [{ productId: p2.id, quantity: 1 }]);
  [o.o3] = await place(mira, [{ productId: p3.id, quantity: 3 }]);
  const split = await place(zara, [
    { productId: p1.id, quantity: 1 },
    { productId: p2.id, quantity: 4 },
    { productId: p3.id, quantity: 1 },
  ]);
  o.o4a = split.find((order) => order.seller.id === seller1.id);
  o.o4b = split.find((order) => order.seller.id === seller2.id);
  expect([o.o1, o.o2, o.o3, o.o4a, o.o4b].map((order) => order.totalAmount)).toEqual([2_000, 300, 2_100, 2_200, 700]);

  expect((await put(`/api/orders/${o.o2.id}/confirm`, seller1.token)).status).toBe(200);
  expect((await put(`/api/orders/${o.o4a.id}/confirm`, seller1.token)).status).toBe(200);
  expect((await startDelivery(o.o4a, seller1.token)).status).toBe(201);
});
afterAll(async () => {
  await redis?.quit();
  await api?.close();
});

describe('who sees which orders', () => {
  it('a customer lists only its own orders', async () => {
    const asZara = await http.get('/api/orders', { token: zara.token });
    expect(asZara.status).toBe(200);
    expect(ids(asZara.body)).toEqual(idsOf(o.o1, o.o4a, o.o4b));
    expect(asZara.body.total).toBe(3);
    expect(asZara.body.data.every((order: any) => order.customer.id === zara.id)).toBe(true);

    const asMira = await http.get('/api/orders', { token: mira.token });
    expect(ids(asMira.body)).toEqual(idsOf(o.o2, o.o3));
    // A customer naming a seller still only sees its own orders from that seller.
    const zaraFromSeller2 = await http.get(`/api/orders?sellerId=${seller2.id}`, { token: zara.token });
    expect(ids(zaraFromSeller2.body)).toEqual(idsOf(o.o4b));
  });

  it('a seller lists only its own orders; naming another seller gives an empty page', async () => {
    const own = await http.get('/api/orders', { token: seller1.token });
    expect(ids(own.body)).toEqual(idsOf(o.o1, o.o2, o.o4a));
    expect(own.body.total).toBe(3);

    const other = await http.get(`/api/orders?sellerId=${seller2.id}`, { token: seller1.token });
    expect(other.status).toBe(200);
    expect(other.body).toEqual({ data: [], page: 1, limit: 20, total: 0, totalPages: 0 });

    const named = await http.get(`/api/orders?sellerId=${seller1.id}`, { token: seller1.token });
    expect(ids(named.body)).toEqual(idsOf(o.o1, o.o2, o.o4a));

    const asSeller2 = await http.get('/api/orders', { token: seller2.token });
    expect(ids(asSeller2.body)).toEqual(idsOf(o.o3, o.o4b));
  });

  it('staff and admins list every order, and may narrow to one seller', async () => {
    const everything = await Order.countDocuments();
    for (const actor of [staff, admin]) {
      const all = await http.get('/api/orders?limit=100', { token: actor.token });
      expect(all.status, actor.role).toBe(200);
      expect(all.body.total).toBe(everything);
      expect(ids(all.body)).toEqual(expect.arrayContaining(idsOf(o.o1, o.o2, o.o3, o.o4a, o.o4b)));
      const one = await http.get(`/api/orders?sellerId=${seller2.id}`, { token: actor.token });
      expect(ids(one.body)).toEqual(idsOf(o.o3, o.o4b));
    }
  });

  it("another customer's or seller's order is a 404 that says nothing about it, even once it is cached", async () => {
    // Filled into the cache by a reader who may see it.
    expect((await http.get(`/api/orders/${o.o1.id}`, { token: admin.token })).status).toBe(200);
    expect(await redis.exists(`order:${o.o1.id}`)).toBe(1);

    for (const actor of [mira, seller2]) {
      for (const suffix of ['', '/remaining', '/progress']) {
        const res = await http.get(`/api/orders/${o.o1.id}${suffix}`, { token: actor.token });
        expect(res.status, `${actor.role} ${suffix}`).toBe(404);
        const text = JSON.stringify(res.body);
        expect(text).not.toContain(o.o1.orderNumber);
        expect(text).not.toContain('pending');
        expect(text).not.toContain(zara.id);
      }
    }
    // An id that does not exist looks the same.
    const missing = await http.get('/api/orders/aaaaaaaaaaaaaaaaaaaaaaaa', { token: mira.token });
    expect(missing.status).toBe(404);
    expect((await http.get('/api/orders/not-an-id', { token: mira.token })).status).toBe(400);

    for (const actor of [zara, seller1, staff, admin]) {
      const res = await http.get(`/api/orders/${o.o1.id}`, { token: actor.token });
      expect(res.status, actor.role).toBe(200);
      expect(res.body.orderNumber).toBe(o.o1.orderNumber);
    }
  });

  it('reads need a token', async () => {
    expect((await http.get('/api/orders')).status).toBe(401);
    expect((await http.get(`/api/orders/${o.o1.id}`)).status).toBe(401);
    expect((await http.get('/api/orders/stats')).status).toBe(401);
  });

  it('GET /api/orders/seller is for sellers: their own orders, same query', async () => {
    const res = await http.get('/api/orders/seller', { token: seller1.token });
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(idsOf(o.o1, o.o2, o.o4a));
    const filtered = await http.get('/api/orders/seller?status=confirmed', { token: seller1.token });
    expect(ids(filtered.body)).toEqual(idsOf(o.o2));
    expect((await http.get('/api/orders/seller', { token: zara.token })).status).toBe(403);
    expect((await http.get('/api/orders/seller', { token: staff.token })).status).toBe(403);
  });
});

describe('list filters, sorting and pages', () => {
  it('filters by status, one or a comma list', async () => {
    const get = (q: string) => http.get(`/api/orders?${q}`, { token: seller1.token });
    expect(ids((await get('status=pending')).body)).toEqual(idsOf(o.o1));
    expect(ids((await get('status=pending,confirmed')).body)).toEqual(idsOf(o.o1, o.o2));
    expect(ids((await get(`status=${encodeURIComponent(' confirmed , in_progress ')}`)).body)).toEqual(
      idsOf(o.o2, o.o4a),
    );
    expect((await get('status=cancelled')).body.total).toBe(0);
    expect((await get('status=pending,teleported')).status).toBe(400);
    expect((await get('status=')).status).toBe(400);
  });

  it('filters by paymentStatus', async () => {
    const get = (q: string) => http.get(`/api/orders?${q}`, { token: admin.token });
    expect(ids((await get(`sellerId=${seller2.id}&paymentStatus=unpaid`)).body)).toEqual(idsOf(o.o3, o.o4b));
    expect((await get(`sellerId=${seller2.id}&paymentStatus=paid`)).body.total).toBe(0);
    // Payments have no endpoint yet, so the test records one in the database.
    await Order.updateOne(
      { _id: o.o3.id },
      { $set: { paymentStatus: 'partially_paid', paidAmount: 1_000 }, $inc: { version: 1 } },
    );
    expect(ids((await get(`sellerId=${seller2.id}&paymentStatus=partially_paid`)).body)).toEqual(idsOf(o.o3));
    expect(ids((await get(`sellerId=${seller2.id}&paymentStatus=unpaid`)).body)).toEqual(idsOf(o.o4b));
    expect((await get('paymentStatus=free')).status).toBe(400);
  });

  it('searches order number, customer name and email: case-insensitive, literal text', async () => {
    const search = (text: string, actor = admin) =>
      http.get(`/api/orders?limit=100&search=${encodeURIComponent(text)}`, { token: actor.token });

    expect(ids((await search(o.o3.orderNumber)).body)).toEqual(idsOf(o.o3));
    expect(ids((await search(o.o3.orderNumber.toLowerCase())).body)).toEqual(idsOf(o.o3));
    expect(ids((await search(o.o3.orderNumber.slice(-6))).body)).toEqual(idsOf(o.o3));

    const zaras = idsOf(o.o1, o.o4a, o.o4b);
    expect(ids((await search('zara (vip)')).body)).toEqual(zaras);
    expect(ids((await search("O'NEIL")).body)).toEqual(zaras);
    // Regex syntax is plain text: an unbalanced "(" is not an error, ".*" matches nothing.
    const paren = await search('(VIP');
    expect(paren.status).toBe(200);
    expect(ids(paren.body)).toEqual(zaras);
    expect((await search('.*')).body.total).toBe(0);
    expect((await search('Zara.*Neil')).body.total).toBe(0);

    expect(ids((await search(mira.email.toUpperCase())).body)).toEqual(idsOf(o.o2, o.o3));
    // Search stays inside the caller's scope.
    expect(ids((await search('mira', seller1)).body)).toEqual(idsOf(o.o2));
    expect(ids((await search('zara', mira)).body)).toEqual([]);
  });

  it('filters by startDate and endDate, both inclusive whole days; a bad date is 400', async () => {
    const today = String(o.o1.createdAt).slice(0, 10);
    const shift = (days: number) =>
      new Date(Date.parse(`${today}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
    const get = (q: string) => http.get(`/api/orders?${q}`, { token: seller1.token });
    const mine = idsOf(o.o1, o.o2, o.o4a);

    expect(ids((await get(`startDate=${today}&endDate=${today}`)).body)).toEqual(mine);
    expect(ids((await get(`startDate=${today}`)).body)).toEqual(mine);
    expect(ids((await get(`endDate=${today}`)).body)).toEqual(mine);
    expect(ids((await get(`startDate=${shift(-3)}&endDate=${shift(3)}`)).body)).toEqual(mine);
    expect((await get(`endDate=${shift(-1)}`)).body.total).toBe(0);
    expect((await get(`startDate=${shift(1)}`)).body.total).toBe(0);

    for (const bad of ['startDate=2024-13-01', 'endDate=15/01/2024', 'startDate=yesterday', 'endDate=2024-1-5']) {
      const res = await get(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.errors[0].path).toBe(`query.${bad.split('=')[0]}`);
    }
  });

  it('sorts by totalAmount either way, and by createdAt', async () => {
    const get = (q: string) => http.get(`/api/orders?${q}`, { token: seller1.token });
    const amounts = (res: any) => res.body.data.map((order: any) => order.totalAmount);
    expect(amounts(await get('sort=totalAmount'))).toEqual([300, 2_000, 2_200]);
    expect(amounts(await get('sort=-totalAmount'))).toEqual([2_200, 2_000, 300]);
    expect((await get('sort=createdAt')).body.data.map((x: any) => x.id)).toEqual([o.o1.id, o.o2.id, o.o4a.id]);
    expect((await get('')).body.data.map((x: any) => x.id)).toEqual([o.o4a.id, o.o2.id, o.o1.id]);
    expect((await get('sort=price')).status).toBe(400);
  });

  it('pages: {data,page,limit,total,totalPages}; limit 1-100', async () => {
    const get = (q: string) => http.get(`/api/orders?sort=-totalAmount&${q}`, { token: seller1.token });
    const first = await get('limit=2&page=1');
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(['data', 'limit', 'page', 'total', 'totalPages']);
    expect({ ...first.body, data: first.body.data.map((x: any) => x.id) }).toEqual({
      data: [o.o4a.id, o.o1.id],
      page: 1,
      limit: 2,
      total: 3,
      totalPages: 2,
    });
    const second = await get('limit=2&page=2');
    expect({ ...second.body, data: second.body.data.map((x: any) => x.id) }).toEqual({
      data: [o.o2.id],
      page: 2,
      limit: 2,
      total: 3,
      totalPages: 2,
    });
    const beyond = await get('limit=2&page=3');
    expect(beyond.body).toEqual({ data: [], page: 3, limit: 2, total: 3, totalPages: 2 });
    expect((await get('limit=100')).status).toBe(200);
    for (const bad of ['limit=101', 'limit=0', 'page=0', 'limit=abc', 'page=-1']) {
      expect((await get(bad)).status, bad).toBe(400);
    }
    // Internal bookkeeping never leaves the server.
    const order = first.body.data[0];
    expect(order).not.toHaveProperty('outbox');
    expect(order).not.toHaveProperty('idempotencyKey');
    expect(order).not.toHaveProperty('deliveredUnits');
  });
});

describe('GET /api/orders/stats', () => {
  const stats = async (actor: Actor) => {
    const res = await http.get('/api/orders/stats', { token: actor.token });
    expect(res.status, actor.role).toBe(200);
    return res.body;
  };

  /** A seller with three orders (two by `buyer`, one by `other`; one confirmed), and one order of `buyer` elsewhere. */
  async function statsFixture() {
    const seller = await createActor(http, admin, 'seller', 'Stats Seller');
    const elsewhere = await createActor(http, admin, 'seller', 'Stats Elsewhere');
    const [buyer, other] = await Promise.all([registerCustomer(http), registerCustomer(http)]);
    const mine = await createProduct(http, seller, { price: 100, stock: 50 });
    const theirs = await createProduct(http, elsewhere, { price: 100, stock: 50 });
    const [a] = await place(buyer, [{ productId: mine.id, quantity: 1 }]);
    const [b] = await place(buyer, [{ productId: mine.id, quantity: 1 }]);
    await place(other, [{ productId: mine.id, quantity: 1 }]);
    await place(buyer, [{ productId: theirs.id, quantity: 1 }]);
    expect((await put(`/api/orders/${b.id}/confirm`, seller.token)).status).toBe(200);
    return { seller, elsewhere, buyer, other, a, b };
  }

  it('staff and admins count every order; a cancel or status change moves the counters at once', async () => {
    const { seller, a, b } = await statsFixture();
    const adminBefore = await stats(admin);
    expect(adminBefore).toEqual({
      totalOrders: await Order.countDocuments(),
      openOrders: await Order.countDocuments({ status: { $in: ['pending', 'confirmed'] } }),
      inProgressOrders: await Order.countDocuments({
        status: { $in: ['in_progress', 'shipped', 'partial_delivered', 'delivered'] },
      }),
      completedOrders: await Order.countDocuments({ status: 'completed' }),
      cancelledOrders: await Order.countDocuments({ status: 'cancelled' }),
      unpaidOrders: await Order.countDocuments({ paymentStatus: 'unpaid', status: { $ne: 'cancelled' } }),
    });
    expect(await stats(staff)).toEqual(adminBefore);
    // The seller-scoped unpaid count, read now, is cached too.
    expect((await stats(seller)).unpaidOrders).toBe(3);
    // A second read comes from the cache: the same counters.
    expect(await stats(admin)).toEqual(adminBefore);

    expect((await del(`/api/orders/${a.id}`, seller.token)).status).toBe(200);
    const adminAfterCancel = await stats(admin);
    expect(adminAfterCancel).toEqual({
      ...adminBefore,
      openOrders: adminBefore.openOrders - 1,
      cancelledOrders: adminBefore.cancelledOrders + 1,
      unpaidOrders: adminBefore.unpaidOrders - 1,
    });
    expect(await stats(staff)).toEqual(adminAfterCancel);
    // The seller's cached entry was invalidated by the same write.
    expect((await stats(seller)).unpaidOrders).toBe(2);

    expect((await startDelivery(b, seller.token)).status).toBe(201);
    expect(await stats(admin)).toEqual({
      ...adminAfterCancel,
      openOrders: adminAfterCancel.openOrders - 1,
      inProgressOrders: adminAfterCancel.inProgressOrders + 1,
    });
  });

  it('sellers and customers count their own orders; a cancel moves the counters at once', async () => {
    const { seller, elsewhere, buyer, other, a, b } = await statsFixture();
    const sellerBefore = await stats(seller);
    expect(sellerBefore).toEqual({
      totalOrders: 3,
      openOrders: 3,
      inProgressOrders: 0,
      completedOrders: 0,
      cancelledOrders: 0,
      unpaidOrders: 3,
    });
    const buyerBefore = await stats(buyer);
    expect(buyerBefore).toEqual({
      totalOrders: 3,
      openOrders: 3,
      inProgressOrders: 0,
      completedOrders: 0,
      cancelledOrders: 0,
      unpaidOrders: 3,
    });
    expect(await stats(seller)).toEqual(sellerBefore);

    expect((await del(`/api/orders/${a.id}`, seller.token)).status).toBe(200);
    expect(await stats(seller)).toEqual({ ...sellerBefore, openOrders: 2, cancelledOrders: 1, unpaidOrders: 2 });
    expect(await stats(buyer)).toEqual({ ...buyerBefore, openOrders: 2, cancelledOrders: 1, unpaidOrders: 2 });

    expect((await startDelivery(b, seller.token)).status).toBe(201);
    expect(await stats(seller)).toEqual({
      totalOrders: 3,
      openOrders: 1,
      inProgressOrders: 1,
      completedOrders: 0,
      cancelledOrders: 1,
      unpaidOrders: 2,
    });
    // Someone else's counters are untouched by all this.
    expect((await stats(elsewhere)).totalOrders).toBe(1);
    expect((await stats(other)).totalOrders).toBe(1);
  });
});

describe('remaining and progress', () => {
  it('GET /:id/remaining gives ordered, delivered and remaining per product', async () => {
    const expected = {
      orderId: o.o4a.id,
      items: {
        // Its one unit of p1 is held by the delivery that put the order in progress.
        [p1.id]: { total: 1, delivered: 0, remaining: 0 },
        [p2.id]: { total: 4, delivered: 0, remaining: 4 },
      },
    };
    for (const actor of [zara, seller1, staff, admin]) {
      const res = await http.get(`/api/orders/${o.o4a.id}/remaining`, { token: actor.token });
      expect(res.status, actor.role).toBe(200);
      expect(res.body, actor.role).toEqual(expected);
    }
  });

  it('GET /:id/progress gives {orderId, progress, status}', async () => {
    for (const actor of [zara, seller1, staff]) {
      expect((await http.get(`/api/orders/${o.o1.id}/progress`, { token: actor.token })).body).toEqual({
        orderId: o.o1.id,
        progress: 0,
        status: 'pending',
      });
      expect((await http.get(`/api/orders/${o.o4a.id}/progress`, { token: actor.token })).body).toEqual({
        orderId: o.o4a.id,
        progress: 0,
        status: 'in_progress',
      });
    }
  });
});

describe('caching', () => {
  it('a read fills order:<id>; a confirm is visible at once, in the order and in order:<id>:status', async () => {
    const product = await createProduct(http, seller1, { price: 450, stock: 10 });
    const [order] = await place(mira, [{ productId: product.id, quantity: 2 }]);
    await redis.del(`order:${order.id}`, `order:${order.id}:status`, `order:${order.id}:version`);

    const first = await http.get(`/api/orders/${order.id}`, { token: mira.token });
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('pending');
    const cached = await redis.get(`order:${order.id}`);
    expect(cached).not.toBeNull();
    expect(JSON.parse(cached!)).toEqual(first.body);
    expect(await redis.get(`order:${order.id}:status`)).toBe('pending');
    expect(await redis.ttl(`order:${order.id}`)).toBeGreaterThan(0);

    // Staff reads of progress use the status key; warm it, so a stale key would show.
    expect((await http.get(`/api/orders/${order.id}/progress`, { token: staff.token })).body.status).toBe('pending');

    const confirmed = await put(`/api/orders/${order.id}/confirm`, seller1.token);
    expect(confirmed.status).toBe(200);

    const after = await http.get(`/api/orders/${order.id}`, { token: mira.token });
    expect(after.body.status).toBe('confirmed');
    expect(after.body.version).toBe(confirmed.body.version);
    expect(await redis.get(`order:${order.id}:status`)).toBe('confirmed');
    // "version:inventory rank": no worker runs here, so the inventory is still pending (0).
    expect(await redis.get(`order:${order.id}:version`)).toBe(`${confirmed.body.version}:0`);
    expect(JSON.parse((await redis.get(`order:${order.id}`))!).status).toBe('confirmed');
    for (const actor of [staff, mira, seller1]) {
      expect((await http.get(`/api/orders/${order.id}/progress`, { token: actor.token })).body, actor.role).toEqual({
        orderId: order.id,
        progress: 0,
        status: 'confirmed',
      });
    }
    // And the list, read from MongoDB, agrees.
    const listed = await http.get(`/api/orders?search=${order.orderNumber}`, { token: mira.token });
    expect(listed.body.data.map((x: any) => x.status)).toEqual(['confirmed']);

    // A cancel shows at once as well.
    expect((await del(`/api/orders/${order.id}`, mira.token)).status).toBe(200);
    expect((await http.get(`/api/orders/${order.id}`, { token: mira.token })).body.status).toBe('cancelled');
    expect((await http.get(`/api/orders/${order.id}/progress`, { token: staff.token })).body.status).toBe('cancelled');
  });
});
