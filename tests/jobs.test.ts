import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, createRedis } from '../src/lib/redis.js';
import type { WorkerSystem } from '../workers/system.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { eventually } from './helpers/processes.js';
import { startTestApi, startTestWorkers, type TestApi } from './helpers/system.js';

let api: TestApi;
let workers: WorkerSystem;
let http: HttpClient;
let admin: Actor;
let seller: Actor;
let customer: Actor;

beforeAll(async () => {
  api = await startTestApi();
  workers = startTestWorkers(api.config);
  http = httpClient(api.url);
  admin = await loginAdmin(http);
  [seller, customer] = await Promise.all([createActor(http, admin, 'seller'), registerCustomer(http)]);
});
afterAll(async () => {
  await workers?.close();
  await api?.close();
});

/** A confirmed order with one delivery not yet delivered (so no invoice is owed yet). */
async function pendingDelivery() {
  const product = await createProduct(http, seller, { price: 1_500 });
  const placed = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 2 }]), {
    token: customer.token,
  });
  const orderId = placed.body.orders[0].id as string;
  expect((await http.request('PUT', `/api/orders/${orderId}/confirm`, { token: seller.token })).status).toBe(200);
  const delivery = await http.post(
    `/api/orders/${orderId}/deliveries`,
    { items: [{ productId: product.id, quantity: 1 }] },
    { token: seller.token },
  );
  expect(delivery.status).toBe(201);
  return { orderId, deliveryId: delivery.body.delivery.id as string };
}

async function requestInvoice(deliveryId: string) {
  const queued = await http.post(`/api/orders/deliveries/${deliveryId}/invoice`, undefined, { token: seller.token });
  expect(queued.status).toBe(202);
  return { jobId: queued.body.jobId as string, location: queued.headers.get('location')! };
}

const completedJob = (location: string, token: string) =>
  eventually(async () => {
    const res = await http.get(location, { token });
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('completed');
    return res.body;
  });

describe('job status: what became of a 202', () => {
  it("the 202's Location answers the job's state, then `completed` with the invoice in its result", async () => {
    const { orderId, deliveryId } = await pendingDelivery();
    const { jobId, location } = await requestInvoice(deliveryId);
    expect(jobId).toBe(`create-invoice_${orderId}_${deliveryId}`);
    expect(location).toBe(`/api/jobs/${jobId}`);

    const first = await http.get(location, { token: seller.token });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id: jobId, queue: 'invoices', name: 'create-invoice' });
    expect(['waiting', 'delayed', 'active', 'completed']).toContain(first.body.state);
    expect(first.headers.get('cache-control')).toBe('no-store');

    const done = await completedJob(location, seller.token);
    const invoice = await http.get(`/api/orders/deliveries/${deliveryId}/invoice`, { token: seller.token });
    expect(invoice.status).toBe(200);
    expect(done.result).toEqual({ invoiceId: invoice.body.id, invoiceNumber: invoice.body.invoiceNumber });
    expect(done.attemptsMade).toBeGreaterThanOrEqual(1);
    expect(done.timestamps.finishedAt).toEqual(expect.any(String));
    expect(done.failedReason).toBeUndefined();

    // The order's customer and staff may follow it too: the same rule as reading the order.
    expect((await completedJob(location, customer.token)).result.invoiceId).toBe(invoice.body.id);
    expect((await http.get(location, { token: admin.token })).status).toBe(200);
  });

  it('a finished job that Redis no longer holds still answers `completed` from its invoice', async () => {
    const { deliveryId } = await pendingDelivery();
    const { jobId, location } = await requestInvoice(deliveryId);
    const done = await completedJob(location, seller.token);

    const connection = createRedis(api.config.REDIS_URL, 'blocking', api.server.log, 'test-jobs');
    const queue = new Queue('invoices', { connection, prefix: api.config.QUEUE_PREFIX });
    try {
      await queue.remove(jobId);
      expect(await queue.getJob(jobId)).toBeUndefined();
    } finally {
      await queue.close();
      await closeRedis(connection);
    }
    const after = await http.get(location, { token: seller.token });
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ id: jobId, state: 'completed', result: done.result });
  });

  it('another seller and another customer get 404, as for a job that never existed', async () => {
    const { deliveryId } = await pendingDelivery();
    const { location } = await requestInvoice(deliveryId);
    const [otherSeller, otherCustomer] = await Promise.all([
      createActor(http, admin, 'seller'),
      registerCustomer(http),
    ]);
    for (const actor of [otherSeller, otherCustomer]) {
      const res = await http.get(location, { token: actor.token });
      expect(res.status, actor.role).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    // Still 404 once it is done (the invoice exists), so nothing about it leaks.
    await completedJob(location, seller.token);
    for (const actor of [otherSeller, otherCustomer]) {
      expect((await http.get(location, { token: actor.token })).status).toBe(404);
    }
  });

  it('an unknown job is 404, a malformed id 400, and no token 401', async () => {
    const { orderId } = await pendingDelivery();
    // Well-formed, of a real order the caller may see, but never queued.
    const unknown = await http.get(`/api/jobs/create-invoice_${orderId}_${'0'.repeat(24)}`, { token: seller.token });
    expect(unknown.status).toBe(404);
    const noOrder = await http.get(`/api/jobs/warm-order_${'a'.repeat(24)}_3`, { token: admin.token });
    expect(noOrder.status).toBe(404);

    for (const id of [
      'nope',
      'create-invoice_123',
      `create-invoice_${orderId}`,
      `warm-order_${orderId}`,
      `bogus_${orderId}`,
    ]) {
      const res = await http.get(`/api/jobs/${id}`, { token: seller.token });
      expect(res.status, id).toBe(400);
      expect(res.body.errors?.[0]?.path, id).toBe('param.id');
    }
    expect((await http.get(`/api/jobs/create-invoice_${orderId}_${'0'.repeat(24)}`)).status).toBe(401);
  });

  it('the route is documented with its operationId and every answer', async () => {
    const doc = (await http.get('/openapi.json')).body;
    const operation = doc.paths['/api/jobs/{id}'].get;
    expect(operation.operationId).toBe('getJob');
    expect(Object.keys(operation.responses).sort()).toEqual(['200', '400', '401', '403', '404', '429', '503']);
    const queued = doc.paths['/api/orders/deliveries/{deliveryId}/invoice'].post.responses['202'];
    expect(queued.headers.Location).toBeDefined();
  });
});
