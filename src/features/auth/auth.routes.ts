import { createRoute } from '@hono/zod-openapi';
import { bearerAuth, json, jsonBody, problems } from '../../lib/openapi.js';
import { AuthResultSchema, LoginSchema, RegisterSchema, UserSchema } from '../users/users.schemas.js';

export const register = createRoute({
  method: 'post',
  path: '/auth/register',
  tags: ['auth'],
  summary: 'Create a customer account and sign in',
  request: { body: jsonBody(RegisterSchema) },
  responses: { 201: json(AuthResultSchema, 'The new account and its token'), ...problems(400, 409, 413, 415, 503) },
});

export const login = createRoute({
  method: 'post',
  path: '/auth/login',
  tags: ['auth'],
  summary: 'Exchange email and password for a token',
  request: { body: jsonBody(LoginSchema) },
  responses: { 200: json(AuthResultSchema, 'The account and a fresh token'), ...problems(400, 401, 415, 503) },
});

export const me = createRoute({
  method: 'get',
  path: '/auth/me',
  tags: ['auth'],
  summary: 'The signed-in account',
  security: bearerAuth,
  responses: { 200: json(UserSchema, 'The account the token belongs to'), ...problems(401, 503) },
});
