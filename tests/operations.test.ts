import { validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES } from '../src/jobs/queues.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { ADMIN, startTestApi, type TestApi } from './helpers/system.js';

let api: TestApi;
let http: HttpClient;
let admin: Actor;
let staff: Actor;
let customer: Actor;

beforeAll(async () => {
  api = await startTestApi();
  http = httpClient(api.url);
  admin = await loginAdmin(http);
  [staff, customer] = await Promise.all([createActor(http, admin, 'staff'), registerCustomer(http)]);
});
afterAll(() => api?.close());

describe('Bull Board', () => {
  it('refuses anonymous callers (a browser is sent to sign in) and non-admins', async () => {
    expect((await http.get('/admin/queues/api/queues')).status).toBe(401);
    const browser = await fetch(`${api.url}/admin/queues`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(browser.status).toBe(302);
    expect(browser.headers.get('location')).toBe('/admin/login');
    for (const actor of [customer, staff]) {
      expect((await http.get('/admin/queues/api/queues', { token: actor.token })).status, actor.role).toBe(403);
    }
  });

  it('shows every queue to an admin', async () => {
    const res = await http.get('/admin/queues/api/queues', { token: admin.token });
    expect(res.status).toBe(200);
    expect(res.body.queues.map((q: { name: string }) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
    const page = await http.get('/admin/queues', { token: admin.token });
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain('Order backend queues');
  });

  it('an admin signs in from a browser form and gets a session cookie for /admin', async () => {
    const wrong = await fetch(`${api.url}/admin/login`, {
      method: 'POST',
      body: new URLSearchParams({ email: ADMIN.email, password: 'nope-nope' }),
      redirect: 'manual',
    });
    expect(wrong.status).toBe(401);
    const login = await fetch(`${api.url}/admin/login`, {
      method: 'POST',
      body: new URLSearchParams(ADMIN),
      redirect: 'manual',
    });
    expect(login.status).toBe(303);
    // Through a check that the browser kept the cookie (tests/hardening.test.ts), then to the board.
    expect(login.headers.get('location')).toBe('/admin/login/check');
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/admin_session=.+; Path=\/admin; HttpOnly; SameSite=Strict/);
    const queues = await fetch(`${api.url}/admin/queues/api/queues`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(queues.status).toBe(200);

    const notAdmin = await fetch(`${api.url}/admin/login`, {
      method: 'POST',
      body: new URLSearchParams({ email: customer.email, password: 'customer-pass-1' }),
      redirect: 'manual',
    });
    expect(notAdmin.status).toBe(403);
  });
});

describe('Prometheus metrics', () => {
  it('expose request durations by route, queues, orders, caches, notifications, sockets and Redis memory', async () => {
    const seller = await createActor(http, admin, 'seller');
    const product = await createProduct(http, seller);
    const placed = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 1 }]), {
      token: customer.token,
    });
    await http.get(`/api/orders/${placed.body.orders[0].id}`, { token: customer.token });

    const res = await fetch(`${api.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="POST",route="\/api\/orders",status="201"\} [1-9]/,
    );
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/api\/orders\/:id",status="200"\} [1-9]/,
    );
    for (const queue of QUEUE_NAMES) expect(text).toContain(`queue_jobs{queue="${queue}",state="waiting"}`);
    expect(text).toMatch(/orders_created_total [1-9]/);
    expect(text).toMatch(/cache_lookups_total\{cache="order",result="hit"\} [1-9]/);
    expect(text).toMatch(/notifications_waiting \d+/);
    expect(text).toMatch(/socket_connections 0/);
    expect(text).toMatch(/redis_memory_used_bytes [1-9]/);
  });
});

describe('API documentation', () => {
  it('/openapi.json is valid OpenAPI 3.1 and documents every route the API mounts', async () => {
    const doc = (await http.get('/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc));
    expect(result.valid, JSON.stringify('errors' in result ? result.errors : [])).toBe(true);

    const documented = new Set(
      Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
      ),
    );
    const mounted = api.server.app.routes
      .filter(
        (r) => (r.path.startsWith('/api/') || r.path === '/healthz' || r.path === '/readyz') && r.method !== 'ALL',
      )
      .map((r) => `${r.method} ${r.path}`);
    expect(mounted.length).toBeGreaterThan(30);
    for (const route of mounted) expect(documented, route).toContain(route);
  });

  it('/docs serves the reference UI', async () => {
    const res = await http.get('/docs');
    expect(res.status).toBe(200);
    expect(String(res.body)).toContain('/openapi.json');
  });
});
