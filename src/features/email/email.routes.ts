import { createRoute } from '@hono/zod-openapi';
import { bearerAuth, json, jsonBody, problems } from '../../lib/openapi.js';
import {
  EmailPreferencesChangeSchema,
  EmailPreferencesSchema,
  ListSellerEmailsQuerySchema,
  SellerEmailPageSchema,
} from './email.schemas.js';

const tags = ['notifications'];
const security = bearerAuth;

export const getEmailPreferencesRoute = createRoute({
  method: 'get',
  path: '/notifications/email-preferences',
  operationId: 'getEmailPreferences',
  tags,
  security,
  summary: 'Your order emails (sellers): on or off, and after how long',
  description:
    'A seller whose order notifications stay unacknowledged and unread for `delaySeconds` gets one email listing them.',
  responses: { 200: json(EmailPreferencesSchema, 'The choices in force'), ...problems(401, 403, 503) },
});

export const changeEmailPreferencesRoute = createRoute({
  method: 'put',
  path: '/notifications/email-preferences',
  operationId: 'changeEmailPreferences',
  tags,
  security,
  summary: 'Turn your order emails on or off, or change their delay (sellers)',
  description: 'Fields left out stay as they are; `null` follows the configured default again.',
  request: { body: jsonBody(EmailPreferencesChangeSchema) },
  responses: { 200: json(EmailPreferencesSchema, 'The choices in force'), ...problems(400, 401, 403, 413, 415, 503) },
});

export const listSellerEmailsRoute = createRoute({
  method: 'get',
  path: '/emails',
  operationId: 'listSellerEmails',
  tags,
  security,
  summary: 'Order emails sent to sellers, newest first (staff, admin)',
  description:
    '`state=failed` lists the ones the SMTP server refused for good (a 5xx answer), with its answer in `error`.',
  request: { query: ListSellerEmailsQuerySchema },
  responses: { 200: json(SellerEmailPageSchema, 'One page'), ...problems(400, 401, 403, 503) },
});
