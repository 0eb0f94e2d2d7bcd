import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeExpiredIdempotencyKeys } from '../src/features/orders/idempotency-maintenance.js';
import { IdempotencyRecord } from '../src/features/orders/idempotency.model.js';
import { Order } from '../src/order-flow/order.model.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { startTestApi, type TestApi } from './helpers/system.js';

let api: TestApi;
let http: HttpClient;
let sellerA: Actor;
let sellerB: Actor;
let customer: Actor;
let other: Actor;

beforeAll(async () => {
  api = await startTestApi();
  http = httpClient(api.url);
  const admin = await loginAdmin(http);
  [sellerA, sellerB, customer, other] = await Promise.all([
    createActor(http, admin, 'seller'),
    createActor(http, admin, 'seller'),
    registerCustomer(http),
    registerCustomer(http),
  ]);
});
afterAll(() => api?.close());

let keySeq = 0;
const newKey = () => `key-${Date.now()}-${keySeq++}`;
const post = (body: unknown, key: string, actor = customer) =>
  http.post('/api/orders', body, { token: actor.token, headers: { 'idempotency-key': key } });

describe('Idempotency-Key on POST /api/orders', () => {
  it('the same key and body replays the first response and creates nothing more', async () => {
    const p = await createProduct(http, sellerA);
    const body = orderBody([{ productId: p.id, quantity: 2 }]);
    const key = newKey();
    const first = await post(body, key);
    const second = await post(body, key);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(await Order.countDocuments({ checkoutId: first.body.checkoutId })).toBe(1);
    expect(await Order.countDocuments({ 'customer.id': customer.id, idempotencyKey: key })).toBe(1);
  });

  it('the same key with another body is refused with 422', async () => {
    const p = await createProduct(http, sellerA);
    const key = newKey();
    expect((await post(orderBody([{ productId: p.id, quantity: 1 }]), key)).status).toBe(201);
    const res = await post(orderBody([{ productId: p.id, quantity: 2 }]), key);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('keys belong to one customer: another customer may use the same key', async () => {
    const p = await createProduct(http, sellerA);
    const key = newKey();
    const body = orderBody([{ productId: p.id, quantity: 1 }]);
    const mine = await post(body, key);
    const theirs = await post(body, key, other);
    expect(theirs.status).toBe(201);
    expect(theirs.body.checkoutId).not.toBe(mine.body.checkoutId);
  });

  it('ten concurrent submissions with one key create exactly one order set', async () => {
    const a = await createProduct(http, sellerA);
    const b = await createProduct(http, sellerB);
    const body = orderBody([
      { productId: a.id, quantity: 1 },
      { productId: b.id, quantity: 1 },
    ]);
    const key = newKey();
    const results = await Promise.all(Array.from({ length: 10 }, () => post(body, key)));
    // Each answer is the one checkout, or "still being processed".
    for (const res of results) expect([201, 409]).toContain(res.status);
    const checkouts = new Set(results.filter((r) => r.status === 201).map((r) => r.body.checkoutId));
    expect(checkouts.size).toBe(1);
    expect(await Order.countDocuments({ 'customer.id': customer.id, idempotencyKey: key })).toBe(2);
    const busy = results.find((r) => r.status === 409);
    if (busy) expect(busy.body.detail).toMatch(/still being processed/);
    // Once done, a retry replays.
    const replay = await post(body, key);
    expect(replay.status).toBe(201);
    expect(replay.body.checkoutId).toBe([...checkouts][0]);
  });

  it('a key whose request was refused (no stock) is free for a corrected retry', async () => {
    const p = await createProduct(http, sellerA, { stock: 1 });
    const key = newKey();
    expect((await post(orderBody([{ productId: p.id, quantity: 5 }]), key)).status).toBe(409);
    expect((await post(orderBody([{ productId: p.id, quantity: 1 }]), key)).status).toBe(201);
  });

  it('a retry after the first request died mid-checkout finishes that same checkout', async () => {
    const a = await createProduct(http, sellerA);
    const b = await createProduct(http, sellerB);
    const body = orderBody([
      { productId: a.id, quantity: 1 },
      { productId: b.id, quantity: 1 },
    ]);
    const key = newKey();
    const first = await post(body, key);
    expect(first.status).toBe(201);

    // Rewind to "crashed after writing one of two orders": the key still processing,
    // its lease run out, the plan kept, the second order never written.
    const record = (await IdempotencyRecord.findOne({ customerId: customer.id, key }).lean())!;
    const plan = await Order.find({ checkoutId: first.body.checkoutId }).lean();
    const lost = plan[1]!;
    await Order.deleteOne({ _id: lost._id });
    await IdempotencyRecord.updateOne(
      { _id: record._id },
      { $set: { status: 'processing', lockedUntil: new Date(Date.now() - 1_000), plan }, $unset: { response: 1 } },
    );

    const retry = await post(body, key);
    expect(retry.status).toBe(201);
    expect(retry.body.checkoutId).toBe(first.body.checkoutId);
    expect(retry.body.orders.map((o: { id: string }) => o.id).sort()).toEqual(
      first.body.orders.map((o: { id: string }) => o.id).sort(),
    );
    expect(await Order.countDocuments({ checkoutId: first.body.checkoutId })).toBe(2);
  });

  it('a retry that takes over a request still running (its lease lapsed) places the same orders, once', async () => {
    const a = await createProduct(http, sellerA);
    const b = await createProduct(http, sellerB);
    const body = orderBody([
      { productId: a.id, quantity: 1 },
      { productId: b.id, quantity: 2 },
    ]);
    const key = newKey();
    const first = await post(body, key);
    expect(first.status).toBe(201);
    // What a slow first request looks like to its retry: the key still processing, its lease
    // lapsed, its plan not stored yet, though its orders are written.
    await IdempotencyRecord.updateOne(
      { customerId: customer.id, key },
      { $set: { status: 'processing', lockedUntil: new Date(Date.now() - 1_000) }, $unset: { response: 1, plan: 1 } },
    );

    const retry = await post(body, key);
    expect(retry.status).toBe(201);
    // The retry planned the same ids, found them written, and answers with what is stored.
    expect(retry.body.checkoutId).toBe(first.body.checkoutId);
    const view = (res: typeof first) =>
      res.body.orders.map((o: { id: string; orderNumber: string }) => [o.id, o.orderNumber]).sort();
    expect(view(retry)).toEqual(view(first));
    expect(await Order.countDocuments({ 'customer.id': customer.id, idempotencyKey: key })).toBe(2);
  });

  it('a request still holding its key makes a duplicate wait with 409', async () => {
    const p = await createProduct(http, sellerA);
    const key = newKey();
    const body = orderBody([{ productId: p.id, quantity: 1 }]);
    expect((await post(body, key)).status).toBe(201);
    await IdempotencyRecord.updateOne(
      { customerId: customer.id, key },
      { $set: { status: 'processing', lockedUntil: new Date(Date.now() + 60_000) }, $unset: { response: 1 } },
    );
    const res = await post(body, key);
    expect(res.status).toBe(409);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('refuses a malformed key', async () => {
    const p = await createProduct(http, sellerA);
    const res = await post(orderBody([{ productId: p.id, quantity: 1 }]), 'has space');
    expect(res.status).toBe(400);
  });

  it('keys are kept at least 24 hours, then purged by the maintenance job', async () => {
    const p = await createProduct(http, sellerA);
    const key = newKey();
    expect((await post(orderBody([{ productId: p.id, quantity: 1 }]), key)).status).toBe(201);
    const in23h = new Date(Date.now() + 23 * 3600 * 1000);
    await purgeExpiredIdempotencyKeys(24, in23h);
    expect(await IdempotencyRecord.countDocuments({ customerId: customer.id, key })).toBe(1);
    const in25h = new Date(Date.now() + 25 * 3600 * 1000);
    expect(await purgeExpiredIdempotencyKeys(24, in25h)).toBeGreaterThanOrEqual(1);
    expect(await IdempotencyRecord.countDocuments({ customerId: customer.id, key })).toBe(0);
  });
});
