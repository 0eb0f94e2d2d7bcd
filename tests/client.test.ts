import { randomBytes } from 'node:crypto';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerSystem } from '../workers/system.js';
// What an integrator installs: the compiled package, its types generated from the API's document.
import {
  createOrderClient,
  type ClientToServerEvents,
  type OrderClient,
  type OrderNotification,
  type Problem,
  type ServerToClientEvents,
} from '../packages/client/lib/index.js';
import { generateClientFiles, staleClientFiles } from '../scripts/client-files.js';
import { eventually } from './helpers/processes.js';
import { ADMIN, startTestApi, startTestWorkers, type TestApi } from './helpers/system.js';

/**
 * The typed client package (packages/client) against the real API and
 * workers, as an integrator would use it: every call and every socket event
 * below is checked by the compiler against the API's document and the socket
 * event catalogue.
 */

type OrderSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

let api: TestApi;
let workers: WorkerSystem;
let admin: OrderClient;
const sockets: OrderSocket[] = [];

const unique = () => randomBytes(4).toString('hex');

beforeAll(async () => {
  api = await startTestApi();
  workers = startTestWorkers(api.config);
  const { data } = await createOrderClient({ baseUrl: api.url }).POST('/api/auth/login', { body: ADMIN });
  admin = createOrderClient({ baseUrl: api.url, token: data!.token });
});
afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await workers?.close();
  await api?.close();
});

/** A seller created by the admin, signed in with the typed client. */
async function newSeller() {
  const email = `seller-${unique()}@test.local`;
  const password = 'seller-pass-123';
  const created = await admin.POST('/api/users', {
    body: { name: `Tea House ${unique()}`, email, password, role: 'seller' },
  });
  expect(created.response.status).toBe(201);
  const { data } = await createOrderClient({ baseUrl: api.url }).POST('/api/auth/login', { body: { email, password } });
  return { id: data!.user.id, token: data!.token, client: createOrderClient({ baseUrl: api.url, token: data!.token }) };
}

async function newCustomer() {
  const anonymous = createOrderClient({ baseUrl: api.url });
  const { data, response } = await anonymous.POST('/api/auth/register', {
    body: { name: 'Zoya Łukasz', email: `customer-${unique()}@test.local`, password: 'customer-pass-1' },
  });
  expect(response.status).toBe(201);
  return { id: data!.user.id, client: createOrderClient({ baseUrl: api.url, token: data!.token }) };
}

async function newProduct(seller: OrderClient, stock = 10) {
  const sku = `TEA-${unique()}`.toUpperCase();
  const { data, response } = await seller.POST('/api/products', {
    body: { name: 'Assam tea 250 g', sku, price: 25_000, stock },
  });
  expect(response.status).toBe(201);
  return data!;
}

function sellerSocket(token: string): OrderSocket {
  const socket: OrderSocket = connect(api.url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  sockets.push(socket);
  return socket;
}

const connected = (socket: OrderSocket) =>
  new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });

describe('the typed HTTP client', () => {
  it('registers a customer, signs in and says who is signed in', async () => {
    const email = `customer-${unique()}@test.local`;
    const anonymous = createOrderClient({ baseUrl: `${api.url}/` });
    const registered = await anonymous.POST('/api/auth/register', {
      body: { name: 'Asha Rao', email, password: 'customer-pass-1' },
    });
    expect(registered.response.status).toBe(201);
    expect(registered.data?.user).toMatchObject({ email, role: 'customer' });

    // A token that changes: the client asks for it before each request.
    const session: { token?: string } = {};
    const client = createOrderClient({ baseUrl: api.url, token: () => session.token });
    expect((await client.GET('/api/auth/me')).error?.status).toBe(401);
    const login = await client.POST('/api/auth/login', { body: { email, password: 'customer-pass-1' } });
    session.token = login.data?.token;
    const me = await client.GET('/api/auth/me');
    expect(me.data).toMatchObject({ id: registered.data!.user.id, email, role: 'customer' });
  });

  it('a seller lists a product, a customer orders it and reads the order back', async () => {
    const seller = await newSeller();
    const customer = await newCustomer();
    const product = await newProduct(seller.client);
    expect(product).toMatchObject({ price: 25_000, stock: 10, sellerId: seller.id });

    const placed = await customer.client.POST('/api/orders', {
      body: { items: [{ productId: product.id, quantity: 2 }], deliveryAddress: '12 MG Road, Bengaluru 560001' },
    });
    expect(placed.response.status).toBe(201);
    const [order] = placed.data!.orders;
    expect(order).toMatchObject({ status: 'pending', totalAmount: 50_000, seller: { id: seller.id } });

    const read = await customer.client.GET('/api/orders/{id}', { params: { path: { id: order!.id } } });
    expect(read.data).toMatchObject({ id: order!.id, orderNumber: order!.orderNumber, customer: { id: customer.id } });
    const listed = await seller.client.GET('/api/orders/seller', { params: { query: { status: 'pending' } } });
    expect(listed.data?.data.map((o) => o.id)).toContain(order!.id);
  });

  it('answers failures as typed problem documents', async () => {
    const seller = await newSeller();
    const customer = await newCustomer();
    const product = await newProduct(seller.client);

    const missing = await customer.client.GET('/api/orders/{id}', {
      params: { path: { id: '665f1c2e8b3f4a0012345678' } },
    });
    expect(missing.data).toBeUndefined();
    const notFound: Problem | undefined = missing.error;
    expect(notFound).toMatchObject({ status: 404, type: expect.stringMatching(/^\/problems\//) });
    expect(missing.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    const invalid = await customer.client.POST('/api/orders', {
      body: { items: [{ productId: product.id, quantity: 0 }], deliveryAddress: 'Here' },
    });
    expect(invalid.error?.status).toBe(400);
    expect(invalid.error?.errors?.map((e) => e.path)).toContain('items.0.quantity');

    const key = `checkout-${unique()}`;
    const body = { items: [{ productId: product.id, quantity: 1 }], deliveryAddress: '12 MG Road, Bengaluru 560001' };
    const first = await customer.client.POST('/api/orders', { params: { header: { 'idempotency-key': key } }, body });
    expect(first.response.status).toBe(201);
    const reused = await customer.client.POST('/api/orders', {
      params: { header: { 'idempotency-key': key } },
      body: { ...body, notes: 'a different checkout' },
    });
    expect(reused.error).toMatchObject({ status: 422, title: expect.any(String), detail: expect.any(String) });
  });
});

describe('a typed socket', () => {
  it("receives a seller's order_notification with its typed payload, and acknowledges it", async () => {
    const seller = await newSeller();
    const customer = await newCustomer();
    const product = await newProduct(seller.client);
    const socket = sellerSocket(seller.token);
    const received: OrderNotification[] = [];
    socket.on('order_notification', (notification) => void received.push(notification));
    await connected(socket);

    const placed = await customer.client.POST('/api/orders', {
      body: { items: [{ productId: product.id, quantity: 3 }], deliveryAddress: '12 MG Road, Bengaluru 560001' },
    });
    const order = placed.data!.orders[0]!;
    await eventually(async () => expect(received).toHaveLength(1), 20_000);
    const notification = received[0]!;
    expect(notification).toMatchObject({
      orderId: order.id,
      orderNumber: order.orderNumber,
      customerName: 'Zoya Łukasz',
      totalAmount: 75_000,
      itemCount: 1,
      items: [{ productId: product.id, sku: product.sku, quantity: 3, subtotal: 75_000 }],
      eventId: expect.any(String),
      occurredAt: expect.any(String),
    });

    const answer = await socket.timeout(5_000).emitWithAck('notification:ack', { ids: [notification.notificationId] });
    expect(answer).toEqual({ ok: true, acknowledged: 1 });
    const stored = await seller.client.GET('/api/notifications');
    expect(stored.data?.data.find((n) => n.orderId === order.id)?.deliveredAt).toEqual(expect.any(String));
  });

  it('replays what arrived while the seller was away, each with an ack callback', async () => {
    const seller = await newSeller();
    const customer = await newCustomer();
    const product = await newProduct(seller.client);
    const placed = await customer.client.POST('/api/orders', {
      body: { items: [{ productId: product.id, quantity: 1 }], deliveryAddress: '12 MG Road, Bengaluru 560001' },
    });
    const orderId = placed.data!.orders[0]!.id;
    await eventually(async () => expect((await seller.client.GET('/api/notifications')).data?.total).toBe(1), 20_000);

    const socket = sellerSocket(seller.token);
    const replayed: OrderNotification[] = [];
    socket.on('order_notification', (notification, ack) => {
      replayed.push(notification);
      ack?.();
    });
    await connected(socket);
    await eventually(async () => expect(replayed.map((n) => [n.orderId, n.replayed])).toEqual([[orderId, true]]));
    await eventually(async () => {
      const { data } = await seller.client.GET('/api/notifications');
      expect(data?.data[0]?.deliveredAt).toEqual(expect.any(String));
    });
  });

  it('answers a subscription it refuses in the ack, typed', async () => {
    const seller = await newSeller();
    const socket = sellerSocket(seller.token);
    await connected(socket);
    const answer = await socket.timeout(5_000).emitWithAck('subscribe:order', { orderId: '665f1c2e8b3f4a0012345678' });
    expect(answer).toEqual({ ok: false, error: 'not_found' });
  });
});

describe('the package in the repository', () => {
  it('is what the API generates now (else: npm run client:generate)', { timeout: 120_000 }, async () => {
    expect(staleClientFiles(await generateClientFiles())).toEqual([]);
  });
});
