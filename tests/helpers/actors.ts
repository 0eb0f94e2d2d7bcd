import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { Role } from '../../src/lib/tokens.js';
import type { HttpClient } from './http.js';
import { ADMIN } from './system.js';

export interface Actor {
  id: string;
  token: string;
  email: string;
  role: Role;
  name: string;
}

const unique = () => randomBytes(4).toString('hex');

export async function loginAdmin(http: HttpClient): Promise<Actor> {
  const res = await http.post('/api/auth/login', ADMIN);
  expect(res.status).toBe(200);
  return { id: res.body.user.id, token: res.body.token, email: ADMIN.email, role: 'admin', name: res.body.user.name };
}

export async function registerCustomer(http: HttpClient, name = `Customer ${unique()}`): Promise<Actor> {
  const email = `customer-${unique()}@test.local`;
  const res = await http.post('/api/auth/register', { name, email, password: 'customer-pass-1' });
  expect(res.status).toBe(201);
  return { id: res.body.user.id, token: res.body.token, email, role: 'customer', name };
}

/** An account of any role, created by the admin and then signed in. */
export async function createActor(
  http: HttpClient,
  admin: Actor,
  role: Role,
  name = `${role} ${unique()}`,
): Promise<Actor> {
  const email = `${role}-${unique()}@test.local`;
  const password = `${role}-pass-123`;
  const created = await http.post('/api/users', { name, email, password, role }, { token: admin.token });
  expect(created.status).toBe(201);
  const login = await http.post('/api/auth/login', { email, password });
  expect(login.status).toBe(200);
  return { id: created.body.id, token: login.body.token, email, role, name };
}
