import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, redisServer, type ManagedService } from '../scripts/embedded-services.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { eventually } from './helpers/processes.js';
import { startTestApi, testConfig, type TestApi } from './helpers/system.js';

// This file owns its Redis, so it can stop it; MongoDB is the shared test server.
// No workers: with Redis down they could not run anyway, and reads are under test.
let dir: string;
let ownRedis: ManagedService;
let api: TestApi;
let http: HttpClient;
let admin: Actor;
let staff: Actor;
let seller: Actor;
let customer: Actor;
let stranger: Actor;

const withoutUpdatedAt = ({ updatedAt: _updatedAt, ...rest }: Record<string, unknown>) => rest;

/** A short-lived client for looking at the cache, so nothing of ours reconnects while Redis is down. */
async function inRedis<T>(use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(ownRedis.url, { maxRetriesPerRequest: 1 });
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orders-redis-down-'));
  ownRedis = redisServer({ port: await freePort(), dataDir: join(dir, 'redis') });
  await ownRedis.start();
  api = await startTestApi(testConfig({ REDIS_URL: ownRedis.url }));
  http = httpClient(api.url);
  admin = await loginAdmin(http);
  [staff, seller, customer, stranger] = await Promise.all([
    createActor(http, admin, 'staff'),
    createActor(http, admin, 'seller', 'Offline Cache Seller'),
    registerCustomer(http, 'Nadia'),
    registerCustomer(http, 'Omar'),
  ]);
});
afterAll(async () => {
  await api?.close();
  await ownRedis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('reads with Redis down', () => {
  it('fall back to MongoDB with correct data, and use the cache again once Redis is back', async () => {
    const tea = await createProduct(http, seller, { price: 1_200, stock: 20 });
    const cups = await createProduct(http, seller, { price: 350, stock: 20 });
    const place = async (items: Array<{ productId: string; quantity: number }>) => {
      const res = await http.post('/api/orders', orderBody(items), { token: customer.token });
      expect(res.status).toBe(201);
      return res.body.orders[0];
    };
    const order = await place([
      { productId: tea.id, quantity: 2 },
      { productId: cups.id, quantity: 3 },
    ]);
    const other = await place([{ productId: tea.id, quantity: 1 }]);
    const uncached = await place([{ productId: cups.id, quantity: 5 }]);

    const confirmed = await http.request('PUT', `/api/orders/${order.id}/confirm`, {
      token: seller.token,
      body: { estimatedDelivery: '2031-02-03' },
    });
    expect(confirmed.status).toBe(200);
    expect((await http.request('DELETE', `/api/orders/${other.id}`, { token: customer.token })).status).toBe(200);

    // Cached while Redis is up.
    const before = await http.get(`/api/orders/${order.id}`, { token: customer.token });
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ status: 'confirmed', version: confirmed.body.version });
    await inRedis(async (redis) => {
      expect(JSON.parse((await redis.get(`order:${order.id}`))!)).toEqual(before.body);
      await redis.del(`order:${uncached.id}`);
    });
    const statsUp = await http.get('/api/orders/stats', { token: admin.token });
    const expectedStats = {
      totalOrders: 3,
      openOrders: 2,
      inProgressOrders: 0,
      completedOrders: 0,
      cancelledOrders: 1,
      unpaidOrders: 2,
    };
    expect(statsUp.body).toEqual(expectedStats);

    await ownRedis.stop();
    await eventually(async () => {
      const ready = await http.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.redis).toBe('down');
    });

    const remaining = {
      orderId: order.id,
      items: {
        [tea.id]: { total: 2, delivered: 0, remaining: 2 },
        [cups.id]: { total: 3, delivered: 0, remaining: 3 },
      },
    };
    const checkReads = async () => {
      for (const actor of [customer, seller, staff, admin]) {
        const one = await http.get(`/api/orders/${order.id}`, { token: actor.token });
        expect(one.status, actor.role).toBe(200);
        // updatedAt aside: MongoDB's copy is a few ms later than the cached one of the
        // same version, because striking jobs off the outbox touches the timestamp.
        expect(withoutUpdatedAt(one.body), actor.role).toEqual(withoutUpdatedAt(before.body));

        const progress = await http.get(`/api/orders/${order.id}/progress`, { token: actor.token });
        expect(progress.status, actor.role).toBe(200);
        expect(progress.body, actor.role).toEqual({ orderId: order.id, progress: 0, status: 'confirmed' });

        const rest = await http.get(`/api/orders/${order.id}/remaining`, { token: actor.token });
        expect(rest.status, actor.role).toBe(200);
        expect(rest.body, actor.role).toEqual(remaining);

        const list = await http.get('/api/orders?sort=totalAmount', { token: actor.token });
        expect(list.status, actor.role).toBe(200);
        expect(list.body.total, actor.role).toBe(3);
        expect(
          list.body.data.map((x: any) => [x.id, x.status, x.totalAmount]),
          actor.role,
        ).toEqual([
          [other.id, 'cancelled', 1_200],
          [uncached.id, 'pending', 1_750],
          [order.id, 'confirmed', 3_450],
        ]);
      }
      // Never cached: straight from MongoDB.
      const fresh = await http.get(`/api/orders/${uncached.id}`, { token: customer.token });
      expect(fresh.status).toBe(200);
      expect(fresh.body).toMatchObject({ id: uncached.id, status: 'pending', totalAmount: 1_750 });

      for (const actor of [admin, staff]) {
        const stats = await http.get('/api/orders/stats', { token: actor.token });
        expect(stats.status, actor.role).toBe(200);
        expect(stats.body, actor.role).toEqual(expectedStats);
      }
      // Access rules still hold without the cache.
      for (const suffix of ['', '/progress', '/remaining']) {
        expect((await http.get(`/api/orders/${order.id}${suffix}`, { token: stranger.token })).status).toBe(404);
      }
      expect((await http.get('/api/orders', { token: stranger.token })).body.total).toBe(0);
    };

    await checkReads();

    await ownRedis.start();
    await eventually(async () => expect((await http.get('/readyz')).status).toBe(200));
    await checkReads();
    // The restarted Redis starts empty; the next read fills the cache again.
    await eventually(async () => {
      const res = await http.get(`/api/orders/${uncached.id}`, { token: customer.token });
      expect(res.status).toBe(200);
      await inRedis(async (redis) => {
        expect(JSON.parse((await redis.get(`order:${uncached.id}`)) ?? 'null')).toEqual(res.body);
        expect(await redis.get(`order:${uncached.id}:status`)).toBe('pending');
      });
    });
  });
});
