import { reduceInventoryForOrder, restoreInventoryForOrder } from '../../src/features/inventory/inventory.service.js';
import { OrderJobPayloadSchema } from '../../src/features/orders/order-jobs.js';
import { defineJob } from '../../src/jobs/registry.js';
import type { WorkerContext } from '../context.js';

export const inventoryJobs = (ctx: WorkerContext) => [
  defineJob({
    queue: 'inventory',
    name: 'reduce-inventory',
    payload: OrderJobPayloadSchema,
    run: ({ orderId }) =>
      reduceInventoryForOrder(ctx, orderId, ctx.log).then((order) => ({ inventoryStatus: order?.inventoryStatus })),
  }),
  defineJob({
    queue: 'inventory',
    name: 'restore-inventory',
    payload: OrderJobPayloadSchema,
    run: ({ orderId }) =>
      restoreInventoryForOrder(ctx, orderId, ctx.log).then((order) => ({ inventoryStatus: order?.inventoryStatus })),
  }),
];
