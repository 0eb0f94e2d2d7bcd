import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Product } from '../src/features/catalog/product.model.js';
import { InventoryMove } from '../src/features/inventory/inventory-move.model.js';
import { Order } from '../src/order-flow/order.model.js';
import type { WorkerSystem } from '../workers/system.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { listenForEvents } from './helpers/events.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody, owedJobsOf } from './helpers/orders.js';
import { eventually } from './helpers/processes.js';
import { startTestApi, startTestWorkers, type TestApi } from './helpers/system.js';
import { readOrder } from '../src/order-flow/inventory-outcome.js';

let api: TestApi;
let workers: WorkerSystem;
let http: HttpClient;
let admin: Actor;
let staff: Actor;
let sellerA: Actor;
let sellerB: Actor;
let customer: Actor;
let otherCustomer: Actor;
let listener: Awaited<ReturnType<typeof listenForEvents>>;

beforeAll(async () => {
  api = await startTestApi();
  workers = startTestWorkers(api.config);
  listener = await listenForEvents(api.config.REDIS_URL);
  http = httpClient(api.url);
  admin = await loginAdmin(http);
  [staff, sellerA, sellerB, customer, otherCustomer] = await Promise.all([
    createActor(http, admin, 'staff', 'Desk Staff'),
    createActor(http, admin, 'seller', 'Tea House'),
    createActor(http, admin, 'seller', 'Spice Shop'),
    registerCustomer(http, 'Asha'),
    registerCustomer(http, 'Bela'),
  ]);
});
afterAll(async () => {
  await listener?.close();
  await workers?.close();
  await api?.close();
});

const put = (path: string, token: string, body?: unknown) => http.request('PUT', path, { token, body });
const del = (path: string, token: string) => http.request('DELETE', path, { token });
const cancelAsAdmin = (id: string, token: string, body?: unknown) =>
  http.patch(`/api/orders/${id}/cancel`, body, { token });

/** The product's stock and its ledger, as `reduce:<orderId>` / `restore:<orderId>`. */
async function stockOf(productId: string) {
  const [product, moves] = await Promise.all([
    Product.findById(productId).lean(),
    InventoryMove.find({ productId }).lean(),
  ]);
  return { stock: product!.stock, ops: moves.map((move) => `${move.kind}:${move.orderId.toHexString()}`) };
}

async function inventoryStatusOf(orderId: string) {
  return (await readOrder(orderId))!.inventoryStatus;
}

/**
 * A fresh product of `seller` and one order for it by `buyer`, whose stock
 * reduction has finished (so a later restore has something to give back).
 */
async function placedOrder(seller = sellerA, buyer = customer, { stock = 10, quantity = 3 } = {}) {
  const product = await createProduct(http, seller, { price: 1_500, stock });
  const res = await http.post('/api/orders', orderBody([{ productId: product.id, quantity }]), { token: buyer.token });
  expect(res.status).toBe(201);
  const order = res.body.orders[0];
  await eventually(async () => expect(await inventoryStatusOf(order.id)).toBe('reduced'));
  expect((await stockOf(product.id)).stock).toBe(stock - quantity);
  return { product, order, stock, quantity };
}

async function confirmed(seller = sellerA, buyer = customer) {
  const placed = await placedOrder(seller, buyer);
  const res = await put(`/api/orders/${placed.order.id}/confirm`, seller.token);
  expect(res.status).toBe(200);
  expect(res.body.status).toBe('confirmed');
  return { ...placed, order: res.body };
}

/** In progress: a delivery holds one unit (the status follows from deliveries, never set by hand). */
async function inProgress(seller = sellerA, buyer = customer) {
  const placed = await confirmed(seller, buyer);
  const res = await http.post(
    `/api/orders/${placed.order.id}/deliveries`,
    { items: [{ productId: placed.product.id, quantity: 1 }] },
    { token: seller.token },
  );
  expect(res.status).toBe(201);
  expect(res.body.order.status).toBe('in_progress');
  return { ...placed, order: res.body.order };
}

const everyoneOf = (order: { id: string; seller: { id: string }; customer: { id: string } }) =>
  [`seller:${order.seller.id}`, `user:${order.customer.id}`, `order:${order.id}`, 'admin'].sort();

describe('confirming an order', () => {
  it('lets the owner seller confirm a pending order, honouring estimatedDelivery', async () => {
    const { order } = await placedOrder();
    const res = await put(`/api/orders/${order.id}/confirm`, sellerA.token, { estimatedDelivery: '2030-01-15' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: order.id,
      orderNumber: order.orderNumber,
      status: 'confirmed',
      estimatedDelivery: '2030-01-15T00:00:00.000Z',
    });
    const stored = await Order.findById(order.id).lean();
    expect(stored!.status).toBe('confirmed');
    expect(stored!.estimatedDelivery!.toISOString()).toBe('2030-01-15T00:00:00.000Z');
    expect(stored!.confirmedAt).toBeInstanceOf(Date);
    // Read back over HTTP by the customer: the new state, at once.
    const read = await http.get(`/api/orders/${order.id}`, { token: customer.token });
    expect(read.body).toMatchObject({ status: 'confirmed', estimatedDelivery: '2030-01-15T00:00:00.000Z' });
  });

  it('accepts a date-time with an offset, and no body at all (keeping the placement estimate)', async () => {
    const first = await placedOrder();
    const withOffset = await put(`/api/orders/${first.order.id}/confirm`, sellerA.token, {
      estimatedDelivery: '2030-03-01T10:00:00+05:30',
    });
    expect(withOffset.status).toBe(200);
    expect(withOffset.body.estimatedDelivery).toBe('2030-03-01T04:30:00.000Z');

    const second = await placedOrder();
    const bare = await put(`/api/orders/${second.order.id}/confirm`, sellerA.token);
    expect(bare.status).toBe(200);
    expect(bare.body.status).toBe('confirmed');
    expect(bare.body.estimatedDelivery).toBe(second.order.estimatedDelivery);
  });

  it('refuses a malformed estimatedDelivery or unknown fields with 400, changing nothing', async () => {
    const { order } = await placedOrder();
    for (const body of [{ estimatedDelivery: 'next tuesday' }, { estimatedDelivery: '2030-02-30' }, { status: 'x' }]) {
      const res = await put(`/api/orders/${order.id}/confirm`, sellerA.token, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await Order.findById(order.id).lean())!.status).toBe('pending');
  });

  it('hides the order from another seller (404) and forbids customers and staff (403)', async () => {
    const { order } = await placedOrder();
    const other = await put(`/api/orders/${order.id}/confirm`, sellerB.token);
    expect(other.status).toBe(404);
    expect(JSON.stringify(other.body)).not.toContain(order.orderNumber);
    expect((await put(`/api/orders/${order.id}/confirm`, customer.token)).status).toBe(403);
    expect((await put(`/api/orders/${order.id}/confirm`, staff.token)).status).toBe(403);
    expect((await put('/api/orders/aaaaaaaaaaaaaaaaaaaaaaaa/confirm', sellerA.token)).status).toBe(404);
    expect((await put('/api/orders/not-an-id/confirm', sellerA.token)).status).toBe(400);
    const stored = await Order.findById(order.id).lean();
    expect(stored!.status).toBe('pending');
  });

  it('refuses a second confirm with 409 naming the current state, leaving the order as it was', async () => {
    const { order } = await confirmed();
    const again = await put(`/api/orders/${order.id}/confirm`, sellerA.token);
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect(again.body.currentStatus).toBe('confirmed');
    expect(again.body.detail).toContain('confirmed');
    expect((await Order.findById(order.id).lean())!.version).toBe(order.version);
  });

  it('tells the customer: order_confirmed to user:<customerId>, plus order:updated and order_status_update', async () => {
    const { order } = await placedOrder();
    const res = await put(`/api/orders/${order.id}/confirm`, sellerA.token, { estimatedDelivery: '2030-05-05' });
    expect(res.status).toBe(200);

    await eventually(async () => {
      const confirmedEvents = listener.of('order_confirmed').filter((e) => e.payload.orderId === order.id);
      expect(confirmedEvents.length).toBeGreaterThanOrEqual(1);
      for (const e of confirmedEvents) {
        expect(e.rooms).toEqual([`user:${customer.id}`]);
        expect(e.payload).toMatchObject({
          orderId: order.id,
          orderNumber: order.orderNumber,
          status: 'confirmed',
          estimatedDelivery: '2030-05-05T00:00:00.000Z',
          eventId: `order-confirmed_${order.id}`,
        });
      }

      const updated = listener
        .of('order:updated')
        .filter((e) => e.payload.order.id === order.id && e.payload.order.status === 'confirmed');
      expect(updated.length).toBeGreaterThanOrEqual(1);
      expect([...updated[0]!.rooms].sort()).toEqual(everyoneOf(order));
      expect(updated[0]!.payload.order.version).toBe(res.body.version);

      const notices = listener
        .of('order_status_update')
        .filter((e) => e.payload.orderId === order.id && e.payload.status === 'confirmed');
      expect(notices.length).toBeGreaterThanOrEqual(1);
      expect([...notices[0]!.rooms].sort()).toEqual([`seller:${sellerA.id}`, `user:${customer.id}`].sort());
      expect(notices[0]!.payload).toMatchObject({ orderNumber: order.orderNumber, status: 'confirmed' });
    });
    // Nobody else's room hears of it.
    const leaked = listener.events.filter(
      (e) => JSON.stringify(e.payload).includes(order.id) && e.rooms.some((r) => r.includes(otherCustomer.id)),
    );
    expect(leaked).toEqual([]);
  });

  it('refuses to confirm a cancelled order (409 naming cancelled)', async () => {
    const { order } = await placedOrder();
    expect((await del(`/api/orders/${order.id}`, customer.token)).status).toBe(200);
    const res = await put(`/api/orders/${order.id}/confirm`, sellerA.token);
    expect(res.status).toBe(409);
    expect(res.body.currentStatus).toBe('cancelled');
    expect(res.body.detail).toContain('cancelled');
    expect((await Order.findById(order.id).lean())!.status).toBe('cancelled');
  });
});

describe('a confirmation estimate', () => {
  it('must be today or later: a past date (0001-01-01, yesterday) is 400 and changes nothing', async () => {
    const { order } = await placedOrder();
    const yesterday = new Date(Date.now() - 24 * 3600 * 1000).toISOString().slice(0, 10);
    for (const estimatedDelivery of ['0001-01-01', yesterday, '2000-01-01T00:00:00Z']) {
      const res = await put(`/api/orders/${order.id}/confirm`, sellerA.token, { estimatedDelivery });
      expect(res.status, estimatedDelivery).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ path: 'estimatedDelivery', message: 'must be today or later' });
    }
    expect((await Order.findById(order.id).lean())!.status).toBe('pending');
    const today = new Date().toISOString().slice(0, 10);
    expect((await put(`/api/orders/${order.id}/confirm`, sellerA.token, { estimatedDelivery: today })).status).toBe(
      200,
    );
  });
});

describe('PUT /api/orders/:id/status', () => {
  it('guards transitions: confirming a cancelled order is 409 naming cancelled', async () => {
    const { order } = await placedOrder();
    expect((await del(`/api/orders/${order.id}`, customer.token)).status).toBe(200);
    const res = await put(`/api/orders/${order.id}/status`, sellerA.token, { status: 'confirmed' });
    expect(res.status).toBe(409);
    expect(res.body.currentStatus).toBe('cancelled');
    expect(res.body.detail).toContain('cancelled');
    expect((await Order.findById(order.id).lean())!.status).toBe('cancelled');
  });

  it('confirms a pending order for the owner seller, staff and admin', async () => {
    for (const actor of [sellerA, staff, admin]) {
      const { order } = await placedOrder();
      const res = await put(`/api/orders/${order.id}/status`, actor.token, { status: 'confirmed' });
      expect(res.status, actor.role).toBe(200);
      // The reduction's outcome is recorded beside the order (no version of its own), and folded
      // into it by this write.
      expect(res.body).toMatchObject({
        id: order.id,
        status: 'confirmed',
        inventoryStatus: 'reduced',
        version: order.version + 1,
      });
      expect((await Order.findById(order.id).lean())!.inventoryStatus).toBe('reduced');
      const read = await http.get(`/api/orders/${order.id}/progress`, { token: customer.token });
      expect(read.body).toEqual({ orderId: order.id, progress: 0, status: 'confirmed' });
    }
  });

  it('refuses every status derived from deliveries and payments with 409 naming the rule, whoever asks', async () => {
    // The defect: in_progress then delivered by hand, nothing delivered, then completed by a payment.
    const { order } = await confirmed();
    for (const status of ['in_progress', 'shipped', 'partial_delivered', 'delivered', 'completed']) {
      for (const actor of [sellerA, staff, admin]) {
        const res = await put(`/api/orders/${order.id}/status`, actor.token, { status });
        expect(res.status, `${actor.role} ${status}`).toBe(409);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body.detail).toContain('derived from the order');
        expect(res.body.requestedStatus).toBe(status);
      }
    }
    const stored = (await Order.findById(order.id).lean())!;
    expect(stored).toMatchObject({ status: 'confirmed', version: order.version });
    // The customer may still cancel it: nothing was delivered.
    expect((await del(`/api/orders/${order.id}`, customer.token)).status).toBe(200);
  });

  it('hides the order from another seller (404) and forbids customers (403)', async () => {
    const { order } = await confirmed();
    expect((await put(`/api/orders/${order.id}/status`, sellerB.token, { status: 'confirmed' })).status).toBe(404);
    expect((await put(`/api/orders/${order.id}/status`, customer.token, { status: 'confirmed' })).status).toBe(403);
    expect((await Order.findById(order.id).lean())!.status).toBe('confirmed');
  });

  it('refuses status cancelled (400: use the cancel endpoints) and unknown statuses', async () => {
    const { order } = await confirmed();
    const res = await put(`/api/orders/${order.id}/status`, admin.token, { status: 'cancelled' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'status', message: 'use the cancel endpoints' }]);
    for (const body of [{ status: 'teleported' }, {}, { status: 'in_progress', extra: 1 }]) {
      expect((await put(`/api/orders/${order.id}/status`, admin.token, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await Order.findById(order.id).lean())!.status).toBe('confirmed');
  });

  it('never completes an order by hand, delivered or not, paid or not: completion follows from payment', async () => {
    const { order } = await confirmed();
    // Put into "delivered" in the database, then fully paid: still not settable by hand.
    await Order.updateOne({ _id: order.id }, { $set: { status: 'delivered', progress: 100 }, $inc: { version: 1 } });
    const unpaid = await put(`/api/orders/${order.id}/status`, admin.token, { status: 'completed' });
    expect(unpaid.status).toBe(409);
    expect(unpaid.body.detail).toContain('derived');
    await Order.updateOne(
      { _id: order.id },
      { $set: { paymentStatus: 'paid', paidAmount: order.totalAmount }, $inc: { version: 1 } },
    );
    const paid = await put(`/api/orders/${order.id}/status`, admin.token, { status: 'completed' });
    expect(paid.status).toBe(409);
    expect((await Order.findById(order.id).lean())!.status).toBe('delivered');
  });
});

describe('cancelling an order', () => {
  it('PATCH /:id/cancel is for admins only; it cancels with the reason and restores the stock', async () => {
    const { order, product, stock } = await placedOrder();
    for (const actor of [sellerA, customer, staff]) {
      expect((await cancelAsAdmin(order.id, actor.token, { reason: 'nope' })).status, actor.role).toBe(403);
    }
    expect((await Order.findById(order.id).lean())!.status).toBe('pending');

    const res = await cancelAsAdmin(order.id, admin.token, { reason: 'Customer called to cancel' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: order.id, status: 'cancelled', cancelReason: 'Customer called to cancel' });

    await eventually(async () => {
      expect(await inventoryStatusOf(order.id)).toBe('restored');
      expect((await stockOf(product.id)).stock).toBe(stock);
    });
  });

  it('PATCH /:id/cancel validates its body', async () => {
    const { order } = await placedOrder();
    for (const body of [{ reason: 'x'.repeat(501) }, { reason: 'bell\u0007' }, { why: 'x' }]) {
      expect((await cancelAsAdmin(order.id, admin.token, body)).status, JSON.stringify(body).slice(0, 40)).toBe(400);
    }
    expect((await Order.findById(order.id).lean())!.status).toBe('pending');
  });

  it('DELETE by the owner customer works while pending and while confirmed', async () => {
    const pending = await placedOrder();
    const a = await del(`/api/orders/${pending.order.id}`, customer.token);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ id: pending.order.id, status: 'cancelled' });

    const conf = await confirmed();
    const b = await del(`/api/orders/${conf.order.id}`, customer.token);
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ id: conf.order.id, status: 'cancelled', version: conf.order.version + 1 });

    await eventually(async () => {
      expect((await stockOf(pending.product.id)).stock).toBe(pending.stock);
      expect((await stockOf(conf.product.id)).stock).toBe(conf.stock);
    });
  });

  it('DELETE by the owner customer is 409 once the order is in progress; the seller and admin still may', async () => {
    const first = await inProgress();
    const refused = await del(`/api/orders/${first.order.id}`, customer.token);
    expect(refused.status).toBe(409);
    expect(refused.body.currentStatus).toBe('in_progress');
    expect(refused.body.detail).toContain('in_progress');
    expect((await Order.findById(first.order.id).lean())!.status).toBe('in_progress');

    const bySeller = await del(`/api/orders/${first.order.id}`, sellerA.token);
    expect(bySeller.status).toBe(200);
    expect(bySeller.body.status).toBe('cancelled');

    const second = await inProgress();
    const byAdmin = await del(`/api/orders/${second.order.id}`, admin.token);
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.status).toBe('cancelled');
  });

  it('DELETE hides the order from another customer or seller (404) and forbids staff (403)', async () => {
    const { order } = await placedOrder();
    const res = await del(`/api/orders/${order.id}`, otherCustomer.token);
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.body)).not.toContain(order.orderNumber);
    expect((await del(`/api/orders/${order.id}`, sellerB.token)).status).toBe(404);
    expect((await del(`/api/orders/${order.id}`, staff.token)).status).toBe(403);
    expect((await Order.findById(order.id).lean())!.status).toBe('pending');
  });

  it('DELETE by the owner seller and by an admin cancel a pending order', async () => {
    const a = await placedOrder();
    const bySeller = await del(`/api/orders/${a.order.id}`, sellerA.token);
    expect(bySeller.status).toBe(200);
    expect(bySeller.body.status).toBe('cancelled');

    const b = await placedOrder();
    const byAdmin = await del(`/api/orders/${b.order.id}`, admin.token);
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.status).toBe('cancelled');
  });

  it('cancelling twice returns 200 with the cancelled order and changes nothing; stock comes back once', async () => {
    const { order, product, stock, quantity } = await placedOrder(sellerA, customer, { stock: 10, quantity: 4 });
    const first = await del(`/api/orders/${order.id}`, customer.token);
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('cancelled');

    await eventually(async () => {
      expect(await inventoryStatusOf(order.id)).toBe('restored');
      expect((await stockOf(product.id)).stock).toBe(stock);
    });
    const settled = await Order.findById(order.id).lean();

    const again = await del(`/api/orders/${order.id}`, customer.token);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: order.id, status: 'cancelled', version: settled!.version });
    const viaPatch = await cancelAsAdmin(order.id, admin.token, { reason: 'again' });
    expect(viaPatch.status).toBe(200);
    expect(viaPatch.body.version).toBe(settled!.version);
    expect(viaPatch.body.cancelReason).toBeUndefined();

    const after = await Order.findById(order.id).lean();
    expect(after!.version).toBe(settled!.version);
    await eventually(async () => expect(await owedJobsOf([order.id])).toEqual([]));
    const { stock: finalStock, ops } = await stockOf(product.id);
    expect(finalStock).toBe(stock);
    expect(ops.filter((op) => op === `restore:${order.id}`)).toHaveLength(1);
    expect(ops.filter((op) => op === `reduce:${order.id}`)).toHaveLength(1);
    expect(quantity).toBe(4);
  });

  it('two cancels at once: both 200, one version bump, stock restored exactly once', async () => {
    const { order, product, stock } = await placedOrder();
    const before = await Order.findById(order.id).lean();
    const results = await Promise.all([
      del(`/api/orders/${order.id}`, customer.token),
      del(`/api/orders/${order.id}`, sellerA.token),
      cancelAsAdmin(order.id, admin.token),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.map((r) => r.body.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    // One of them cancelled (version + 1); the others found it cancelled, possibly
    // after the worker's restore had recorded `restored` (version + 2).
    const cancelVersion = before!.version + 1;
    expect(results.map((r) => r.body.version)).toContain(cancelVersion);
    for (const r of results) expect([cancelVersion, cancelVersion + 1]).toContain(r.body.version);

    await eventually(async () => {
      expect(await inventoryStatusOf(order.id)).toBe('restored');
      const { stock: now, ops } = await stockOf(product.id);
      expect(now).toBe(stock);
      expect(ops.filter((op) => op === `restore:${order.id}`)).toHaveLength(1);
    });
    // Exactly two writes after placement settled: the one cancel and the one restore.
    const after = await Order.findById(order.id).lean();
    expect(after!.version).toBe(cancelVersion + 1);
    expect(after!.cancelReason).toBeUndefined();
  });

  it('publishes order:cancelled to everyone concerned, and order:inventory-restored', async () => {
    const { order, quantity, product } = await placedOrder();
    expect((await cancelAsAdmin(order.id, admin.token, { reason: 'Out of season' })).status).toBe(200);
    await eventually(async () => {
      const cancelled = listener.of('order:cancelled').filter((e) => e.payload.orderId === order.id);
      expect(cancelled.length).toBeGreaterThanOrEqual(1);
      expect([...cancelled[0]!.rooms].sort()).toEqual(everyoneOf(order));
      expect(cancelled[0]!.payload).toMatchObject({
        orderId: order.id,
        orderNumber: order.orderNumber,
        reason: 'Out of season',
        eventId: `order-cancelled_${order.id}`,
      });
      const notices = listener
        .of('order_status_update')
        .filter((e) => e.payload.orderId === order.id && e.payload.status === 'cancelled');
      expect(notices.length).toBeGreaterThanOrEqual(1);
      const restored = listener.of('order:inventory-restored').filter((e) => e.payload.orderId === order.id);
      expect(restored.length).toBeGreaterThanOrEqual(1);
      expect(restored[0]!.payload).toMatchObject({
        inventoryStatus: 'restored',
        affectedProducts: [{ productId: product.id, quantity }],
      });
    });
  });

  it('restores the stock even when cancelled before the reduction ran', async () => {
    const product = await createProduct(http, sellerA, { stock: 7 });
    const res = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 5 }]), {
      token: customer.token,
    });
    expect(res.status).toBe(201);
    const order = res.body.orders[0];
    const cancelled = await del(`/api/orders/${order.id}`, customer.token);
    expect(cancelled.status).toBe(200);
    await eventually(async () => {
      expect(await inventoryStatusOf(order.id)).toBe('restored');
      const { stock, ops } = await stockOf(product.id);
      expect(stock).toBe(7);
      // Whether or not the reduction got in first, every unit taken was given back, once.
      const count = (prefix: string) => ops.filter((op) => op === `${prefix}:${order.id}`).length;
      expect(count('restore')).toBe(count('reduce'));
      expect(count('restore')).toBeLessThanOrEqual(1);
    }, 40_000);
  }, 60_000);
});
