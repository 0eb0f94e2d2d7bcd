import { UnrecoverableError } from 'bullmq';
import { findDeliveryOrder, toPublicDelivery } from '../../src/features/deliveries/deliveries.service.js';
import { invoiceView, issueInvoice } from '../../src/features/invoices/invoices.service.js';
import { orderAudience } from '../../src/features/orders/order-announcements.js';
import { OrderJobPayloadSchema } from '../../src/features/orders/order-jobs.js';
import { defineJob } from '../../src/jobs/registry.js';
import { AppError } from '../../src/lib/errors.js';
import type { WorkerContext } from '../context.js';

export const invoiceJobs = (ctx: WorkerContext) => [
  defineJob({
    queue: 'invoices',
    name: 'create-invoice',
    payload: OrderJobPayloadSchema.required({ deliveryId: true }),
    run: async ({ orderId, deliveryId }) => {
      try {
        const invoice = await issueInvoice(ctx, orderId, deliveryId);
        const { order, delivery } = await findDeliveryOrder(deliveryId);
        // Sent on every run with the same eventId: at least once; clients drop repeats.
        ctx.events.publish(
          orderAudience(order),
          'invoice:generated',
          `invoice-generated_${invoice._id.toHexString()}`,
          {
            invoice: await invoiceView(invoice),
            delivery: toPublicDelivery(order, delivery),
          },
        );
        return { invoiceId: invoice._id.toHexString(), invoiceNumber: invoice.invoiceNumber };
      } catch (error) {
        // A refusal (no such delivery, a failed one) will not change on retry.
        if (error instanceof AppError && error.status < 500) throw new UnrecoverableError(error.detail);
        throw error;
      }
    },
  }),
];
