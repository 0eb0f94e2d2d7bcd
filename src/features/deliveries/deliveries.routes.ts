import { createRoute, z } from '@hono/zod-openapi';
import { IdParamsSchema, ObjectIdSchema } from '../../lib/http.js';
import { bearerAuth, json, jsonBody, matching, problems } from '../../lib/openapi.js';
import { OrderSchema } from '../orders/orders.schemas.js';
import { DELIVERY_STATUSES } from '../../order-flow/delivery-math.js';
import { NO_CONTROL_CHARS_BUT_NEWLINES } from '../../lib/text.js';

const tags = ['deliveries'];
const security = bearerAuth;

export const DeliverySchema = z
  .object({
    id: z.string(),
    orderId: z.string(),
    deliveryNumber: z.string().openapi({ example: 'ORD-20261122-7K3QX9-D1' }),
    items: z.array(z.object({ productId: z.string(), quantity: z.number().int() })),
    status: z.enum(DELIVERY_STATUSES),
    value: z.number().int(),
    scheduledDate: z.string().optional(),
    deliveredAt: z.string().optional(),
    notes: z.string().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Delivery');

const DeliveryResultSchema = z.object({ delivery: DeliverySchema, order: OrderSchema }).openapi('DeliveryResult');

export const CreateDeliverySchema = z
  .strictObject({
    items: z
      .array(
        z.strictObject({
          productId: ObjectIdSchema,
          quantity: z.number().int('expected a whole number').min(1).max(10_000),
        }),
      )
      .min(1)
      .max(100),
    scheduledDate: z.iso
      .date('expected a date as YYYY-MM-DD')
      .or(z.iso.datetime({ offset: true }))
      .optional(),
    notes: z
      .string()
      .trim()
      .max(1_000)
      .apply(matching(NO_CONTROL_CHARS_BUT_NEWLINES, 'must not contain control characters'))
      .optional(),
  })
  .openapi('CreateDeliveryRequest');

const DeliveryParamsSchema = z.object({
  deliveryId: ObjectIdSchema.openapi({ param: { name: 'deliveryId', in: 'path' } }),
});

export const createDeliveryRoute = createRoute({
  method: 'post',
  path: '/orders/{id}/deliveries',
  operationId: 'createDelivery',
  tags,
  security,
  summary: 'Deliver part of an order (owner seller, staff, admin); never more than remains',
  request: { params: IdParamsSchema, body: jsonBody(CreateDeliverySchema) },
  responses: {
    201: json(DeliveryResultSchema, 'The delivery and the order it changed'),
    ...problems(400, 401, 403, 404, 409, 413, 415, 503),
  },
});

export const shipRoute = createRoute({
  method: 'put',
  path: '/orders/{id}/ship',
  operationId: 'shipOrder',
  tags,
  security,
  summary: 'Dispatch everything that remains, as one delivery (owner seller)',
  request: { params: IdParamsSchema },
  responses: {
    201: json(DeliveryResultSchema, 'The dispatched delivery and the order'),
    ...problems(400, 401, 403, 404, 409, 503),
  },
});

export const listDeliveriesRoute = createRoute({
  method: 'get',
  path: '/orders/{id}/deliveries',
  operationId: 'listOrderDeliveries',
  tags,
  security,
  summary: "An order's deliveries, oldest first",
  request: { params: IdParamsSchema },
  responses: {
    200: json(z.object({ data: z.array(DeliverySchema) }), 'The deliveries'),
    ...problems(400, 401, 404, 503),
  },
});

export const deliveryStatusRoute = createRoute({
  method: 'patch',
  path: '/orders/deliveries/{deliveryId}/status',
  operationId: 'setDeliveryStatus',
  tags,
  security,
  summary: 'Move a delivery along (owner seller, staff, admin); failed or cancelled gives its quantities back',
  request: { params: DeliveryParamsSchema, body: jsonBody(z.strictObject({ status: z.enum(DELIVERY_STATUSES) })) },
  responses: {
    200: json(DeliveryResultSchema, 'The delivery and the order'),
    ...problems(400, 401, 403, 404, 409, 413, 415, 503),
  },
});

export const deliveriesTodayRoute = createRoute({
  method: 'get',
  path: '/deliveries/today',
  operationId: 'getTodaysDeliveries',
  tags,
  security,
  summary: "Today's deliveries (UTC): a seller's own, or everyone's for staff and admins",
  responses: {
    200: json(
      z
        .object({
          date: z.string(),
          count: z.number().int(),
          totalValue: z.number().int(),
          pending: z.number().int(),
          dispatched: z.number().int(),
          delivered: z.number().int(),
          failed: z.number().int(),
          cancelled: z.number().int(),
        })
        .openapi('DeliveriesToday'),
      'The summary',
    ),
    ...problems(401, 403, 503),
  },
});
