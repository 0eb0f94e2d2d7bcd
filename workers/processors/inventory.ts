import { reduceInventoryForOrder, restoreInventoryForOrder } from '../../src/features/inventory/inventory.service.js';
import { OrderJobPayloadSchema } from '../../src/order-flow/order-jobs.js';
import { defineJob } from '../../src/jobs/registry.js';
import type { WorkerContext } from '../context.js';

export const inventoryJobs = (ctx: WorkerContext) => [
  defineJob({
    queue: 'inventory',
    name: 'reduce-inventory',
    payload: OrderJobPayloadSchema,
    run: ({ orderId, version }) =>
      reduceInventoryForOrder(ctx, orderId, ctx.log, version).then((order) => ({
        inventoryStatus: order?.inventoryStatus,
      })),
  }),
  defineJob({
    queue: 'inventory',
    name: 'restore-inventory',
    payload: OrderJobPayloadSchema,
    run: ({ orderId, version }) =>
      restoreInventoryForOrder(ctx, orderId, ctx.log, version).then((order) => ({
        inventoryStatus: order?.inventoryStatus,
      })),
  }),
];
