import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Product } from '../src/features/catalog/product.model.js';
import { Notification } from '../src/features/notifications/notification.model.js';
import { Order } from '../src/order-flow/order.model.js';
import type { WorkerSystem } from '../workers/system.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { listenForEvents } from './helpers/events.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { address, createProduct, orderBody, owedJobsOf } from './helpers/orders.js';
import { eventually } from './helpers/processes.js';
import { startTestApi, startTestWorkers, type TestApi } from './helpers/system.js';
import { readOrder } from '../src/order-flow/inventory-outcome.js';

let api: TestApi;
let workers: WorkerSystem;
let http: HttpClient;
let admin: Actor;
let sellerA: Actor;
let sellerB: Actor;
let customer: Actor;
let listener: Awaited<ReturnType<typeof listenForEvents>>;

beforeAll(async () => {
  api = await startTestApi();
  workers = startTestWorkers(api.config);
  listener = await listenForEvents(api.config.REDIS_URL);
  http = httpClient(api.url);
  admin = await loginAdmin(http);
  [sellerA, sellerB, customer] = await Promise.all([
    createActor(http, admin, 'seller', 'Tea House'),
    createActor(http, admin, 'seller', 'Spice Shop'),
    registerCustomer(http, 'Asha'),
  ]);
});
afterAll(async () => {
  await listener?.close();
  await workers?.close();
  await api?.close();
});

describe('placing an order', () => {
  it('splits a checkout into one order per seller, priced from the catalog, and returns at once', async () => {
    const tea = await createProduct(http, sellerA, { price: 12_000, stock: 5 });
    const mug = await createProduct(http, sellerA, { price: 4_550, stock: 5 });
    const pepper = await createProduct(http, sellerB, { price: 999, stock: 5 });

    const res = await http.post(
      '/api/orders',
      orderBody(
        [
          { productId: tea.id, quantity: 2 },
          { productId: pepper.id, quantity: 3 },
          { productId: mug.id, quantity: 1 },
        ],
        { notes: 'Leave at the door', phone: '+91 98765 43210' },
      ),
      { token: customer.token },
    );
    expect(res.status).toBe(201);
    const { checkoutId, orders } = res.body;
    expect(orders).toHaveLength(2);
    const bySeller = Object.fromEntries(orders.map((o: any) => [o.seller.id, o]));
    const teaOrder = bySeller[sellerA.id];
    expect(teaOrder).toMatchObject({
      checkoutId,
      status: 'pending',
      paymentMethod: 'cash_on_delivery',
      paymentStatus: 'unpaid',
      paidAmount: 0,
      progress: 0,
      currency: 'INR',
      totalAmount: 2 * 12_000 + 4_550,
      seller: { id: sellerA.id, name: 'Tea House' },
      customer: { id: customer.id, name: 'Asha', deliveryAddress: address, phone: '+91 98765 43210' },
      notes: 'Leave at the door',
    });
    expect(teaOrder.orderNumber).toMatch(/^ORD-\d{8}-[0-9A-HJKMNP-TV-Z]{6}$/);
    expect(teaOrder.items.map((i: any) => [i.sku, i.quantity, i.subtotal, i.remainingQuantity])).toEqual([
      [tea.sku, 2, 24_000, 2],
      [mug.sku, 1, 4_550, 1],
    ]);
    expect(bySeller[sellerB.id].totalAmount).toBe(2_997);
    expect(new Date(teaOrder.estimatedDelivery).getTime()).toBeGreaterThan(Date.now() + 2 * 24 * 3600 * 1000);

    // The jobs run after the response: stock reduced, sellers notified, each exactly once.
    await eventually(async () => {
      const stocks = await Product.find({ _id: { $in: [tea.id, mug.id, pepper.id] } }).lean();
      expect(Object.fromEntries(stocks.map((p) => [p._id.toHexString(), p.stock]))).toEqual({
        [tea.id]: 3,
        [mug.id]: 4,
        [pepper.id]: 2,
      });
      const stored = await Order.find({ checkoutId }).lean();
      const withOutcomes = await Promise.all(stored.map((o) => readOrder(o._id)));
      expect(withOutcomes.map((o) => o!.inventoryStatus)).toEqual(['reduced', 'reduced']);
      expect(await owedJobsOf(stored.map((o) => o._id.toHexString()))).toEqual([]);
      expect(
        await Notification.countDocuments({ type: 'order_notification', orderId: { $in: stored.map((o) => o._id) } }),
      ).toBe(2);
    });

    // The events went out through Redis, addressed to the right rooms.
    await eventually(async () => {
      const notices = listener.of('order_notification').filter((e) => e.payload.orderId === teaOrder.id);
      expect(notices).toHaveLength(1);
      expect(notices[0]!.rooms).toEqual([`seller:${sellerA.id}`]);
      expect(notices[0]!.payload).toMatchObject({
        orderNumber: teaOrder.orderNumber,
        totalAmount: teaOrder.totalAmount,
      });
      expect(notices[0]!.payload.eventId).toEqual(expect.any(String));
      expect(notices[0]!.payload.occurredAt).toEqual(expect.any(String));

      const created = listener.of('order:created').find((e) => e.payload.order.id === teaOrder.id);
      expect(created?.rooms.sort()).toEqual(
        [`seller:${sellerA.id}`, `user:${customer.id}`, `order:${teaOrder.id}`, 'admin'].sort(),
      );
      const reduced = listener.of('order:inventory-reduced').find((e) => e.payload.orderId === teaOrder.id);
      expect(reduced?.payload.affectedProducts).toEqual([
        { productId: tea.id, quantity: 2 },
        { productId: mug.id, quantity: 1 },
      ]);
    });
  });

  it('merges repeated lines for one product', async () => {
    const p = await createProduct(http, sellerA, { stock: 10 });
    const res = await http.post(
      '/api/orders',
      orderBody([
        { productId: p.id, quantity: 2 },
        { productId: p.id, quantity: 3 },
      ]),
      { token: customer.token },
    );
    expect(res.status).toBe(201);
    expect(res.body.orders[0].items).toHaveLength(1);
    expect(res.body.orders[0].items[0].quantity).toBe(5);
  });

  it('refuses an unknown product with 400 naming the line, and writes nothing', async () => {
    const p = await createProduct(http, sellerA);
    const before = await Order.countDocuments();
    const res = await http.post(
      '/api/orders',
      orderBody([
        { productId: p.id, quantity: 1 },
        { productId: 'aaaaaaaaaaaaaaaaaaaaaaaa', quantity: 1 },
      ]),
      { token: customer.token },
    );
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'items.1.productId', message: 'no product aaaaaaaaaaaaaaaaaaaaaaaa' }]);
    expect(await Order.countDocuments()).toBe(before);
  });

  it('refuses an order whose amounts would not be exact integers (beyond 2^53 - 1) with 400, and writes nothing', async () => {
    // The attack: 100 lines at price 99,999,999,999 × 9,999 made a total of ~10^17, stored inexactly.
    const products = await Promise.all(
      Array.from({ length: 10 }, () => createProduct(http, sellerA, { price: 99_999_999_999, stock: 10_000 })),
    );
    const before = await Order.countDocuments();
    const res = await http.post('/api/orders', orderBody(products.map((p) => ({ productId: p.id, quantity: 9_999 }))), {
      token: customer.token,
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.detail).toContain('exact');
    // 9 lines fit (8.99991e15 < 2^53 - 1); the 10th would pass the limit, and is named.
    expect(res.body.errors).toEqual([
      {
        path: 'items.9.quantity',
        message: `the order's total would exceed the largest exact amount (${Number.MAX_SAFE_INTEGER})`,
      },
    ]);
    expect(await Order.countDocuments()).toBe(before);

    // Right at the limit's side: accepted, and exact.
    const fits = await http.post(
      '/api/orders',
      orderBody(products.slice(0, 9).map((p) => ({ productId: p.id, quantity: 9_999 }))),
      { token: customer.token },
    );
    expect(fits.status).toBe(201);
    expect(fits.body.orders[0].totalAmount).toBe(9 * 9_999 * 99_999_999_999);
    expect(Number.isSafeInteger(fits.body.orders[0].totalAmount)).toBe(true);
  });

  it("carries the request's id into the jobs it owes, so API and worker logs of one order join", async () => {
    const p = await createProduct(http, sellerA);
    const requestId = `trace-${Date.now().toString(36)}`;
    const res = await http.post('/api/orders', orderBody([{ productId: p.id, quantity: 1 }]), {
      token: customer.token,
      headers: { 'x-request-id': requestId },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe(requestId);
    const orderId = res.body.orders[0].id;
    const connection = new Redis(api.config.REDIS_URL, { maxRetriesPerRequest: null });
    const queues = { inventory: new Queue('inventory', { connection, prefix: api.config.QUEUE_PREFIX }) };
    const notifications = new Queue('notifications', { connection, prefix: api.config.QUEUE_PREFIX });
    try {
      const reduce = await queues.inventory.getJob(`reduce-inventory_${orderId}`);
      const notify = await notifications.getJob(`notify-seller_${orderId}`);
      expect(reduce?.data).toMatchObject({ orderId, requestId });
      expect(notify?.data).toMatchObject({ orderId, requestId });
    } finally {
      await Promise.all([queues.inventory.close(), notifications.close()]);
      connection.disconnect();
    }
  });

  it('refuses more than the stock with 409 naming the product', async () => {
    const p = await createProduct(http, sellerA, { stock: 2, name: 'Rare tea' });
    const res = await http.post('/api/orders', orderBody([{ productId: p.id, quantity: 3 }]), {
      token: customer.token,
    });
    expect(res.status).toBe(409);
    expect(res.body.detail).toContain('Rare tea');
    expect(res.body).toMatchObject({ productId: p.id, available: 2, requested: 3 });
  });

  it('a checkout sees a price change and a stock taken by earlier orders at once, though the catalog is cached', async () => {
    const product = await createProduct(http, sellerA, { price: 100, stock: 5 });
    const buy = (quantity: number) =>
      http.post('/api/orders', orderBody([{ productId: product.id, quantity }]), { token: customer.token });
    expect((await buy(1)).body.orders[0].totalAmount).toBe(100);

    expect((await http.patch(`/api/products/${product.id}`, { price: 250 }, { token: sellerA.token })).status).toBe(
      200,
    );
    expect((await buy(1)).body.orders[0].totalAmount).toBe(250);

    // Once the worker has taken the stock, the pre-check refuses what is no longer there.
    await eventually(async () => expect((await Product.findById(product.id).lean())!.stock).toBe(3));
    expect((await buy(3)).status).toBe(201);
    await eventually(async () => expect((await Product.findById(product.id).lean())!.stock).toBe(0));
    const refused = await buy(1);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain('0 left');
  });

  it('validates the body: items, quantities, address', async () => {
    const p = await createProduct(http, sellerA);
    const bad = [
      { items: [], deliveryAddress: address },
      { items: [{ productId: p.id, quantity: 0 }], deliveryAddress: address },
      { items: [{ productId: p.id, quantity: 1.5 }], deliveryAddress: address },
      { items: [{ productId: p.id, quantity: 10_001 }], deliveryAddress: address },
      { items: Array.from({ length: 101 }, () => ({ productId: p.id, quantity: 1 })), deliveryAddress: address },
      { items: [{ productId: p.id, quantity: 1 }], deliveryAddress: '   abc   ' },
      { items: [{ productId: p.id, quantity: 1 }], deliveryAddress: 'x'.repeat(501) },
      { items: [{ productId: p.id, quantity: 1 }], deliveryAddress: 'Line one\u0007 bell' },
      { items: [{ productId: p.id, quantity: 1, price: 1 }], deliveryAddress: address },
      { items: [{ productId: p.id, quantity: 1 }] },
    ];
    for (const body of bad) {
      const res = await http.post('/api/orders', body, { token: customer.token });
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
    }
  });

  it('lets only customers place orders', async () => {
    const p = await createProduct(http, sellerA);
    for (const actor of [sellerA, admin]) {
      expect(
        (await http.post('/api/orders', orderBody([{ productId: p.id, quantity: 1 }]), { token: actor.token })).status,
      ).toBe(403);
    }
  });

  it('numbers orders uniquely under concurrency', async () => {
    const p = await createProduct(http, sellerA, { stock: 1000 });
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        http.post('/api/orders', orderBody([{ productId: p.id, quantity: 1 }]), { token: customer.token }),
      ),
    );
    expect(results.filter((r) => r.status !== 201).map((r) => r.body.detail)).toEqual([]);
    const numbers = results.map((r) => r.body.orders[0].orderNumber);
    expect(new Set(numbers).size).toBe(20);
  });
});
