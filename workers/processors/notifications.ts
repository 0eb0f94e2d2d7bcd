import { announceOrderStatus, notifySellerOfOrder } from '../../src/features/orders/order-announcements.js';
import { OrderJobPayloadSchema } from '../../src/features/orders/order-jobs.js';
import { defineJob } from '../../src/jobs/registry.js';
import type { WorkerContext } from '../context.js';

export const notificationJobs = (ctx: WorkerContext) => [
  defineJob({
    queue: 'notifications',
    name: 'notify-seller',
    payload: OrderJobPayloadSchema,
    run: async ({ orderId }) => ({ notified: Boolean(await notifySellerOfOrder(ctx.events, orderId)) }),
  }),
  defineJob({
    queue: 'notifications',
    name: 'announce-status',
    payload: OrderJobPayloadSchema,
    run: async ({ orderId, version }) => ({
      announced: Boolean(await announceOrderStatus(ctx.events, orderId, version ?? 0)),
    }),
  }),
];
