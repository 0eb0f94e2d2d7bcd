import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDelivery } from '../src/features/deliveries/deliveries.service.js';
import type { OrderWriteContext } from '../src/order-flow/order-writes.js';
import { Order } from '../src/order-flow/order.model.js';
import { closeQueues, createQueues } from '../src/jobs/queues.js';
import { createLogger } from '../src/lib/logger.js';
import { closeRedis, createRedis } from '../src/lib/redis.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { startTestApi, type TestApi } from './helpers/system.js';

let api: TestApi;
let http: HttpClient;
let seller: Actor;
let otherSeller: Actor;
let staff: Actor;
let customer: Actor;
const log = createLogger('silent', 'test');

beforeAll(async () => {
  api = await startTestApi();
  http = httpClient(api.url);
  const admin = await loginAdmin(http);
  [seller, otherSeller, staff, customer] = await Promise.all([
    createActor(http, admin, 'seller'),
    createActor(http, admin, 'seller'),
    createActor(http, admin, 'staff'),
    registerCustomer(http),
  ]);
});
afterAll(() => api?.close());

/** A confirmed order of `quantities` units of fresh products of the seller. */
async function confirmedOrder(...quantities: number[]) {
  const products = await Promise.all(quantities.map(() => createProduct(http, seller, { price: 1_000 })));
  const res = await http.post(
    '/api/orders',
    orderBody(products.map((p, i) => ({ productId: p.id, quantity: quantities[i]! }))),
    { token: customer.token },
  );
  const order = res.body.orders[0];
  expect((await http.request('PUT', `/api/orders/${order.id}/confirm`, { token: seller.token })).status).toBe(200);
  return { orderId: order.id as string, products };
}

const deliver = (orderId: string, items: Array<{ productId: string; quantity: number }>, token = seller.token) =>
  http.post(`/api/orders/${orderId}/deliveries`, { items }, { token });
const setStatus = (deliveryId: string, status: string, token = seller.token) =>
  http.request('PATCH', `/api/orders/deliveries/${deliveryId}/status`, { body: { status }, token });

describe('partial deliveries', () => {
  it('a delivery holds part of the order; remaining, progress and status follow', async () => {
    const { orderId, products } = await confirmedOrder(25, 32);
    const [a, b] = products;
    const first = await deliver(orderId, [{ productId: a!.id, quantity: 10 }]);
    expect(first.status).toBe(201);
    expect(first.body.delivery).toMatchObject({
      status: 'pending',
      value: 10_000,
      items: [{ productId: a!.id, quantity: 10 }],
    });
    expect(first.body.delivery.deliveryNumber).toMatch(/-D1$/);
    expect(first.body.order).toMatchObject({ status: 'in_progress', progress: 0 });

    const remaining = await http.get(`/api/orders/${orderId}/remaining`, { token: customer.token });
    expect(remaining.body.items).toEqual({
      [a!.id]: { total: 25, delivered: 0, remaining: 15 },
      [b!.id]: { total: 32, delivered: 0, remaining: 32 },
    });

    const delivered = await setStatus(first.body.delivery.id, 'delivered');
    expect(delivered.status).toBe(200);
    expect(delivered.body.delivery.deliveredAt).toEqual(expect.any(String));
    expect(delivered.body.order).toMatchObject({ status: 'partial_delivered', progress: 17 });
    expect((await http.get(`/api/orders/${orderId}/progress`, { token: customer.token })).body).toEqual({
      orderId,
      progress: 17,
      status: 'partial_delivered',
    });

    const listed = await http.get(`/api/orders/${orderId}/deliveries`, { token: customer.token });
    expect(listed.body.data.map((d: { status: string }) => d.status)).toEqual(['delivered']);
  });

  it('never more than remains: 409 naming the product; a product not in the order: 400', async () => {
    const { orderId, products } = await confirmedOrder(5);
    const over = await deliver(orderId, [{ productId: products[0]!.id, quantity: 6 }]);
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({ remaining: 5, requested: 6 });
    const stranger = await createProduct(http, seller);
    const wrong = await deliver(orderId, [{ productId: stranger.id, quantity: 1 }]);
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0].path).toBe('items.0.productId');
  });

  it('a pending (unconfirmed) or cancelled order takes no delivery', async () => {
    const product = await createProduct(http, seller);
    const res = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 2 }]), {
      token: customer.token,
    });
    const orderId = res.body.orders[0].id;
    const pending = await deliver(orderId, [{ productId: product.id, quantity: 1 }]);
    expect(pending.status).toBe(409);
    expect(pending.body.currentStatus).toBe('pending');
  });

  it('ten concurrent requests for the last unit: exactly one 201, the rest 409', async () => {
    const { orderId, products } = await confirmedOrder(3);
    expect((await deliver(orderId, [{ productId: products[0]!.id, quantity: 2 }])).status).toBe(201);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => deliver(orderId, [{ productId: products[0]!.id, quantity: 1 }])),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, ...Array(9).fill(409)]);
    const order = (await Order.findById(orderId).lean())!;
    expect(order.items[0]!.remainingQuantity).toBe(0);
    expect(order.deliveries).toHaveLength(2);
  });

  it('a failed or cancelled delivery gives its quantity back', async () => {
    const { orderId, products } = await confirmedOrder(4);
    const made = await deliver(orderId, [{ productId: products[0]!.id, quantity: 4 }]);
    expect((await setStatus(made.body.delivery.id, 'dispatched')).body.order.status).toBe('shipped');
    const failed = await setStatus(made.body.delivery.id, 'failed');
    expect(failed.body.order).toMatchObject({ status: 'confirmed' });
    expect(failed.body.order.items[0].remainingQuantity).toBe(4);
    // A failed delivery is final.
    const again = await setStatus(made.body.delivery.id, 'delivered');
    expect(again.status).toBe(409);
    expect(again.body.currentStatus).toBe('failed');
    const retry = await deliver(orderId, [{ productId: products[0]!.id, quantity: 4 }]);
    expect(retry.status).toBe(201);
    expect((await setStatus(retry.body.delivery.id, 'cancelled')).body.order.items[0].remainingQuantity).toBe(4);
  });

  it('ship dispatches everything remaining; delivering it all makes the order delivered', async () => {
    const { orderId, products } = await confirmedOrder(3, 2);
    expect((await deliver(orderId, [{ productId: products[0]!.id, quantity: 1 }])).status).toBe(201);
    const shipped = await http.request('PUT', `/api/orders/${orderId}/ship`, { token: seller.token });
    expect(shipped.status).toBe(201);
    expect(shipped.body.delivery).toMatchObject({ status: 'dispatched' });
    expect(shipped.body.delivery.items).toEqual([
      { productId: products[0]!.id, quantity: 2 },
      { productId: products[1]!.id, quantity: 2 },
    ]);
    expect((await http.request('PUT', `/api/orders/${orderId}/ship`, { token: seller.token })).status).toBe(409);
    const deliveries = (await http.get(`/api/orders/${orderId}/deliveries`, { token: seller.token })).body.data;
    for (const d of deliveries) await setStatus(d.id, 'delivered', staff.token);
    const order = await http.get(`/api/orders/${orderId}`, { token: customer.token });
    expect(order.body).toMatchObject({ status: 'delivered', progress: 100 });
    // Past the first delivered unit an order cannot be cancelled.
    expect((await http.request('DELETE', `/api/orders/${orderId}`, { token: seller.token })).status).toBe(409);
  });

  it('customers cannot deliver; another seller sees no such order', async () => {
    const { orderId, products } = await confirmedOrder(2);
    expect((await deliver(orderId, [{ productId: products[0]!.id, quantity: 1 }], customer.token)).status).toBe(403);
    expect((await deliver(orderId, [{ productId: products[0]!.id, quantity: 1 }], otherSeller.token)).status).toBe(404);
    expect((await deliver(orderId, [{ productId: products[0]!.id, quantity: 1 }], staff.token)).status).toBe(201);
  });
});

describe("today's deliveries", () => {
  it('count and value follow every delivery change at once; customers may not look', async () => {
    const today = async (token = staff.token) => (await http.get('/api/deliveries/today', { token })).body;
    const before = await today();
    expect(before.date).toBe(new Date().toISOString().slice(0, 10));
    const mine = await today(seller.token);

    const { orderId, products } = await confirmedOrder(3);
    const made = await deliver(orderId, [{ productId: products[0]!.id, quantity: 2 }]);
    const after = await today();
    expect(after).toMatchObject({
      count: before.count + 1,
      pending: before.pending + 1,
      totalValue: before.totalValue + 2_000,
    });
    expect((await today(seller.token)).count).toBe(mine.count + 1);
    expect((await today(otherSeller.token)).count).toBe(0);

    await setStatus(made.body.delivery.id, 'failed');
    expect(await today()).toMatchObject({
      count: before.count + 1,
      failed: before.failed + 1,
      totalValue: before.totalValue,
    });
    expect((await http.get('/api/deliveries/today', { token: customer.token })).status).toBe(403);
  });
});

describe('a lost lock cannot cause over-delivery', () => {
  // Writers whose locks live in different Redis databases never see each other's lock:
  // exactly the situation after a lock expired under a stalled request.
  let writers: OrderWriteContext[];
  beforeAll(() => {
    const producer = createRedis(api.config.REDIS_URL, 'blocking', log);
    const queues = createQueues(producer, api.config.QUEUE_PREFIX, log);
    writers = [5, 6, 7].map((db) => ({
      queues,
      log,
      redis: createRedis(`${api.config.REDIS_URL}/${db}`, 'command', log),
    }));
  });
  afterAll(async () => {
    await closeQueues(writers[0]!.queues);
    await Promise.all(writers.map((w) => closeRedis(w.redis)));
  });

  it('nine racing requests on three "locks" for the last two units: two units delivered, never more', async () => {
    const { orderId, products } = await confirmedOrder(2);
    const principal = { id: seller.id, role: 'seller' as const, name: seller.name };
    const results = await Promise.allSettled(
      Array.from({ length: 9 }, (_, i) =>
        createDelivery(writers[i % 3]!, principal, orderId, { items: [{ productId: products[0]!.id, quantity: 1 }] }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const order = (await Order.findById(orderId).lean())!;
    expect(order.deliveries).toHaveLength(2);
    expect(order.items[0]!.remainingQuantity).toBe(0);
  });
});
