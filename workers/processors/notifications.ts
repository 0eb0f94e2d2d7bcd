import {
  announceOrderStatus,
  notifySellerOfOrder,
  notifySellersOfOrders,
} from '../../src/order-flow/order-announcements.js';
import { OrderJobPayloadSchema } from '../../src/order-flow/order-jobs.js';
import { rememberOrdersForSellerEmails } from '../../src/features/email/pending-seller-emails.js';
import { defineJob } from '../../src/jobs/registry.js';
import type { WorkerContext } from '../context.js';

export const notificationJobs = (ctx: WorkerContext) => [
  defineJob({
    queue: 'notifications',
    name: 'notify-seller',
    payload: OrderJobPayloadSchema,
    run: async ({ orderId, version }) => ({ notified: Boolean(await notifySellerOfOrder(ctx, orderId, version)) }),
    // The new orders whose jobs arrive together get their notifications in one insert.
    runMany: async (payloads) =>
      (await rememberOrdersForSellerEmails(ctx, await notifySellersOfOrders(ctx, payloads))).map((outcome) =>
        outcome.status === 'fulfilled'
          ? { status: 'fulfilled' as const, value: { notified: Boolean(outcome.value) } }
          : outcome,
      ),
  }),
  defineJob({
    queue: 'notifications',
    name: 'announce-status',
    payload: OrderJobPayloadSchema,
    run: async ({ orderId, version }) => ({
      announced: Boolean(await announceOrderStatus(ctx, orderId, version ?? 0)),
    }),
  }),
];
