import { purgeExpiredIdempotencyKeys } from '../../src/features/orders/idempotency-maintenance.js';
import { rebuildOrderIndex } from '../../src/order-flow/order-index.js';
import { defineJob } from '../../src/jobs/registry.js';
import { z } from 'zod';
import type { WorkerContext } from '../context.js';

/** Repeating jobs the worker schedules at start (BullMQ job schedulers, one per name cluster-wide). */
export const MAINTENANCE_SCHEDULE = [
  { name: 'purge-idempotency-keys', everyMs: 60 * 60 * 1000 },
  // Finds out within a minute that Redis lost the list index (a flush, a new
  // Redis) and rebuilds it; a no-op while the index is ready.
  { name: 'rebuild-order-index', everyMs: 60 * 1000 },
] as const;

/** Schedules of jobs that no longer exist, removed at start so Redis does not keep queueing them. */
export const RETIRED_SCHEDULES = ['prune-inventory-markers'] as const;

export const maintenanceJobs = (ctx: WorkerContext) => [
  defineJob({
    queue: 'maintenance',
    name: 'purge-idempotency-keys',
    payload: z.object({}).passthrough(),
    run: async () => ({ deleted: await purgeExpiredIdempotencyKeys(ctx.config.IDEMPOTENCY_TTL_HOURS) }),
  }),
  defineJob({
    queue: 'maintenance',
    name: 'rebuild-order-index',
    payload: z.object({}).passthrough(),
    run: async () => ({ filed: await rebuildOrderIndex(ctx.redis, ctx.log) }),
  }),
];
