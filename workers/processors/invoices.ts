import { UnrecoverableError } from 'bullmq';
import { issueInvoice } from '../../src/features/invoices/invoices.service.js';
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
        return { invoiceId: invoice._id.toHexString(), invoiceNumber: invoice.invoiceNumber };
      } catch (error) {
        // A refusal (no such delivery, a failed one) will not change on retry.
        if (error instanceof AppError && error.status < 500) throw new UnrecoverableError(error.detail);
        throw error;
      }
    },
  }),
];
