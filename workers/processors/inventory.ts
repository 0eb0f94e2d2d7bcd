import {
  reduceInventoryForOrder,
  reduceInventoryForOrders,
  restoreInventoryForOrder,
} from '../../src/features/inventory/inventory.service.js';
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
    // The orders whose jobs arrive together share one lock, read and write per product.
    runMany: async (payloads) =>
      (await reduceInventoryForOrders(ctx, payloads, ctx.log)).map((outcome) =>
        outcome.status === 'fulfilled'
          ? { status: 'fulfilled' as const, value: { inventoryStatus: outcome.value?.inventoryStatus } }
          : outcome,
      ),
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
