import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, UnsecuredJWT } from 'jose';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, redisServer, type ManagedService } from '../scripts/embedded-services.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { eventually, runEntry, type RunningProcess } from './helpers/processes.js';
import { testEnv } from './helpers/system.js';

/**
 * Real processes, as in production: two API instances and two workers sharing
 * one FerretDB database and one Redis (this file's own, so no other file's
 * events reach its sockets), with socket.io-client as the seller's dashboard.
 */

let dir: string;
let redis: ManagedService;
let env: Record<string, string>;
const apis: Record<'A' | 'B', { process: RunningProcess; url: string }> = {} as never;
const workers: RunningProcess[] = [];
let http: HttpClient;
let admin: Actor;
let customer: Actor;
const sockets: Socket[] = [];

async function startApi(name: 'A' | 'B') {
  const port = await freePort();
  const process = runEntry('src/index.ts', { ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => {
    const res = await fetch(`${url}/readyz`);
    if (!res.ok) throw new Error('not ready');
  }, 30_000);
  apis[name] = { process, url };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orders-realtime-'));
  redis = redisServer({ port: await freePort(), dataDir: dir });
  await redis.start();
  env = testEnv({ REDIS_URL: redis.url, LOG_LEVEL: 'warn', RECONCILE_GRACE_MS: '500', RECONCILE_INTERVAL_MS: '250' });
  await Promise.all([startApi('A'), startApi('B')]);
  workers.push(runEntry('workers/index.ts', env), runEntry('workers/index.ts', env));
  http = httpClient(apis.A.url);
  admin = await loginAdmin(http);
  customer = await registerCustomer(http);
}, 90_000);

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await Promise.all([...workers.map((w) => w.stop()), ...Object.values(apis).map((a) => a.process.stop())]);
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Received {
  event: string;
  payload: any;
}

/** A dashboard connection that records every event it gets. */
function dashboard(url: string, token: string, options: { ackReplays?: boolean } = {}) {
  const socket = connect(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(socket);
  const received: Received[] = [];
  socket.onAny((event: string, payload: unknown, ack?: unknown) => {
    received.push({ event, payload });
    if (typeof ack === 'function' && options.ackReplays !== false) (ack as () => void)();
  });
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => reject(error));
  });
  return { socket, received, connected, of: (event: string) => received.filter((r) => r.event === event) };
}

function emitWithAck(socket: Socket, event: string, payload: unknown): Promise<any> {
  return socket.timeout(5_000).emitWithAck(event, payload);
}

async function placeOrderFor(seller: Actor, productId: string, quantity = 1) {
  const res = await http.post('/api/orders', orderBody([{ productId, quantity }]), { token: customer.token });
  expect(res.status).toBe(201);
  expect(res.body.orders[0].seller.id).toBe(seller.id);
  return res.body.orders[0] as { id: string; orderNumber: string };
}

describe('seller notifications across instances', () => {
  it('a seller connected to instance B gets the notification of an order posted to instance A', async () => {
    const seller = await createActor(http, admin, 'seller');
    const product = await createProduct(http, seller);
    const d = dashboard(apis.B.url, seller.token);
    await d.connected;

    const order = await placeOrderFor(seller, product.id);
    await eventually(async () => expect(d.of('order_notification').map((r) => r.payload.orderId)).toEqual([order.id]));
    const notice = d.of('order_notification')[0]!.payload;
    expect(notice).toMatchObject({
      orderNumber: order.orderNumber,
      eventId: expect.any(String),
      occurredAt: expect.any(String),
    });
    await eventually(async () => expect(d.of('order:created').map((r) => r.payload.order.id)).toEqual([order.id]));
    expect(await emitWithAck(d.socket, 'notification:ack', { ids: [notice.notificationId] })).toEqual({
      ok: true,
      acknowledged: 1,
    });
  });

  it('a seller offline while 3 orders are placed gets all 3 on connect, oldest first; once acked, never again', async () => {
    const seller = await createActor(http, admin, 'seller');
    const product = await createProduct(http, seller);
    const orders: Array<{ id: string; orderNumber: string }> = [];
    for (let i = 0; i < 3; i++) orders.push(await placeOrderFor(seller, product.id));
    await eventually(async () => {
      const list = await http.get('/api/notifications', { token: seller.token });
      expect(list.body.total).toBe(3);
    });

    // First connection does not acknowledge: everything comes again next time.
    const unacked = dashboard(apis.A.url, seller.token, { ackReplays: false });
    await unacked.connected;
    await eventually(async () => expect(unacked.of('order_notification')).toHaveLength(3));
    unacked.socket.disconnect();

    const first = dashboard(apis.B.url, seller.token);
    await first.connected;
    await eventually(async () =>
      expect(first.of('order_notification').map((r) => r.payload.orderId)).toEqual(orders.map((o) => o.id)),
    );
    expect(first.of('order_notification').every((r) => r.payload.replayed === true)).toBe(true);
    await eventually(async () => {
      const unread = await http.get('/api/notifications', { token: seller.token });
      expect(unread.body.data.every((n: { deliveredAt?: string }) => n.deliveredAt)).toBe(true);
    });
    first.socket.disconnect();

    const again = dashboard(apis.A.url, seller.token);
    await again.connected;
    // A live order after reconnecting arrives, and is the only notification this connection sees.
    const later = await placeOrderFor(seller, product.id);
    await eventually(async () =>
      expect(again.of('order_notification').map((r) => r.payload.orderId)).toEqual([later.id]),
    );
  });

  it('the instance holding the socket is killed while orders keep coming: the seller reconnects elsewhere and misses nothing', async () => {
    const seller = await createActor(http, admin, 'seller');
    const product = await createProduct(http, seller);
    const seen = new Set<string>();
    const track = (d: ReturnType<typeof dashboard>) => {
      d.socket.on('order_notification', (payload: { orderId: string; notificationId: string }) => {
        seen.add(payload.orderId);
        void emitWithAck(d.socket, 'notification:ack', { ids: [payload.notificationId] }).catch(() => {});
      });
    };
    const onB = dashboard(apis.B.url, seller.token);
    track(onB);
    await onB.connected;

    const placed: string[] = [];
    for (let i = 0; i < 3; i++) placed.push((await placeOrderFor(seller, product.id)).id);
    await eventually(async () => expect(placed.every((id) => seen.has(id))).toBe(true));

    const lost = new Promise<void>((resolve) => onB.socket.once('disconnect', () => resolve()));
    await apis.B.process.stop('SIGKILL');
    for (let i = 0; i < 3; i++) placed.push((await placeOrderFor(seller, product.id)).id);
    await lost;

    const onA = dashboard(apis.A.url, seller.token);
    track(onA);
    await onA.connected;
    for (let i = 0; i < 3; i++) placed.push((await placeOrderFor(seller, product.id)).id);
    await eventually(async () => expect(placed.filter((id) => !seen.has(id))).toEqual([]), 30_000);
    await startApi('B');
  });
});

describe('who receives what', () => {
  it('no seller receives another seller’s order; a customer only its own orders’ events', async () => {
    const [sellerOne, sellerTwo] = await Promise.all([
      createActor(http, admin, 'seller'),
      createActor(http, admin, 'seller'),
    ]);
    const otherCustomer = await registerCustomer(http);
    const product = await createProduct(http, sellerOne);
    const one = dashboard(apis.A.url, sellerOne.token);
    const two = dashboard(apis.B.url, sellerTwo.token);
    const mine = dashboard(apis.B.url, customer.token);
    const theirs = dashboard(apis.A.url, otherCustomer.token);
    await Promise.all([one.connected, two.connected, mine.connected, theirs.connected]);

    const order = await placeOrderFor(sellerOne, product.id);
    await eventually(async () => {
      expect(one.of('order_notification').map((r) => r.payload.orderId)).toEqual([order.id]);
      expect(mine.of('order:created').map((r) => r.payload.order.id)).toEqual([order.id]);
      expect(mine.of('order:inventory-reduced').map((r) => r.payload.orderId)).toEqual([order.id]);
    });
    // A second order, for the other seller's customer, proves the channel is flowing to them too.
    const productTwo = await createProduct(http, sellerTwo);
    const res = await http.post('/api/orders', orderBody([{ productId: productTwo.id, quantity: 1 }]), {
      token: otherCustomer.token,
    });
    await eventually(async () => {
      expect(two.of('order_notification').map((r) => r.payload.orderId)).toEqual([res.body.orders[0].id]);
      expect(theirs.of('order:created').map((r) => r.payload.order.id)).toEqual([res.body.orders[0].id]);
    });
    expect(two.received.some((r) => JSON.stringify(r.payload).includes(order.id))).toBe(false);
    expect(theirs.received.some((r) => JSON.stringify(r.payload).includes(order.id))).toBe(false);
    expect(mine.received.some((r) => JSON.stringify(r.payload).includes(res.body.orders[0].id))).toBe(false);
    expect(one.received.some((r) => JSON.stringify(r.payload).includes(res.body.orders[0].id))).toBe(false);
  });

  it('order rooms: the owner and staff may subscribe, nobody else', async () => {
    const seller = await createActor(http, admin, 'seller');
    const staff = await createActor(http, admin, 'staff');
    const stranger = await registerCustomer(http);
    const product = await createProduct(http, seller);
    const order = await placeOrderFor(seller, product.id);
    const owner = dashboard(apis.A.url, customer.token);
    const staffer = dashboard(apis.B.url, staff.token);
    const other = dashboard(apis.A.url, stranger.token);
    await Promise.all([owner.connected, staffer.connected, other.connected]);

    expect(await emitWithAck(owner.socket, 'subscribe:order', { orderId: order.id })).toMatchObject({ ok: true });
    expect(await emitWithAck(staffer.socket, 'subscribe:order', { orderId: order.id })).toMatchObject({ ok: true });
    expect(await emitWithAck(other.socket, 'subscribe:order', { orderId: order.id })).toEqual({
      ok: false,
      error: 'not_found',
    });
    expect(await emitWithAck(other.socket, 'subscribe:order', { orderId: 'nope' })).toEqual({
      ok: false,
      error: 'invalid payload',
    });

    expect((await http.request('PUT', `/api/orders/${order.id}/confirm`, { token: seller.token })).status).toBe(200);
    await eventually(async () => {
      expect(staffer.of('order:updated').map((r) => r.payload.order.status)).toEqual(['confirmed']);
      expect(owner.of('order_confirmed').map((r) => r.payload.orderId)).toEqual([order.id]);
    });
    expect(other.of('order:updated')).toEqual([]);
  });
});

describe('handshake and client events', () => {
  it('refuses missing, garbage, expired, foreign-signed and alg:none tokens with "unauthorized"', async () => {
    const seller = await createActor(http, admin, 'seller');
    const secret = new TextEncoder().encode(env.JWT_SECRET ?? 'dev-only-jwt-secret-do-not-use-in-production');
    const expired = await new SignJWT({ role: 'seller', name: 'x' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(seller.id)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 5)
      .sign(secret);
    const foreign = await new SignJWT({ role: 'admin', name: 'x' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(seller.id)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-another-secret-123456'));
    const none = new UnsecuredJWT({ role: 'admin', name: 'x' }).setSubject(seller.id).setExpirationTime('1h').encode();

    for (const token of [undefined, 'garbage', expired, foreign, none]) {
      const d = dashboard(apis.A.url, token as string);
      await expect(d.connected).rejects.toThrow('unauthorized');
    }
  });

  it('join_seller_room only for the seller’s own id; order_placed from a client announces nothing', async () => {
    const seller = await createActor(http, admin, 'seller');
    const otherSeller = await createActor(http, admin, 'seller');
    const product = await createProduct(http, seller);
    const d = dashboard(apis.A.url, seller.token);
    const spy = dashboard(apis.B.url, otherSeller.token);
    await Promise.all([d.connected, spy.connected]);

    expect(await emitWithAck(d.socket, 'join_seller_room', { sellerId: seller.id })).toEqual({
      ok: true,
      sellerId: seller.id,
    });
    expect(await emitWithAck(spy.socket, 'join_seller_room', { sellerId: seller.id })).toEqual({
      ok: false,
      error: 'forbidden',
    });

    spy.socket.emit('order_placed', { sellerId: seller.id, order: { id: 'fake', orderNumber: 'FAKE' } });
    // A real order afterwards: when its notification has arrived, the fake would have too.
    const order = await placeOrderFor(seller, product.id);
    await eventually(async () => expect(d.of('order_notification').map((r) => r.payload.orderId)).toEqual([order.id]));
    expect(d.received.some((r) => JSON.stringify(r.payload).includes('FAKE'))).toBe(false);
    expect(spy.of('order_notification')).toEqual([]);
  });
});

describe('presence', () => {
  it('a seller with tabs on both instances is online until both close, as admins see it', async () => {
    const seller = await createActor(http, admin, 'seller');
    const watcher = dashboard(apis.A.url, admin.token);
    await watcher.connected;
    const mine = (event: string) => watcher.of(event).filter((r) => r.payload.sellerId === seller.id);

    const tabA = dashboard(apis.A.url, seller.token);
    await tabA.connected;
    await eventually(async () => expect(mine('seller:online')).toHaveLength(1));
    const tabB = dashboard(apis.B.url, seller.token);
    await tabB.connected;
    tabA.socket.disconnect();
    // Closing one of two tabs changes nothing; closing the second makes the seller offline.
    const probe = await createActor(http, admin, 'seller');
    const probeTab = dashboard(apis.B.url, probe.token);
    await probeTab.connected;
    await eventually(async () =>
      expect(watcher.of('seller:online').some((r) => r.payload.sellerId === probe.id)).toBe(true),
    );
    expect(mine('seller:offline')).toHaveLength(0);
    expect(mine('seller:online')).toHaveLength(1);

    tabB.socket.disconnect();
    await eventually(async () => expect(mine('seller:offline')).toHaveLength(1));
  });
});
