import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { ADMIN, startTestApi, testConfig, type TestApi } from './helpers/system.js';

// What an attack run found on the surfaces around the API (issue 12, items 2, 7 and 8).
// Own API instances: low login limits, a metrics token, and each cookie policy.
let api: TestApi;
let strict: TestApi;
let trusting: TestApi;
let http: HttpClient;
let customer: Actor;
const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

beforeAll(async () => {
  // Started together and closed together: instances in one process share mongoose's connection.
  [api, strict, trusting] = await Promise.all([
    startTestApi(testConfig({ QUEUE_PREFIX: 'hardening', RATE_LIMIT_AUTH_PER_MINUTE: '5', METRICS_TOKEN })),
    startTestApi(testConfig({ QUEUE_PREFIX: 'hardening-strict', ADMIN_COOKIE_SECURE: 'always' })),
    startTestApi(testConfig({ QUEUE_PREFIX: 'hardening-proxy', TRUST_PROXY: 'true' })),
  ]);
  http = httpClient(api.url);
  await loginAdmin(http);
  customer = await registerCustomer(http);
});
afterAll(async () => {
  await Promise.all([api?.close(), strict?.close(), trusting?.close()]);
});

const signIn = (base: string, email: string, password: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/admin/login`, {
    method: 'POST',
    body: new URLSearchParams({ email, password }),
    headers,
    redirect: 'manual',
  });

describe('the operations sign-in', () => {
  it('over plain HTTP (ADMIN_COOKIE_SECURE=auto) sets a cookie the browser keeps, checks it arrived, and signs out', async () => {
    const login = await signIn(api.url, ADMIN.email, ADMIN.password);
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/admin/login/check');
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).not.toMatch(/Secure/i);
    const pair = cookie.split(';')[0]!;

    const check = await fetch(`${api.url}/admin/login/check`, { headers: { cookie: pair }, redirect: 'manual' });
    expect(check.status).toBe(303);
    expect(check.headers.get('location')).toBe('/admin/queues');
    // A browser that did not keep it is told why, instead of landing on the form again.
    const lost = await fetch(`${api.url}/admin/login/check`, { redirect: 'manual' });
    expect(lost.status).toBe(400);
    expect(await lost.text()).toContain('did not keep the session cookie');

    const out = await fetch(`${api.url}/admin/logout`, { method: 'POST', headers: { cookie: pair } });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/admin_session=;.*Max-Age=0/);
    expect(await out.text()).toContain('Signed out.');
  });

  it('marks the cookie Secure when a trusted proxy says the request came over HTTPS', async () => {
    const viaProxy = await signIn(trusting.url, ADMIN.email, ADMIN.password, { 'x-forwarded-proto': 'https' });
    expect(viaProxy.headers.get('set-cookie')).toMatch(/; Secure/);
    // Without TRUST_PROXY the header is anybody's to send, and is not believed.
    const untrusted = await signIn(api.url, ADMIN.email, ADMIN.password, { 'x-forwarded-proto': 'https' });
    expect(untrusted.headers.get('set-cookie')).not.toMatch(/Secure/i);
  });

  it('with ADMIN_COOKIE_SECURE=always over plain HTTP, says the cookie cannot be kept rather than failing silently', async () => {
    const res = await signIn(strict.url, ADMIN.email, ADMIN.password);
    expect(res.status).toBe(400);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('Open the operations pages over HTTPS');
  });

  it('is rate-limited like the API login: wrong passwords from one address get 429 with Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await signIn(api.url, ADMIN.email, `wrong-password-${i}`)).status);
    // The address's budget (5 a minute here) is shared with this file's other sign-ins: 401s, then 429s.
    expect(
      statuses.every((status) => status === 401 || status === 429),
      String(statuses),
    ).toBe(true);
    expect(statuses.indexOf(429), String(statuses)).toBeGreaterThan(-1);
    expect(
      statuses.slice(statuses.indexOf(429)).every((status) => status === 429),
      String(statuses),
    ).toBe(true);
    const limited = await signIn(api.url, ADMIN.email, ADMIN.password);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.text()).toContain('Too many sign-in attempts');
  });
});

describe('response headers', () => {
  it('nosniff everywhere, no framing of the sign-in page, no caching of personal data', async () => {
    const page = await fetch(`${api.url}/admin/login`);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    const me = await http.get('/api/auth/me', { token: customer.token });
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    expect(me.headers.get('cache-control')).toBe('no-store');
    expect(me.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('keeps a client X-Request-Id only when short and of safe characters', async () => {
    const echo = async (id: string) =>
      (await fetch(`${api.url}/healthz`, { headers: { 'x-request-id': id } })).headers.get('x-request-id');
    expect(await echo('abc-123_DEF=')).toBe('abc-123_DEF=');
    for (const bad of ['a'.repeat(65), 'x<script>', 'two words', 'line\tbreak']) {
      const answered = await echo(bad);
      expect(answered, bad).not.toBe(bad);
      expect(answered).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('a chunked body (no Content-Length) is limited as it streams, and one within the limit is read', async () => {
    const port = Number(new URL(api.url).port);
    const send = (chunks: string[]) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            port,
            host: '127.0.0.1',
            method: 'POST',
            path: '/api/orders',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${customer.token}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        );
        req.on('error', reject);
        for (const chunk of chunks) req.write(chunk);
        req.end();
      });
    // Written in pieces, so Node sends it chunked. An order with no items: read, and refused as invalid.
    expect(await send(['{"items":', '[]}'])).toBe(400);
    const padding = 'x'.repeat(api.config.BODY_LIMIT_BYTES);
    expect(await send(['{"notes":"', padding, '"}'])).toBe(413);
  });

  it('closes the connection after a 413, and says so, so the next request goes on a fresh one', async () => {
    const port = Number(new URL(api.url).port);
    const answer = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = httpRequest(
        {
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/api/orders',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${customer.token}` },
        },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode!, connection: res.headers.connection });
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ padding: 'x'.repeat(api.config.BODY_LIMIT_BYTES + 10) }));
    });
    expect(answer).toEqual({ status: 413, connection: 'close' });
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  });

  it('/metrics needs the token when METRICS_TOKEN is set', async () => {
    expect((await fetch(`${api.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${api.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('http_request_duration_seconds');
    // Unset (the other instance), it is public as before.
    expect((await fetch(`${strict.url}/metrics`)).status).toBe(200);
  });
});
