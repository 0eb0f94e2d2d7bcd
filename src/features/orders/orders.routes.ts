import { createRoute, z } from '@hono/zod-openapi';
import { IdParamsSchema } from '../../lib/http.js';
import { bearerAuth, json, jsonBody, problems } from '../../lib/openapi.js';
import {
  CancelOrderSchema,
  CheckoutSchema,
  ConfirmOrderSchema,
  IdempotencyKeySchema,
  ListOrdersQuerySchema,
  OrderPageSchema,
  OrderSchema,
  OrderStatsSchema,
  PlaceOrderSchema,
  ProgressSchema,
  RemainingSchema,
  SetStatusSchema,
} from './orders.schemas.js';

const tags = ['orders'];
const security = bearerAuth;

export const placeOrderRoute = createRoute({
  method: 'post',
  path: '/orders',
  operationId: 'placeOrder',
  tags,
  security,
  summary: 'Place a checkout (customer): one order per seller; returns before inventory and notifications run',
  request: {
    headers: z.object({ 'idempotency-key': IdempotencyKeySchema }),
    body: jsonBody(PlaceOrderSchema),
  },
  responses: {
    201: json(CheckoutSchema, 'The orders, one per seller, sharing a checkoutId'),
    ...problems(400, 401, 403, 409, 413, 415, 422, 503),
  },
});

export const listOrdersRoute = createRoute({
  method: 'get',
  path: '/orders',
  operationId: 'listOrders',
  tags,
  security,
  summary: 'List orders: a customer sees its own, a seller its own, staff and admins all',
  request: { query: ListOrdersQuerySchema },
  responses: { 200: json(OrderPageSchema, 'One page of orders'), ...problems(400, 401, 503) },
});

export const sellerOrdersRoute = createRoute({
  method: 'get',
  path: '/orders/seller',
  operationId: 'listSellerOrders',
  tags,
  security,
  summary: "The calling seller's orders (same query as the list)",
  request: { query: ListOrdersQuerySchema },
  responses: { 200: json(OrderPageSchema, 'One page of orders'), ...problems(400, 401, 403, 503) },
});

export const orderStatsRoute = createRoute({
  method: 'get',
  path: '/orders/stats',
  operationId: 'getOrderStats',
  tags,
  security,
  summary: 'Order counters, scoped like the list (cached 5 minutes, refreshed on every change)',
  responses: { 200: json(OrderStatsSchema, 'The counters'), ...problems(401, 503) },
});

export const getOrderRoute = createRoute({
  method: 'get',
  path: '/orders/{id}',
  operationId: 'getOrder',
  tags,
  security,
  summary: 'One order (cached 5 minutes, refreshed on every change)',
  request: { params: IdParamsSchema },
  responses: { 200: json(OrderSchema, 'The order'), ...problems(400, 401, 404, 503) },
});

export const remainingRoute = createRoute({
  method: 'get',
  path: '/orders/{id}/remaining',
  operationId: 'getOrderRemaining',
  tags,
  security,
  summary: 'Ordered, delivered and remaining quantity per product',
  request: { params: IdParamsSchema },
  responses: { 200: json(RemainingSchema, 'Quantities per product'), ...problems(400, 401, 404, 503) },
});

export const progressRoute = createRoute({
  method: 'get',
  path: '/orders/{id}/progress',
  operationId: 'getOrderProgress',
  tags,
  security,
  summary: 'Delivery progress (0-100) and status',
  request: { params: IdParamsSchema },
  responses: { 200: json(ProgressSchema, 'Progress and status'), ...problems(400, 401, 404, 503) },
});

export const confirmRoute = createRoute({
  method: 'put',
  path: '/orders/{id}/confirm',
  operationId: 'confirmOrder',
  tags,
  security,
  summary: 'Accept a pending order (owner seller); the customer is told',
  request: { params: IdParamsSchema, body: { ...jsonBody(ConfirmOrderSchema), required: false } },
  responses: { 200: json(OrderSchema, 'The confirmed order'), ...problems(400, 401, 403, 404, 409, 413, 415, 503) },
});

export const setStatusRoute = createRoute({
  method: 'put',
  path: '/orders/{id}/status',
  operationId: 'setOrderStatus',
  tags,
  security,
  summary:
    'Set a status that is not derived (owner seller, staff, admin): `confirmed`. Statuses that follow from deliveries and payments (in_progress, shipped, partial_delivered, delivered, completed) are refused with 409; 409 also names the current status when the move is not allowed',
  request: { params: IdParamsSchema, body: jsonBody(SetStatusSchema) },
  responses: { 200: json(OrderSchema, 'The updated order'), ...problems(400, 401, 403, 404, 409, 413, 415, 503) },
});

export const cancelRoute = createRoute({
  method: 'patch',
  path: '/orders/{id}/cancel',
  operationId: 'cancelOrder',
  tags,
  security,
  summary: 'Cancel any order before its first delivered unit (admin); restores inventory',
  request: { params: IdParamsSchema, body: { ...jsonBody(CancelOrderSchema), required: false } },
  responses: { 200: json(OrderSchema, 'The cancelled order'), ...problems(400, 401, 403, 404, 409, 413, 415, 503) },
});

export const deleteRoute = createRoute({
  method: 'delete',
  path: '/orders/{id}',
  operationId: 'deleteOrder',
  tags,
  security,
  summary: 'Cancel an order (owner customer while pending/confirmed, owner seller, admin); restores inventory',
  request: { params: IdParamsSchema },
  responses: { 200: json(OrderSchema, 'The cancelled order'), ...problems(400, 401, 403, 404, 409, 503) },
});
