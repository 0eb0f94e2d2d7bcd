import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, redisServer, type ManagedService } from '../scripts/embedded-services.js';
import { parseConfig } from '../src/env.js';
import { recordSessionState } from '../src/features/users/user-sessions.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { startApiProcess, type RunningProcess } from './helpers/processes.js';
import { startTestApi, testEnv, type TestApi } from './helpers/system.js';

/**
 * Sessions that end: tokens are checked against the user's token generation and
 * role on every request and socket handshake, so sign-out, a password or role
 * change, deletion and an admin's revoke stop them on the next request, on
 * every API instance. Two instances share one database and Redis: this
 * process's API (A) and a second API process (B).
 */

let env: Record<string, string>;
let api: TestApi;
let other: { process: RunningProcess; url: string };
let http: HttpClient;
let httpB: HttpClient;
let redis: Redis;
let admin: Actor;

beforeAll(async () => {
  env = testEnv();
  [api, other] = await Promise.all([startTestApi(parseConfig(env)), startApiProcess(env)]);
  http = httpClient(api.url);
  httpB = httpClient(other.url);
  redis = new Redis(api.config.REDIS_URL);
  admin = await loginAdmin(http);
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  await Promise.all([api?.close(), other?.process.stop()]);
});

const newObjectId = () => randomBytes(12).toString('hex');

/** A token signed with the API's own secret, as anyone who held it could make. */
const signToken = (claims: { sub: string; role: string; name: string; gen?: number }) =>
  new SignJWT({ role: claims.role, name: claims.name, ...(claims.gen === undefined ? {} : { gen: claims.gen }) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(api.config.JWT_SECRET));

const me = (token: string, client = http) => client.get('/api/auth/me', { token });

function handshake(token: string): Promise<'connected' | string> {
  const socket = connect(api.url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise<string>((resolve) => {
    socket.once('connect', () => resolve('connected'));
    socket.once('connect_error', (error) => resolve(error.message));
  }).finally(() => socket.disconnect());
}

function expectRefused(res: { status: number; headers: Headers; body: any }) {
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.headers.get('www-authenticate')).toBe('Bearer');
}

describe('a correctly signed token whose user does not exist', () => {
  it('is refused on API routes, on /api/auth/me and on the socket handshake, even naming the admin role', async () => {
    const token = await signToken({ sub: newObjectId(), role: 'admin', name: 'Ghost' });
    expectRefused(await http.get('/api/orders', { token }));
    expectRefused(
      await http.post(
        '/api/users',
        { name: 'X', email: 'x@ghost.test', password: 'password-123', role: 'admin' },
        { token },
      ),
    );
    expectRefused(await me(token));
    expect(await handshake(token)).toBe('unauthorized');
  });

  it('while a real user’s token is accepted everywhere (so the refusals above are the session check)', async () => {
    expect((await me(admin.token)).status).toBe(200);
    expect((await http.get('/api/orders', { token: admin.token })).status).toBe(200);
    expect(await handshake(admin.token)).toBe('connected');
  });
});

describe('ending sessions', () => {
  it('a token issued before generations existed (no gen claim) counts as generation 0', async () => {
    const customer = await registerCustomer(http);
    const legacy = await signToken({ sub: customer.id, role: 'customer', name: customer.name });
    expect((await me(legacy)).status).toBe(200);
    expect((await http.post('/api/auth/logout', undefined, { token: customer.token })).status).toBe(204);
    expectRefused(await me(legacy));
  });

  it('sign-out ends the token on the next request, and the sessions of every other sign-in too', async () => {
    const customer = await registerCustomer(http);
    const second = await http.post('/api/auth/login', { email: customer.email, password: 'customer-pass-1' });
    expect((await me(second.body.token)).status).toBe(200);

    expect((await http.post('/api/auth/logout', undefined, { token: customer.token })).status).toBe(204);
    expectRefused(await me(customer.token));
    expectRefused(await me(second.body.token));
    expect(await handshake(customer.token)).toBe('unauthorized');

    const again = await http.post('/api/auth/login', { email: customer.email, password: 'customer-pass-1' });
    expect((await me(again.body.token)).status).toBe(200);
  });

  it('a password change ends the old tokens, answers with a working new one, and only the new password signs in', async () => {
    const customer = await registerCustomer(http);
    const change = { currentPassword: 'customer-pass-1', newPassword: 'a brand new password' };

    const wrong = await http.post(
      '/api/auth/password',
      { ...change, currentPassword: 'not-the-password' },
      {
        token: customer.token,
      },
    );
    expect(wrong.status).toBe(403);
    expect((await me(customer.token)).status).toBe(200);

    const changed = await http.post('/api/auth/password', change, { token: customer.token });
    expect(changed.status).toBe(200);
    expect(changed.body.user).toMatchObject({ id: customer.id, role: 'customer' });
    expectRefused(await me(customer.token));
    expect((await me(changed.body.token)).status).toBe(200);

    expect((await http.post('/api/auth/login', { email: customer.email, password: 'customer-pass-1' })).status).toBe(
      401,
    );
    expect((await http.post('/api/auth/login', { email: customer.email, password: change.newPassword })).status).toBe(
      200,
    );
  });

  it('a seller demoted to customer loses the seller token; signing in again gives a customer token', async () => {
    const seller = await createActor(http, admin, 'seller');
    expect((await http.get('/api/orders/seller', { token: seller.token })).status).toBe(200);

    const demoted = await http.patch(`/api/users/${seller.id}`, { role: 'customer' }, { token: admin.token });
    expect(demoted.status).toBe(200);
    expect(demoted.body).toMatchObject({ id: seller.id, role: 'customer' });
    expectRefused(await http.get('/api/orders/seller', { token: seller.token }));
    expect(await handshake(seller.token)).toBe('unauthorized');

    const login = await http.post('/api/auth/login', { email: seller.email, password: 'seller-pass-123' });
    expect((await me(login.body.token)).body.role).toBe('customer');
    expect((await http.get('/api/orders/seller', { token: login.body.token })).status).toBe(403);
  });

  it('a rename keeps the sessions; only an admin changes accounts, and not its own role', async () => {
    const staff = await createActor(http, admin, 'staff');
    const renamed = await http.patch(`/api/users/${staff.id}`, { name: 'Renamed Staff' }, { token: admin.token });
    expect(renamed.body).toMatchObject({ name: 'Renamed Staff', role: 'staff' });
    expect((await me(staff.token)).body.name).toBe('Renamed Staff');

    expect((await http.patch(`/api/users/${staff.id}`, { role: 'admin' }, { token: staff.token })).status).toBe(403);
    expect((await http.patch(`/api/users/${staff.id}`, {}, { token: admin.token })).status).toBe(400);
    expect((await http.patch(`/api/users/${admin.id}`, { role: 'staff' }, { token: admin.token })).status).toBe(409);
    expect((await http.patch(`/api/users/${newObjectId()}`, { name: 'Nobody' }, { token: admin.token })).status).toBe(
      404,
    );
  });

  it('deleting an account ends its tokens; an admin cannot delete itself', async () => {
    const customer = await registerCustomer(http);
    expect((await http.request('DELETE', `/api/users/${customer.id}`, { token: customer.token })).status).toBe(403);
    expect((await http.request('DELETE', `/api/users/${customer.id}`, { token: admin.token })).status).toBe(204);
    expectRefused(await me(customer.token));
    expectRefused(await http.get('/api/orders', { token: customer.token }));
    expect(await handshake(customer.token)).toBe('unauthorized');
    expect((await http.post('/api/auth/login', { email: customer.email, password: 'customer-pass-1' })).status).toBe(
      401,
    );

    expect((await http.request('DELETE', `/api/users/${customer.id}`, { token: admin.token })).status).toBe(404);
    expect((await http.request('DELETE', `/api/users/${admin.id}`, { token: admin.token })).status).toBe(409);
    expect((await me(admin.token)).status).toBe(200);
  });

  it('an admin’s revoke ends every token of the account', async () => {
    const seller = await createActor(http, admin, 'seller');
    const path = `/api/users/${seller.id}/sessions/revoke`;
    expect((await http.post(path, undefined, { token: seller.token })).status).toBe(403);
    expect((await http.post(path, undefined, { token: admin.token })).status).toBe(204);
    expectRefused(await me(seller.token));
    expect(
      (await http.post(`/api/users/${newObjectId()}/sessions/revoke`, undefined, { token: admin.token })).status,
    ).toBe(404);
  });
});

describe('the API document', () => {
  it('lists the session routes with their responses', async () => {
    const { paths } = (await http.get('/openapi.json')).body;
    const responses = (path: string, method: string) => Object.keys(paths[path]?.[method]?.responses ?? {});
    expect(responses('/api/auth/logout', 'post')).toEqual(expect.arrayContaining(['204', '401']));
    expect(responses('/api/auth/password', 'post')).toEqual(expect.arrayContaining(['200', '401', '403', '429']));
    expect(responses('/api/users/{id}', 'patch')).toEqual(expect.arrayContaining(['200', '401', '403', '404', '409']));
    expect(responses('/api/users/{id}', 'delete')).toEqual(expect.arrayContaining(['204', '401', '403', '404', '409']));
    expect(responses('/api/users/{id}/sessions/revoke', 'post')).toEqual(
      expect.arrayContaining(['204', '401', '403', '404']),
    );
  });
});

describe('revocation across instances and caches', () => {
  it('a second API instance refuses a revoked token on the very next request', async () => {
    const customer = await registerCustomer(http);
    expect((await me(customer.token, httpB)).status).toBe(200); // B has the session cached now
    expect((await http.post('/api/auth/logout', undefined, { token: customer.token })).status).toBe(204);
    expectRefused(await me(customer.token, httpB));

    const seller = await createActor(http, admin, 'seller');
    expect((await me(seller.token, httpB)).status).toBe(200);
    expect((await http.post(`/api/users/${seller.id}/sessions/revoke`, undefined, { token: admin.token })).status).toBe(
      204,
    );
    expectRefused(await me(seller.token, httpB));
  });

  it('a revoked token is refused while its user’s session entry is cached, and a late fill cannot bring it back', async () => {
    const customer = await registerCustomer(http);
    expect((await me(customer.token)).status).toBe(200);
    const key = `session:user:${customer.id}`;
    expect(await redis.get(key)).toBe('0:customer');

    expect(
      (await http.post(`/api/users/${customer.id}/sessions/revoke`, undefined, { token: admin.token })).status,
    ).toBe(204);
    expect(await redis.get(key)).toBe('1:customer');
    expectRefused(await me(customer.token));

    // A request that read the user before the revoke and fills the cache after it.
    await recordSessionState(redis, customer.id, { generation: 0, role: 'customer' });
    expect(await redis.get(key)).toBe('1:customer');
    expectRefused(await me(customer.token));
  });
});

describe('with Redis down', () => {
  // A third instance on a Redis of its own, which the test stops; the database is the shared one.
  let dir: string;
  let ownRedis: ManagedService;
  let third: { process: RunningProcess; url: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orders-sessions-'));
    ownRedis = redisServer({ port: await freePort(), dataDir: dir });
    await ownRedis.start();
    third = await startApiProcess({ ...env, REDIS_URL: ownRedis.url });
  }, 60_000);

  afterAll(async () => {
    await third?.process.stop();
    await ownRedis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('tokens are checked against the database: a revoked one is refused, a fresh sign-in works', async () => {
    const customer = await registerCustomer(http);
    const httpC = httpClient(third.url);
    expect((await me(customer.token, httpC)).status).toBe(200);
    await ownRedis.stop();

    expect((await me(customer.token, httpC)).status).toBe(200);
    expect((await http.post('/api/auth/logout', undefined, { token: customer.token })).status).toBe(204);
    expectRefused(await me(customer.token, httpC));

    const login = await httpC.post('/api/auth/login', { email: customer.email, password: 'customer-pass-1' });
    expect(login.status).toBe(200);
    expect((await me(login.body.token, httpC)).status).toBe(200);
  });
});
