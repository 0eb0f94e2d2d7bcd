import { createRoute, z } from '@hono/zod-openapi';
import { IdParamsSchema, ObjectIdSchema } from '../../lib/http.js';
import { bearerAuth, json, jsonBody, matching, problems } from '../../lib/openapi.js';
import { OrderSchema } from '../orders/orders.schemas.js';
import { NO_CONTROL_CHARS } from '../../lib/text.js';

const tags = ['invoices'];
const security = bearerAuth;

export const InvoiceSchema = z
  .object({
    id: z.string(),
    invoiceNumber: z.string().openapi({ example: 'INV-2026-000042' }),
    orderId: z.string(),
    orderNumber: z.string(),
    deliveryId: z.string(),
    deliveryNumber: z.string().optional(),
    seller: z.object({
      id: z.string(),
      name: z.string(),
      address: z.string().optional().openapi({ description: 'as it was when the invoice was issued' }),
      taxId: z.string().optional().openapi({ description: 'as it was when the invoice was issued' }),
    }),
    customer: z.object({ id: z.string(), name: z.string(), deliveryAddress: z.string() }),
    lines: z.array(
      z.object({
        productId: z.string(),
        name: z.string(),
        sku: z.string(),
        price: z.number().int(),
        quantity: z.number().int(),
        amount: z.number().int(),
      }),
    ),
    total: z.number().int(),
    currency: z.string(),
    amountPaid: z.number().int(),
    amountDue: z.number().int(),
    paymentStatus: z.enum(['unpaid', 'partially_paid', 'paid']),
    advanceApplied: z.number().int(),
    payments: z.array(
      z.object({
        id: z.string(),
        amount: z.number().int(),
        method: z.string(),
        reference: z.string().optional(),
        paidAt: z.string(),
      }),
    ),
    issuedAt: z.string(),
  })
  .openapi('Invoice');

export const PaymentSchema = z
  .strictObject({
    amount: z.number().int('expected an integer amount in minor units').min(1).max(100_000_000_00),
    method: z.enum(['cash', 'card', 'upi', 'bank_transfer', 'cheque', 'other']),
    reference: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .apply(matching(NO_CONTROL_CHARS, 'must not contain control characters'))
      .optional(),
  })
  .openapi('PaymentRequest');

const DeliveryParamsSchema = z.object({
  deliveryId: ObjectIdSchema.openapi({ param: { name: 'deliveryId', in: 'path' } }),
});

export const requestInvoiceRoute = createRoute({
  method: 'post',
  path: '/orders/deliveries/{deliveryId}/invoice',
  operationId: 'requestDeliveryInvoice',
  tags,
  security,
  summary: "Issue a delivery's invoice (owner seller, staff, admin): 202 with the job, or 200 if it exists",
  request: { params: DeliveryParamsSchema },
  responses: {
    200: json(z.object({ invoice: InvoiceSchema }), 'The invoice already exists'),
    202: {
      ...json(z.object({ jobId: z.string() }), 'The invoice job is queued; `Location` answers its state'),
      headers: z.object({
        Location: z.string().openapi({ example: '/api/jobs/create-invoice_<orderId>_<deliveryId>' }),
      }),
    },
    ...problems(400, 401, 403, 404, 503),
  },
});

export const deliveryInvoiceRoute = createRoute({
  method: 'get',
  path: '/orders/deliveries/{deliveryId}/invoice',
  operationId: 'getDeliveryInvoice',
  tags,
  security,
  summary: "A delivery's invoice",
  request: { params: DeliveryParamsSchema },
  responses: { 200: json(InvoiceSchema, 'The invoice'), ...problems(400, 401, 404, 503) },
});

export const orderInvoicesRoute = createRoute({
  method: 'get',
  path: '/orders/{id}/invoices',
  operationId: 'listOrderInvoices',
  tags,
  security,
  summary: "An order's invoices, in the order they were issued",
  request: { params: IdParamsSchema },
  responses: { 200: json(z.object({ data: z.array(InvoiceSchema) }), 'The invoices'), ...problems(400, 401, 404, 503) },
});

export const getInvoiceRoute = createRoute({
  method: 'get',
  path: '/invoices/{id}',
  operationId: 'getInvoice',
  tags,
  security,
  summary: 'One invoice with what has been paid and what is due',
  request: { params: IdParamsSchema },
  responses: { 200: json(InvoiceSchema, 'The invoice'), ...problems(400, 401, 404, 503) },
});

const PaymentResultSchema = z
  .object({ order: OrderSchema, invoice: InvoiceSchema.optional() })
  .openapi('PaymentResult');

export const invoicePaymentRoute = createRoute({
  method: 'post',
  path: '/invoices/{id}/payments',
  operationId: 'recordInvoicePayment',
  tags,
  security,
  summary: 'Record a payment on an invoice (owner seller, staff, admin); more than is due → 409',
  request: { params: IdParamsSchema, body: jsonBody(PaymentSchema) },
  responses: {
    201: json(PaymentResultSchema, 'The order and invoice after the payment'),
    ...problems(400, 401, 403, 404, 409, 413, 415, 503),
  },
});

export const orderPaymentRoute = createRoute({
  method: 'post',
  path: '/orders/{id}/payments',
  operationId: 'recordOrderPayment',
  tags,
  security,
  summary: 'Record an advance on the order, applied to its invoices as they are issued; more than the order owes → 409',
  request: { params: IdParamsSchema, body: jsonBody(PaymentSchema) },
  responses: {
    201: json(PaymentResultSchema, 'The order after the payment'),
    ...problems(400, 401, 403, 404, 409, 413, 415, 503),
  },
});

export const invoicePdfRoute = createRoute({
  method: 'get',
  path: '/invoices/{id}/pdf',
  operationId: 'getInvoicePdf',
  tags,
  security,
  summary: 'The invoice as a printable PDF',
  request: { params: IdParamsSchema },
  responses: {
    200: {
      description: 'The PDF',
      content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } },
    },
    ...problems(400, 401, 404, 503),
  },
});
