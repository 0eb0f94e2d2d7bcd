import { warmOrderCache } from '../../src/order-flow/order-cache-warming.js';
import { OrderJobPayloadSchema } from '../../src/order-flow/order-jobs.js';
import { defineJob } from '../../src/jobs/registry.js';
import type { WorkerContext } from '../context.js';

export const cacheJobs = (ctx: WorkerContext) => [
  defineJob({
    queue: 'cache',
    name: 'warm-order',
    payload: OrderJobPayloadSchema,
    run: async ({ orderId, version }) => ({ warmed: await warmOrderCache(ctx, orderId, version) }),
  }),
];
