import { createRoute } from '@hono/zod-openapi';
import { bearerAuth, json, jsonBody, problems } from '../../lib/openapi.js';
import { CreateUserSchema, UserSchema } from './users.schemas.js';

export const createUserRoute = createRoute({
  method: 'post',
  path: '/users',
  tags: ['users'],
  summary: 'Create an account with any role (admin only)',
  security: bearerAuth,
  request: { body: jsonBody(CreateUserSchema) },
  responses: { 201: json(UserSchema, 'The new account'), ...problems(400, 401, 403, 409, 413, 415, 503) },
});
