import { createRoute, z } from '@hono/zod-openapi';
import { IdParamsSchema } from '../../lib/http.js';
import { bearerAuth, json, PageQuerySchema, pageOf, problems } from '../../lib/openapi.js';

const tags = ['notifications'];
const security = bearerAuth;

export const NotificationSchema = z
  .object({
    id: z.string(),
    type: z.string().openapi({ example: 'order_notification' }),
    orderId: z.string().optional(),
    payload: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    deliveredAt: z.string().optional(),
    readAt: z.string().optional(),
  })
  .openapi('Notification');

const ListQuerySchema = z.object({
  unread: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .openapi({ type: 'string', enum: ['true', 'false'] }),
  ...PageQuerySchema,
});

export const listNotificationsRoute = createRoute({
  method: 'get',
  path: '/notifications',
  operationId: 'listNotifications',
  tags,
  security,
  summary: 'Your notifications, newest first',
  request: { query: ListQuerySchema },
  responses: { 200: json(pageOf(NotificationSchema, 'NotificationPage'), 'One page'), ...problems(400, 401, 503) },
});

export const unreadCountRoute = createRoute({
  method: 'get',
  path: '/notifications/unread-count',
  operationId: 'countUnreadNotifications',
  tags,
  security,
  summary: 'How many of your notifications are unread',
  responses: { 200: json(z.object({ count: z.number().int() }), 'The count'), ...problems(401, 503) },
});

export const markReadRoute = createRoute({
  method: 'post',
  path: '/notifications/{id}/read',
  operationId: 'markNotificationRead',
  tags,
  security,
  summary: 'Mark one of your notifications read',
  request: { params: IdParamsSchema },
  responses: { 200: json(NotificationSchema, 'The notification'), ...problems(400, 401, 404, 503) },
});

export const markAllReadRoute = createRoute({
  method: 'post',
  path: '/notifications/read-all',
  operationId: 'markAllNotificationsRead',
  tags,
  security,
  summary: 'Mark all your notifications read',
  responses: { 200: json(z.object({ updated: z.number().int() }), 'How many changed'), ...problems(401, 503) },
});
