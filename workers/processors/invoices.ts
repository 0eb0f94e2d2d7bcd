import { findDeliveryOrder } from '../../src/features/deliveries/deliveries.service.js';
import { invoiceView, issueInvoice } from '../../src/features/invoices/invoices.service.js';
import { orderAudience } from '../../src/order-flow/order-announcements.js';
import { OrderJobPayloadSchema } from '../../src/order-flow/order-jobs.js';
import { toPublicDelivery } from '../../src/order-flow/order-view.js';
import { defineJob } from '../../src/jobs/registry.js';
import type { WorkerContext } from '../context.js';

export const invoiceJobs = (ctx: WorkerContext) => [
  defineJob({
    queue: 'invoices',
    name: 'create-invoice',
    payload: OrderJobPayloadSchema.required({ deliveryId: true }),
    // Refusals (no such delivery, a failed one) are given up by the runtime's one error policy.
    run: async ({ orderId, deliveryId, version }) => {
      const invoice = await issueInvoice(ctx, orderId, deliveryId, version);
      const { order, delivery } = await findDeliveryOrder(deliveryId);
      // Sent on every run with the same eventId: at least once; clients drop repeats.
      ctx.events.publish(orderAudience(order), 'invoice:generated', `invoice-generated_${invoice._id.toHexString()}`, {
        invoice: await invoiceView(invoice),
        delivery: toPublicDelivery(order, delivery),
      });
      return { invoiceId: invoice._id.toHexString(), invoiceNumber: invoice.invoiceNumber };
    },
  }),
];
