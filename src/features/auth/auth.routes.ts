import { createRoute } from '@hono/zod-openapi';
import { bearerAuth, json, jsonBody, problems } from '../../lib/openapi.js';
import {
  AuthResultSchema,
  ChangePasswordSchema,
  LoginSchema,
  RegisterSchema,
  UserSchema,
} from '../users/users.schemas.js';

export const register = createRoute({
  method: 'post',
  path: '/auth/register',
  operationId: 'register',
  tags: ['auth'],
  summary: 'Create a customer account and sign in',
  request: { body: jsonBody(RegisterSchema) },
  responses: {
    201: json(AuthResultSchema, 'The new account and its token'),
    ...problems(400, 409, 413, 415, 429, 503),
  },
});

export const login = createRoute({
  method: 'post',
  path: '/auth/login',
  operationId: 'login',
  tags: ['auth'],
  summary: 'Exchange email and password for a token',
  request: { body: jsonBody(LoginSchema) },
  responses: {
    200: json(AuthResultSchema, 'The account and a fresh token'),
    ...problems(400, 401, 413, 415, 429, 503),
  },
});

export const me = createRoute({
  method: 'get',
  path: '/auth/me',
  operationId: 'getCurrentUser',
  tags: ['auth'],
  summary: 'The signed-in account',
  security: bearerAuth,
  responses: { 200: json(UserSchema, 'The account the token belongs to'), ...problems(401, 503) },
});

export const logout = createRoute({
  method: 'post',
  path: '/auth/logout',
  operationId: 'logout',
  tags: ['auth'],
  summary: 'Sign out everywhere',
  description:
    "Ends all of the caller's sessions: this token and every other one issued to the account (other devices " +
    'included) stop working on the next request.',
  security: bearerAuth,
  responses: { 204: { description: 'Signed out' }, ...problems(401, 409, 503) },
});

export const changePassword = createRoute({
  method: 'post',
  path: '/auth/password',
  operationId: 'changePassword',
  tags: ['auth'],
  summary: 'Change the password',
  description:
    "Ends every session of the account, the caller's own included, and answers with a fresh token so the " +
    'caller stays signed in. A wrong current password is 403.',
  security: bearerAuth,
  request: { body: jsonBody(ChangePasswordSchema) },
  responses: {
    200: json(AuthResultSchema, 'The account and a fresh token'),
    ...problems(400, 401, 403, 409, 413, 415, 429, 503),
  },
});
