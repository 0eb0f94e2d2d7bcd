import { z } from '@hono/zod-openapi';
import { ObjectIdSchema } from '../../lib/http.js';
import { matching, PageQuerySchema, pageOf } from '../../lib/openapi.js';
import { PhoneSchema } from '../users/users.schemas.js';
import { ORDER_STATUSES } from '../../order-flow/order-status.js';
import { INVENTORY_STATUSES, PAYMENT_METHODS, PAYMENT_STATUSES } from '../../order-flow/order.model.js';
import { NO_CONTROL_CHARS, NO_CONTROL_CHARS_BUT_NEWLINES } from '../../lib/text.js';

export const PlaceOrderSchema = z
  .strictObject({
    items: z
      .array(
        z.strictObject({
          productId: ObjectIdSchema,
          quantity: z.number().int('expected a whole number').min(1).max(10_000),
        }),
      )
      .min(1, 'an order needs at least one item')
      .max(100, 'at most 100 items per order'),
    deliveryAddress: z
      .string()
      .trim()
      .min(5, 'at least 5 characters')
      .max(500, 'at most 500 characters')
      .apply(matching(NO_CONTROL_CHARS, 'must not contain control characters'))
      .openapi({ example: '12 MG Road, Bengaluru 560001' }),
    phone: PhoneSchema.optional(),
    notes: z
      .string()
      .trim()
      .max(1_000)
      .apply(matching(NO_CONTROL_CHARS_BUT_NEWLINES, 'must not contain control characters'))
      .optional(),
    paymentMethod: z.enum(PAYMENT_METHODS).default('cash_on_delivery'),
  })
  .openapi('PlaceOrderRequest');
export type PlaceOrderInput = z.infer<typeof PlaceOrderSchema>;

export const IdempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .apply(matching(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'))
  .optional()
  .openapi({ description: 'Replays the first response for the same key and body (kept at least 24 h)' });

const OrderItemSchema = z.object({
  id: z.string(),
  productId: z.string(),
  name: z.string(),
  sku: z.string(),
  price: z.number().int(),
  quantity: z.number().int(),
  subtotal: z.number().int(),
  deliveredQuantity: z.number().int(),
  remainingQuantity: z.number().int(),
});

export const OrderSchema = z
  .object({
    id: z.string(),
    orderNumber: z.string().openapi({ example: 'ORD-20261122-000042' }),
    checkoutId: z.string(),
    customer: z.object({
      id: z.string(),
      name: z.string(),
      email: z.string(),
      phone: z.string().optional(),
      deliveryAddress: z.string(),
    }),
    seller: z.object({ id: z.string(), name: z.string() }),
    items: z.array(OrderItemSchema),
    totalAmount: z.number().int(),
    currency: z.string(),
    status: z.enum(ORDER_STATUSES),
    paymentMethod: z.enum(PAYMENT_METHODS),
    paymentStatus: z.enum(PAYMENT_STATUSES),
    paidAmount: z.number().int(),
    progress: z.number(),
    inventoryStatus: z.enum(INVENTORY_STATUSES),
    shortItems: z.array(z.object({ productId: z.string(), requested: z.number(), available: z.number() })),
    estimatedDelivery: z.string().optional(),
    notes: z.string().optional(),
    cancelReason: z.string().optional(),
    version: z.number().int().openapi({
      description:
        "Counts the order's changes. The inventory outcome (pending → reduced or short), recorded by the worker beside the order, does not change it: watch inventoryStatus or the order:inventory-reduced event.",
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Order');

export const CheckoutSchema = z.object({ checkoutId: z.string(), orders: z.array(OrderSchema) }).openapi('Checkout');

const SORTS = ['-createdAt', 'createdAt', 'totalAmount', '-totalAmount', 'orderNumber'] as const;
const isoDate = z.iso.date('expected a date as YYYY-MM-DD');

const statusList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.enum(ORDER_STATUSES)).min(1))
  .openapi({ type: 'string', example: 'pending,confirmed' });

export const ListOrdersQuerySchema = z.object({
  search: z.string().trim().max(100).apply(matching(NO_CONTROL_CHARS)).optional(),
  status: statusList.optional(),
  paymentStatus: z.enum(PAYMENT_STATUSES).optional(),
  sellerId: ObjectIdSchema.optional(),
  startDate: isoDate.optional(),
  endDate: isoDate.optional(),
  sort: z.enum(SORTS).default('-createdAt'),
  ...PageQuerySchema,
});
export type ListOrdersQuery = z.infer<typeof ListOrdersQuerySchema>;

export const OrderPageSchema = pageOf(OrderSchema, 'OrderPage');

export const OrderStatsSchema = z
  .object({
    totalOrders: z.number().int(),
    openOrders: z.number().int(),
    inProgressOrders: z.number().int(),
    completedOrders: z.number().int(),
    cancelledOrders: z.number().int(),
    unpaidOrders: z.number().int(),
  })
  .openapi('OrderStats');

export const RemainingSchema = z
  .object({
    orderId: z.string(),
    items: z.record(z.string(), z.object({ total: z.number(), delivered: z.number(), remaining: z.number() })),
  })
  .openapi('OrderRemaining');

export const ProgressSchema = z
  .object({ orderId: z.string(), progress: z.number(), status: z.enum(ORDER_STATUSES) })
  .openapi('OrderProgress');

export const ConfirmOrderSchema = z
  .strictObject({
    estimatedDelivery: z.iso
      .datetime({ offset: true })
      .or(isoDate)
      // A delivery estimate is today (UTC) or later; a past one is a typo or an attack.
      .refine((value) => new Date(value).getTime() >= new Date(new Date().toISOString().slice(0, 10)).getTime(), {
        message: 'must be today or later',
      })
      .optional(),
  })
  .openapi('ConfirmOrderRequest');

export const SetStatusSchema = z.strictObject({ status: z.enum(ORDER_STATUSES) }).openapi('SetOrderStatusRequest');

export const CancelOrderSchema = z
  .strictObject({ reason: z.string().trim().max(500).apply(matching(NO_CONTROL_CHARS)).optional() })
  .openapi('CancelOrderRequest');
