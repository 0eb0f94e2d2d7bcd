import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerSystem } from '../workers/system.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { eventually } from './helpers/processes.js';
import { startTestApi, startTestWorkers, type TestApi } from './helpers/system.js';

let api: TestApi;
let workers: WorkerSystem;
let http: HttpClient;
let seller: Actor;
let otherSeller: Actor;
let customer: Actor;
const orderIds: string[] = [];

beforeAll(async () => {
  api = await startTestApi();
  workers = startTestWorkers(api.config);
  http = httpClient(api.url);
  const admin = await loginAdmin(http);
  [seller, otherSeller, customer] = await Promise.all([
    createActor(http, admin, 'seller'),
    createActor(http, admin, 'seller'),
    registerCustomer(http),
  ]);
  const product = await createProduct(http, seller);
  for (let i = 0; i < 3; i++) {
    const res = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 1 }]), {
      token: customer.token,
    });
    orderIds.push(res.body.orders[0].id);
  }
  await eventually(async () =>
    expect((await http.get('/api/notifications', { token: seller.token })).body.total).toBe(3),
  );
});
afterAll(async () => {
  await workers?.close();
  await api?.close();
});

describe('notifications over REST', () => {
  it('lists a seller’s own notifications, newest first, with the order they are about', async () => {
    const res = await http.get('/api/notifications?limit=2', { token: seller.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ page: 1, limit: 2, total: 3, totalPages: 2 });
    expect(res.body.data[0]).toMatchObject({ type: 'order_notification', orderId: expect.any(String) });
    expect(res.body.data[0].payload).toMatchObject({ orderNumber: expect.stringMatching(/^ORD-/) });
    const all = await http.get('/api/notifications', { token: seller.token });
    expect(new Set(all.body.data.map((n: { orderId: string }) => n.orderId))).toEqual(new Set(orderIds));
    expect((await http.get('/api/notifications', { token: otherSeller.token })).body.total).toBe(0);
  });

  it('counts unread, marks one read, then all', async () => {
    expect((await http.get('/api/notifications/unread-count', { token: seller.token })).body).toEqual({ count: 3 });
    const first = (await http.get('/api/notifications', { token: seller.token })).body.data[0];
    const read = await http.post(`/api/notifications/${first.id}/read`, undefined, { token: seller.token });
    expect(read.status).toBe(200);
    expect(read.body.readAt).toEqual(expect.any(String));
    expect((await http.get('/api/notifications/unread-count', { token: seller.token })).body).toEqual({ count: 2 });
    expect((await http.get('/api/notifications?unread=true', { token: seller.token })).body.total).toBe(2);

    const all = await http.post('/api/notifications/read-all', undefined, { token: seller.token });
    expect(all.body).toEqual({ updated: 2 });
    expect((await http.get('/api/notifications/unread-count', { token: seller.token })).body).toEqual({ count: 0 });
  });

  it('nobody reads another’s notification: 404; malformed ids 400; no token 401', async () => {
    const first = (await http.get('/api/notifications', { token: seller.token })).body.data[0];
    expect(
      (await http.post(`/api/notifications/${first.id}/read`, undefined, { token: otherSeller.token })).status,
    ).toBe(404);
    expect((await http.post('/api/notifications/xyz/read', undefined, { token: seller.token })).status).toBe(400);
    expect((await http.get('/api/notifications')).status).toBe(401);
    expect((await http.get('/api/notifications?unread=maybe', { token: seller.token })).status).toBe(400);
  });
});
