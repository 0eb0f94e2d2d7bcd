import type { Deps } from '../../deps.js';
import { allowRoles, createRouter, requireAuth } from '../../lib/http.js';
import { renderInvoicePdf } from './invoice-pdf.js';
import * as routes from './invoices.routes.js';
import {
  getDeliveryInvoice,
  getInvoice,
  listOrderInvoices,
  recordPayment,
  requestInvoice,
} from './invoices.service.js';

export function invoicesRouter({ tokens, queues, redis, log }: Deps) {
  const ctx = { queues, redis, log };
  const router = createRouter();
  // Per-route guards: several paths sit under /orders, whose router has guards of its own.
  const auth = requireAuth(tokens);
  const managers = allowRoles('seller', 'staff', 'admin');

  router.openapi({ ...routes.requestInvoiceRoute, middleware: [auth, managers] }, async (c) => {
    const result = await requestInvoice(queues, c.get('principal'), c.req.valid('param').deliveryId);
    if (result.status === 200) return c.json({ invoice: result.invoice }, 200);
    return c.json({ jobId: result.jobId }, 202, { Location: `/api/jobs/${result.jobId}` });
  });
  router.openapi({ ...routes.deliveryInvoiceRoute, middleware: [auth] }, async (c) =>
    c.json(await getDeliveryInvoice(c.get('principal'), c.req.valid('param').deliveryId), 200),
  );
  router.openapi({ ...routes.orderInvoicesRoute, middleware: [auth] }, async (c) =>
    c.json({ data: await listOrderInvoices(c.get('principal'), c.req.valid('param').id) }, 200),
  );
  router.openapi({ ...routes.getInvoiceRoute, middleware: [auth] }, async (c) =>
    c.json(await getInvoice(c.get('principal'), c.req.valid('param').id), 200),
  );
  router.openapi({ ...routes.invoicePaymentRoute, middleware: [auth, managers] }, async (c) =>
    c.json(
      await recordPayment(ctx, c.get('principal'), { invoiceId: c.req.valid('param').id }, c.req.valid('json')),
      201,
    ),
  );
  router.openapi({ ...routes.orderPaymentRoute, middleware: [auth, managers] }, async (c) =>
    c.json(
      await recordPayment(ctx, c.get('principal'), { orderId: c.req.valid('param').id }, c.req.valid('json')),
      201,
    ),
  );
  router.openapi({ ...routes.invoicePdfRoute, middleware: [auth] }, async (c) => {
    const invoice = await getInvoice(c.get('principal'), c.req.valid('param').id);
    const pdf = await renderInvoicePdf(invoice);
    return c.body(new Uint8Array(pdf), 200, {
      'Content-Type': 'application/pdf',
      'Content-Disposition': `inline; filename="${invoice.invoiceNumber}.pdf"`,
    });
  });
  return router;
}
