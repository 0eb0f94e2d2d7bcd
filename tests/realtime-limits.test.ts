import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferretDB, freePort, redisServer, type ManagedService } from '../scripts/embedded-services.js';
import { Notification } from '../src/features/notifications/notification.model.js';
import { recordNotifications } from '../src/features/notifications/notifications.service.js';
import { createActor, loginAdmin, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { eventually } from './helpers/processes.js';
import { startTestApi, testConfig, type TestApi } from './helpers/system.js';

/**
 * What a socket client may cost the server: acknowledgements bounded in size
 * and written in a fixed number of database commands, and every client event
 * under a per-socket rate limit. This file owns its FerretDB, so the commands
 * it counts (`serverStatus`) are its own, and its Redis, so no other file's
 * events reach its sockets.
 */

let dir: string;
let mongo: ManagedService;
let redis: ManagedService;
let api: TestApi;
let http: HttpClient;
let admin: Actor;
const sockets: Socket[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orders-realtime-limits-'));
  mongo = ferretDB({ port: await freePort(), dataDir: join(dir, 'ferretdb') });
  redis = redisServer({ port: await freePort(), dataDir: join(dir, 'redis') });
  await Promise.all([mongo.start(), redis.start()]);
  api = await startTestApi(testConfig({ MONGODB_URI: mongo.url, REDIS_URL: redis.url }));
  http = httpClient(api.url);
  admin = await loginAdmin(http);
}, 60_000);

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await api?.close();
  await Promise.all([mongo?.stop(), redis?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

interface Received {
  event: string;
  payload: any;
}

/** A dashboard connection that records every event it gets (`error` events included). */
function dashboard(token: string, options: { ackReplays?: boolean } = {}) {
  const socket = connect(api.url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
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
  const disconnected = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
  const of = (event: string) => received.filter((r) => r.event === event);
  return { socket, received, connected, disconnected, of };
}

function emitWithAck(socket: Socket, event: string, payload: unknown): Promise<any> {
  return socket.timeout(5_000).emitWithAck(event, payload);
}

/** `count` stored order notifications for `seller`, oldest first, as the notify job stores them. */
async function storedNotifications(seller: Actor, count: number): Promise<string[]> {
  const start = Date.now() - 60_000;
  const stored = await recordNotifications(
    Array.from({ length: count }, (_, i) => {
      const orderId = new mongoose.Types.ObjectId().toHexString();
      return {
        recipientId: seller.id,
        type: 'order_notification',
        orderId,
        dedupeKey: `order_notification:${orderId}`,
        occurredAt: new Date(start + i),
        payload: { orderId, orderNumber: `ORD-TEST-${i}` },
      };
    }),
  );
  return stored.map((n) => n._id.toHexString());
}

const deliveredAtOf = async (ids: readonly string[]) =>
  Promise.all(
    ids.map(async (id) => (await Notification.findById(id, { deliveredAt: 1 }).lean())?.deliveredAt?.getTime()),
  );

/** Commands FerretDB has run, by name, leaving out the driver's own monitoring and handshakes. */
async function databaseCommands(): Promise<Record<string, number>> {
  const status = await mongoose.connection.db!.admin().command({ serverStatus: 1 });
  const commands = (status.metrics?.commands ?? {}) as Record<string, { total?: unknown }>;
  const monitoring = new Set(['hello', 'ismaster', 'isMaster', 'ping', 'serverStatus', 'buildInfo', 'unknown']);
  return Object.fromEntries(
    Object.entries(commands)
      .filter(([name]) => !monitoring.has(name))
      .map(([name, counts]) => [name, Number(counts.total ?? 0)]),
  );
}

const commandsBetween = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(after)
      .map(([name, total]) => [name, total - (before[name] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const randomIds = (n: number) => Array.from({ length: n }, () => randomBytes(12).toString('hex'));

describe('notification acknowledgements are bounded', () => {
  it('an ack of 1,000 ids is refused whole, naming the limit, and changes nothing; malformed ones too, and the socket keeps working', async () => {
    const seller = await createActor(http, admin, 'seller');
    const ids = await storedNotifications(seller, 3);
    const d = dashboard(seller.token, { ackReplays: false });
    await d.connected;
    await eventually(async () => expect(d.of('order_notification')).toHaveLength(3));

    const tooMany = [...ids, ...randomIds(997)];
    expect(await emitWithAck(d.socket, 'notification:ack', { ids: tooMany })).toEqual({
      ok: false,
      error: 'too_many_ids',
      message: expect.stringContaining('at most 100 ids'),
    });
    // Without an ack callback the refusal comes as an `error` event.
    d.socket.emit('notification:ack', { ids: tooMany });
    await eventually(async () =>
      expect(d.of('error').map((r) => r.payload)).toEqual([
        expect.objectContaining({ event: 'notification:ack', error: 'too_many_ids' }),
      ]),
    );

    for (const malformed of [
      null,
      'x',
      42,
      {},
      { ids: 'abc' },
      { ids: [1, 2] },
      { ids: ['zz'] },
      { ids: [ids[0], {}] },
    ]) {
      expect(await emitWithAck(d.socket, 'notification:ack', malformed)).toMatchObject({
        ok: false,
        error: 'invalid payload',
      });
    }
    // Something other than a callback where the ack goes is no reason to crash.
    d.socket.emit('notification:ack', { ids: randomIds(1) }, 'not a callback');
    d.socket.emit('subscribe:order', 'not an order', 'not a callback');
    expect(await deliveredAtOf(ids)).toEqual([undefined, undefined, undefined]);

    // Duplicates collapse; the seller's own are then acknowledged once each.
    expect(await emitWithAck(d.socket, 'notification:ack', { ids: [...ids, ids[0], ids[1]!.toUpperCase()] })).toEqual({
      ok: true,
      acknowledged: 3,
    });
    expect((await deliveredAtOf(ids)).every((t) => typeof t === 'number')).toBe(true);
    expect(d.socket.connected).toBe(true);
  });

  it('an ack of 100 ids acknowledges exactly the seller’s own unacknowledged ones, in a few database commands', async ({
    annotate,
  }) => {
    const [seller, other] = await Promise.all([createActor(http, admin, 'seller'), createActor(http, admin, 'seller')]);
    const own = await storedNotifications(seller, 60);
    const earlier = new Date(Date.now() - 3_600_000);
    const alreadyAcked = own.slice(0, 20);
    await Promise.all(
      alreadyAcked.map((id) => Notification.updateOne({ _id: id }, { $set: { deliveredAt: earlier } })),
    );
    const others = await storedNotifications(other, 40);

    const d = dashboard(seller.token, { ackReplays: false });
    await d.connected;
    await eventually(async () => expect(d.of('order_notification')).toHaveLength(40));

    const before = await databaseCommands();
    const answer = await emitWithAck(d.socket, 'notification:ack', { ids: [...own, ...others] });
    const used = commandsBetween(before, await databaseCommands());
    await annotate(`database commands for an ack of 100 ids: ${JSON.stringify(used)}`);

    expect(answer).toEqual({ ok: true, acknowledged: 40 });
    expect(sum(used)).toBeLessThanOrEqual(3);
    const delivered = await deliveredAtOf(own);
    expect(delivered.slice(0, 20)).toEqual(alreadyAcked.map(() => earlier.getTime()));
    expect(delivered.slice(20).every((t) => typeof t === 'number' && t > earlier.getTime())).toBe(true);
    expect(await deliveredAtOf(others)).toEqual(others.map(() => undefined));
  });

  it('notifications acknowledged on replay are written together, and never replayed again', async ({ annotate }) => {
    const seller = await createActor(http, admin, 'seller');
    const ids = await storedNotifications(seller, 30);

    const before = await databaseCommands();
    const first = dashboard(seller.token);
    await first.connected;
    await eventually(async () => expect(first.of('order_notification')).toHaveLength(30));
    await eventually(async () => expect((await deliveredAtOf(ids)).every((t) => typeof t === 'number')).toBe(true));
    const used = commandsBetween(before, await databaseCommands());
    await annotate(
      `database commands for a replay of 30, acknowledged (the test's own reads included): ${JSON.stringify(used)}`,
    );
    // One write per acknowledgement before; those that arrive together now share one.
    expect(used.update ?? 0).toBeLessThan(ids.length / 2);
    first.socket.disconnect();

    // A new one is replayed alone: the replay sends everything pending at once, oldest first.
    const [later] = await storedNotifications(seller, 1);
    const again = dashboard(seller.token);
    await again.connected;
    await eventually(async () =>
      expect(again.of('order_notification').map((r) => r.payload.notificationId)).toEqual([later]),
    );
  });
});

describe('client events are rate limited per socket', () => {
  it('a socket flooding 500 events is told once, dropped, then disconnected; another seller’s socket keeps working', async () => {
    const [flooder, bystander] = await Promise.all([
      createActor(http, admin, 'seller'),
      createActor(http, admin, 'seller'),
    ]);
    const [mine] = await storedNotifications(bystander, 1);
    const flood = dashboard(flooder.token);
    const calm = dashboard(bystander.token, { ackReplays: false });
    await Promise.all([flood.connected, calm.connected]);
    await eventually(async () => expect(calm.of('order_notification')).toHaveLength(1));

    let answered = 0;
    for (let i = 0; i < 500; i++) {
      const event = i % 2 ? 'join_seller_room' : 'notification:ack';
      const payload = i % 2 ? { sellerId: flooder.id } : { ids: randomIds(1) };
      flood.socket.emit(event, payload, () => answered++);
    }
    expect(await flood.disconnected).toBe('io server disconnect');
    expect(flood.of('error').map((r) => r.payload.error)).toEqual(['rate_limited', 'flooding']);
    // The events over the limit were never handled (the burst and what trickled in meanwhile were).
    expect(answered).toBeLessThan(100);

    expect(await emitWithAck(calm.socket, 'join_seller_room', { sellerId: bystander.id })).toEqual({
      ok: true,
      sellerId: bystander.id,
    });
    expect(await emitWithAck(calm.socket, 'notification:ack', { ids: [mine] })).toEqual({ ok: true, acknowledged: 1 });
    expect(calm.of('error')).toEqual([]);
  });

  it('a socket a little over the limit is told once and dropped, but stays connected', async () => {
    const seller = await createActor(http, admin, 'seller');
    const d = dashboard(seller.token);
    await d.connected;
    const answers = await Promise.all(
      Array.from({ length: 60 }, () =>
        d.socket
          .timeout(1_500)
          .emitWithAck('join_seller_room', { sellerId: seller.id })
          .then(
            () => 'answered',
            () => 'dropped',
          ),
      ),
    );
    expect(answers.filter((a) => a === 'answered').length).toBeGreaterThanOrEqual(40);
    expect(answers).toContain('dropped');
    expect(d.of('error').map((r) => r.payload.error)).toEqual(['rate_limited']);
    expect(d.socket.connected).toBe(true);
  });
});
