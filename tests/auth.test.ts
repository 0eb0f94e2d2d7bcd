import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { ADMIN, startTestApi, type TestApi } from './helpers/system.js';

let api: TestApi;
let http: HttpClient;
let admin: Actor;

beforeAll(async () => {
  api = await startTestApi();
  http = httpClient(api.url);
  admin = await loginAdmin(http);
});
afterAll(() => api.close());

const signWith = (secret: string, claims: Record<string, unknown>, expiresIn: string | number = '1h') =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(String(claims.sub))
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));

describe('registration and sign-in', () => {
  it('registers a customer, who can then sign in and read their own account', async () => {
    const reg = await http.post('/api/auth/register', {
      name: '  Asha Rao ',
      email: 'Asha.Rao@Example.com',
      password: 'a long password',
      phone: '+91 98765 43210',
    });
    expect(reg.status).toBe(201);
    expect(reg.body.user).toMatchObject({ name: 'Asha Rao', email: 'asha.rao@example.com', role: 'customer' });
    expect(reg.body.user).not.toHaveProperty('passwordHash');
    expect(typeof reg.body.token).toBe('string');

    const login = await http.post('/api/auth/login', { email: 'asha.rao@example.com', password: 'a long password' });
    expect(login.status).toBe(200);
    const me = await http.get('/api/auth/me', { token: login.body.token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: reg.body.user.id, email: 'asha.rao@example.com', role: 'customer' });
  });

  it('refuses a second account with the same email, whatever its case', async () => {
    const body = { name: 'Dup', email: 'dup@example.com', password: 'password-123' };
    expect((await http.post('/api/auth/register', body)).status).toBe(201);
    const again = await http.post('/api/auth/register', { ...body, email: 'DUP@example.com' });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect(again.body).toMatchObject({ status: 409, title: 'Conflict' });
  });

  it('two concurrent registrations with one email create exactly one account', async () => {
    const body = { name: 'Racer', email: 'racer@example.com', password: 'password-123' };
    const results = await Promise.all(Array.from({ length: 6 }, () => http.post('/api/auth/register', body)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
  });

  it('cannot register with a role: the body is strict', async () => {
    const res = await http.post('/api/auth/register', {
      name: 'Mallory',
      email: 'm@example.com',
      password: 'password-123',
      role: 'admin',
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toBeInstanceOf(Array);
  });

  it('rejects a wrong password and an unknown email with the same 401', async () => {
    const customer = await registerCustomer(http);
    const wrong = await http.post('/api/auth/login', { email: customer.email, password: 'not the password' });
    const unknown = await http.post('/api/auth/login', { email: 'nobody@example.com', password: 'whatever-123' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.detail).toBe(unknown.body.detail);
  });

  it('bootstraps the admin from ADMIN_EMAIL/ADMIN_PASSWORD exactly once', async () => {
    const me = await http.get('/api/auth/me', { token: admin.token });
    expect(me.body).toMatchObject({ email: ADMIN.email, role: 'admin' });
  });
});

describe('tokens', () => {
  let customer: Actor;
  beforeAll(async () => {
    customer = await registerCustomer(http);
  });

  it('requires a token', async () => {
    const res = await http.get('/api/auth/me');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('refuses a malformed Authorization header', async () => {
    for (const value of ['Basic abc', 'Bearer', 'Bearer not.a.jwt', `Token ${customer.token}`]) {
      const res = await http.get('/api/auth/me', { headers: { authorization: value } });
      expect(res.status, value).toBe(401);
    }
  });

  it('refuses an expired token', async () => {
    const token = await signWith(
      api.config.JWT_SECRET,
      { sub: customer.id, role: 'customer', name: 'x' },
      Math.floor(Date.now() / 1000) - 10,
    );
    const res = await http.get('/api/auth/me', { token });
    expect(res.status).toBe(401);
    expect(res.body.detail).toBe('token has expired');
  });

  it('refuses a token with a tampered payload or another secret', async () => {
    const [header, , signature] = customer.token.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ sub: customer.id, role: 'admin', name: 'x', exp: 9999999999 }),
    ).toString('base64url');
    expect((await http.get('/api/auth/me', { token: `${header}.${forgedPayload}.${signature}` })).status).toBe(401);

    const otherSecret = await signWith('some-other-secret-of-enough-length', {
      sub: customer.id,
      role: 'admin',
      name: 'x',
    });
    expect((await http.get('/api/auth/me', { token: otherSecret })).status).toBe(401);
  });

  it('refuses alg: none', async () => {
    const token = new UnsecuredJWT({ role: 'admin', name: 'x' })
      .setSubject(customer.id)
      .setExpirationTime('1h')
      .encode();
    const res = await http.get('/api/auth/me', { token });
    expect(res.status).toBe(401);
  });

  it('refuses a valid signature over claims with an unknown role', async () => {
    const token = await signWith(api.config.JWT_SECRET, { sub: customer.id, role: 'superuser', name: 'x' });
    expect((await http.get('/api/auth/me', { token })).status).toBe(401);
  });
});

describe('users created by the admin', () => {
  it('creates sellers, staff and admins; each signs in with its role', async () => {
    for (const role of ['seller', 'staff', 'admin', 'customer'] as const) {
      const actor = await createActor(http, admin, role);
      const me = await http.get('/api/auth/me', { token: actor.token });
      expect(me.body.role).toBe(role);
    }
  });

  it('gives a seller a shop name', async () => {
    const seller = await createActor(http, admin, 'seller', 'Tea House');
    const me = await http.get('/api/auth/me', { token: seller.token });
    expect(me.body.shopName).toBe('Tea House');
  });

  it('lets nobody but an admin create users', async () => {
    const customer = await registerCustomer(http);
    const seller = await createActor(http, admin, 'seller');
    const staff = await createActor(http, admin, 'staff');
    for (const actor of [customer, seller, staff]) {
      const res = await http.post(
        '/api/users',
        { name: 'X', email: `x-${actor.role}@example.com`, password: 'password-123', role: 'admin' },
        { token: actor.token },
      );
      expect(res.status, actor.role).toBe(403);
    }
  });

  it('refuses an unknown role', async () => {
    const res = await http.post(
      '/api/users',
      { name: 'X', email: 'x@example.com', password: 'password-123', role: 'god' },
      { token: admin.token },
    );
    expect(res.status).toBe(400);
    expect(res.body.errors[0].path).toBe('role');
  });
});
