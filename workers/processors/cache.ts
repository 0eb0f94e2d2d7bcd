import { warmOrderCache } from '../../src/features/orders/order-cache-warming.js';
import { OrderJobPayloadSchema } from '../../src/features/orders/order-jobs.js';
import { defineJob } from '../../src/jobs/registry.js';
import type { WorkerContext } from '../context.js';

export const cacheJobs = (ctx: WorkerContext) => [
  defineJob({
    queue: 'cache',
    name: 'warm-order',
    payload: OrderJobPayloadSchema,
    run: async ({ orderId }) => ({ warmed: await warmOrderCache(ctx.redis, orderId) }),
  }),
];
