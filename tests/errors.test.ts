import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter, handleError } from '../src/lib/http.js';
import { createActor, loginAdmin, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { startTestApi, type TestApi } from './helpers/system.js';

let api: TestApi;
let http: HttpClient;
let admin: Actor;
let seller: Actor;

beforeAll(async () => {
  api = await startTestApi();
  http = httpClient(api.url);
  admin = await loginAdmin(http);
  seller = await createActor(http, admin, 'seller');
});
afterAll(() => api.close());

/** Every error is a problem document with the fields RFC 9457 names. */
function expectProblem(res: { status: number; headers: Headers; body: any }, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({
    status,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
  });
}

describe('bad input is a 4xx problem, never a 500', () => {
  it('malformed JSON → 400', async () => {
    const res = await http.request('POST', '/api/auth/login', { rawBody: '{"email": "a@b.c", "password": ' });
    expectProblem(res, 400);
    expect(res.body.detail).toMatch(/malformed json/i);
  });

  it('a JSON body that is not an object → 400', async () => {
    for (const rawBody of ['[]', '"text"', '42', 'null']) {
      expectProblem(await http.request('POST', '/api/auth/login', { rawBody }), 400);
    }
  });

  it('wrong types → 400 listing each bad field', async () => {
    const res = await http.post(
      '/api/products',
      { name: 42, sku: ['x'], price: '100', stock: true },
      { token: seller.token },
    );
    expectProblem(res, 400);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['name', 'price', 'sku', 'stock']);
    for (const error of res.body.errors) expect(error.message).toEqual(expect.any(String));
  });

  it('operator objects where strings belong → 400, not a query', async () => {
    const login = await http.post('/api/auth/login', { email: { $gt: '' }, password: { $ne: null } });
    expectProblem(login, 400);
    // Query keys with brackets are plain (unknown) names, never operators.
    const search = await http.get('/api/products?sellerId[$ne]=x&search[$regex]=.*', { token: seller.token });
    expect(search.status).toBe(200);
    const arrayValue = await http.get(
      '/api/products?sellerId=aaaaaaaaaaaaaaaaaaaaaaaa&sellerId=bbbbbbbbbbbbbbbbbbbbbbbb',
      {
        token: seller.token,
      },
    );
    expect(arrayValue.status).toBeLessThan(500);
  });

  it('oversized bodies → 413', async () => {
    const res = await http.request('POST', '/api/auth/register', {
      rawBody: JSON.stringify({ name: 'x'.repeat(200_000) }),
    });
    expectProblem(res, 413);
  });

  it('a body that is not JSON → 415', async () => {
    const res = await http.request('POST', '/api/auth/login', {
      rawBody: 'email=a',
      headers: { 'content-type': 'text/plain' },
    });
    expectProblem(res, 415);
  });

  it('a missing body → 400', async () => {
    const res = await http.request('POST', '/api/auth/login', { headers: { 'content-type': 'application/json' } });
    expectProblem(res, 400);
  });

  it('control characters in names → 400', async () => {
    const res = await http.post('/api/auth/register', {
      name: 'Bad\u0000Name',
      email: 'ctl@example.com',
      password: 'password-123',
    });
    expectProblem(res, 400);
  });

  it('malformed ids → 400; unknown ids → 404', async () => {
    expectProblem(await http.get('/api/products/123', { token: seller.token }), 400);
    expectProblem(await http.get('/api/products/zzzzzzzzzzzzzzzzzzzzzzzz', { token: seller.token }), 400);
    expectProblem(await http.get('/api/products/aaaaaaaaaaaaaaaaaaaaaaaa', { token: seller.token }), 404);
  });

  it('unknown routes → 404', async () => {
    const res = await http.get('/api/nothing-here');
    expectProblem(res, 404);
    expect(res.body.detail).toBe('no route for GET /api/nothing-here');
  });

  it('no token → 401; wrong role → 403', async () => {
    expectProblem(await http.post('/api/users', {}), 401);
    expectProblem(await http.post('/api/users', {}, { token: seller.token }), 403);
  });

  it('a request id comes back on every response', async () => {
    const res = await http.get('/healthz');
    expect(res.headers.get('x-request-id')).toMatch(/.+/);
  });
});

describe('unexpected errors', () => {
  it('answer 500 with a generic detail; the internal message stays in the log', async () => {
    const app = createRouter();
    app.get('/boom', () => {
      throw new Error('secret internal detail: connection string mongodb://user:pass@host');
    });
    app.onError(handleError);
    const res = await app.request('/boom');
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const body = await res.json();
    expect(body).toMatchObject({ status: 500, detail: 'An unexpected error occurred.' });
    expect(JSON.stringify(body)).not.toContain('secret');
  });
});
