import { createRoute } from '@hono/zod-openapi';
import { bearerAuth, json, jsonBody, problems } from '../../lib/openapi.js';
import { IdParamsSchema } from '../../lib/http.js';
import { CreateUserSchema, UpdateUserSchema, UserSchema } from './users.schemas.js';

export const createUserRoute = createRoute({
  method: 'post',
  path: '/users',
  operationId: 'createUser',
  tags: ['users'],
  summary: 'Create an account with any role (admin only)',
  description: 'A seller’s optional `address` and `taxId` (e.g. a GSTIN) are printed on their invoices.',
  security: bearerAuth,
  request: { body: jsonBody(CreateUserSchema) },
  responses: { 201: json(UserSchema, 'The new account'), ...problems(400, 401, 403, 409, 413, 415, 503) },
});

export const updateUserRoute = createRoute({
  method: 'patch',
  path: '/users/{id}',
  operationId: 'updateUser',
  tags: ['users'],
  summary:
    "Rename an account, change its role or its invoice address and tax id (admin only); a role change ends the account's sessions",
  description:
    'An admin cannot change its own role (409). A seller’s `address` and `taxId` are printed on invoices issued after the change; issued invoices keep theirs.',
  security: bearerAuth,
  request: { params: IdParamsSchema, body: jsonBody(UpdateUserSchema) },
  responses: { 200: json(UserSchema, 'The account as changed'), ...problems(400, 401, 403, 404, 409, 413, 415, 503) },
});

export const deleteUserRoute = createRoute({
  method: 'delete',
  path: '/users/{id}',
  operationId: 'deleteUser',
  tags: ['users'],
  summary: 'Delete an account (admin only); its tokens stop working',
  description: 'Orders keep the names they were placed with. An admin cannot delete its own account (409).',
  security: bearerAuth,
  request: { params: IdParamsSchema },
  responses: { 204: { description: 'Deleted' }, ...problems(400, 401, 403, 404, 409, 503) },
});

export const revokeSessionsRoute = createRoute({
  method: 'post',
  path: '/users/{id}/sessions/revoke',
  operationId: 'revokeUserSessions',
  tags: ['users'],
  summary: "End every session of an account (admin only): the account's tokens stop working",
  security: bearerAuth,
  request: { params: IdParamsSchema },
  responses: { 204: { description: 'Sessions ended' }, ...problems(400, 401, 403, 404, 409, 503) },
});
