import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, redisServer, type ManagedService } from '../scripts/embedded-services.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { eventually } from './helpers/processes.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { ADMIN, startTestApi, testConfig, type TestApi } from './helpers/system.js';

// Own Redis (to stop it) and low limits.
let dir: string;
let redis: ManagedService;
let api: TestApi;
let http: HttpClient;
let seller: Actor;
let customer: Actor;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orders-limits-'));
  redis = redisServer({ port: await freePort(), dataDir: dir });
  await redis.start();
  api = await startTestApi(
    testConfig({ REDIS_URL: redis.url, RATE_LIMIT_ORDERS_PER_MINUTE: '2', RATE_LIMIT_AUTH_PER_MINUTE: '8' }),
  );
  http = httpClient(api.url);
  const admin = await loginAdmin(http);
  [seller, customer] = await Promise.all([createActor(http, admin, 'seller'), registerCustomer(http)]);
});
afterAll(async () => {
  await api?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('rate limits', () => {
  it('a customer placing orders too fast gets 429 with Retry-After and RateLimit-* headers', async () => {
    const product = await createProduct(http, seller);
    const place = () =>
      http.post('/api/orders', orderBody([{ productId: product.id, quantity: 1 }]), { token: customer.token });
    const first = await place();
    expect(first.status).toBe(201);
    expect(first.headers.get('ratelimit-limit')).toBe('2');
    expect(first.headers.get('ratelimit-remaining')).toBe('1');
    expect((await place()).status).toBe(201);
    const limited = await place();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    // Another customer has a budget of its own.
    const other = await registerCustomer(http);
    expect(
      (await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 1 }]), { token: other.token }))
        .status,
    ).toBe(201);
  });

  it('requests arriving together are each counted: of six at once against a limit of two, exactly two pass', async () => {
    const product = await createProduct(http, seller);
    const buyer = await registerCustomer(http);
    const responses = await Promise.all(
      Array.from({ length: 6 }, () =>
        http.post('/api/orders', orderBody([{ productId: product.id, quantity: 1 }]), { token: buyer.token }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 429, 429, 429, 429]);
    // Each passing one was told its own place in the window.
    const remaining = responses.filter((r) => r.status === 201).map((r) => r.headers.get('ratelimit-remaining'));
    expect(remaining.sort()).toEqual(['0', '1']);
  });

  it('logins and registrations are limited per IP: once refused, every further attempt is refused', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await http.post('/api/auth/login', { email: ADMIN.email, password: 'wrong-password' })).status);
    }
    const firstRefusal = statuses.indexOf(429);
    expect(firstRefusal).toBeGreaterThan(0);
    expect(statuses.slice(0, firstRefusal).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(firstRefusal).every((s) => s === 429)).toBe(true);
    // Even the right password waits out the window.
    expect((await http.post('/api/auth/login', ADMIN)).status).toBe(429);
  });

  it('while Redis is down, requests are let through', async () => {
    await redis.stop();
    try {
      const res = await http.post('/api/auth/login', ADMIN);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBeNull();
    } finally {
      await redis.start();
    }
    // A restarted Redis has no scripts loaded: once the API has reconnected, requests are counted again.
    await eventually(async () => {
      const res = await http.get('/api/auth/me', { token: customer.token });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).not.toBeNull();
    });
  });
});
