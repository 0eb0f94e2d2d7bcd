import { purgeExpiredIdempotencyKeys } from '../../src/features/orders/idempotency-maintenance.js';
import { pruneInventoryMarkers } from '../../src/features/inventory/inventory-maintenance.js';
import { rebuildOrderIndex } from '../../src/features/orders/order-index.js';
import { defineJob } from '../../src/jobs/registry.js';
import { z } from 'zod';
import type { WorkerContext } from '../context.js';

/** Repeating jobs the worker schedules at start (BullMQ job schedulers, one per name cluster-wide). */
export const MAINTENANCE_SCHEDULE = [
  { name: 'purge-idempotency-keys', everyMs: 60 * 60 * 1000 },
  { name: 'prune-inventory-markers', everyMs: 60 * 60 * 1000 },
  // Finds out within a minute that Redis lost the list index (a flush, a new
  // Redis) and rebuilds it; a no-op while the index is ready.
  { name: 'rebuild-order-index', everyMs: 60 * 1000 },
] as const;

/** How long after an order's last change its inventory markers are kept. */
const MARKER_SETTLE_MS = 24 * 60 * 60 * 1000;

export const maintenanceJobs = (ctx: WorkerContext) => [
  defineJob({
    queue: 'maintenance',
    name: 'purge-idempotency-keys',
    payload: z.object({}).passthrough(),
    run: async () => ({ deleted: await purgeExpiredIdempotencyKeys(ctx.config.IDEMPOTENCY_TTL_HOURS) }),
  }),
  defineJob({
    queue: 'maintenance',
    name: 'prune-inventory-markers',
    payload: z.object({}).passthrough(),
    run: async () => ({ orders: await pruneInventoryMarkers(ctx.redis, MARKER_SETTLE_MS) }),
  }),
  defineJob({
    queue: 'maintenance',
    name: 'rebuild-order-index',
    payload: z.object({}).passthrough(),
    run: async () => ({ filed: await rebuildOrderIndex(ctx.redis, ctx.log) }),
  }),
];
