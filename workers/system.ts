import type { Config } from '../src/env.js';
import { useOrderIndexNamespace } from '../src/order-flow/order-index.js';
import { reconcileOwedWork } from '../src/order-flow/owed-work.js';
import { closeQueues, createQueues } from '../src/jobs/queues.js';
import { EventPublisher } from '../src/lib/events.js';
import type { Logger } from '../src/lib/logger.js';
import { closeRedis, createRedis, pingRedis } from '../src/lib/redis.js';
import { pingMongo } from '../src/lib/mongo.js';
import type { WorkerContext } from './context.js';
import { jobDefinitions } from './jobs.js';
import { serveWorkerMetrics } from './metrics.js';
import { MAINTENANCE_SCHEDULE, RETIRED_SCHEDULES } from './processors/maintenance.js';
import { startWorkers } from './runtime.js';
import { startSellerEmailSweep } from '../src/features/email/seller-email-sweep.js';

const SCHEDULE_REFRESH_MS = 5 * 60 * 1000;

export interface WorkerSystem {
  close(): Promise<void>;
}

/**
 * Everything a worker process runs once MongoDB answers: one BullMQ Worker per
 * queue, the maintenance schedule, and the reconciler that re-sends owed work
 * whose job was lost (its API died, Redis lost its data, a job stalled out).
 */
export function startWorkerSystem(config: Config, log: Logger): WorkerSystem {
  useOrderIndexNamespace(config.QUEUE_PREFIX);
  const redis = createRedis(config.REDIS_URL, 'command', log, 'worker-cache', { coalesceWrites: true });
  // Producers and the event publisher wait out a Redis outage instead of failing the job.
  const producer = createRedis(config.REDIS_URL, 'blocking', log, 'worker-producer', { coalesceWrites: true });
  const queues = createQueues(producer, config.QUEUE_PREFIX, log);
  const ctx: WorkerContext = { config, log, queues, redis, events: new EventPublisher(producer) };
  const pool = startWorkers(config, jobDefinitions(ctx), log);
  const sellerEmails = startSellerEmailSweep(ctx);
  const up = (check: Promise<void>) =>
    check.then(
      () => 'up' as const,
      () => 'down' as const,
    );
  const metrics = serveWorkerMetrics(pool.workers, config.WORKER_METRICS_PORT, log, async () => {
    const [mongodb, cache] = await Promise.all([up(pingMongo()), up(pingRedis(redis))]);
    return { mongodb, redis: cache };
  });

  const schedule = () => {
    for (const { name, everyMs } of MAINTENANCE_SCHEDULE) {
      queues.maintenance
        .upsertJobScheduler(name, { every: everyMs }, { name, data: {} })
        .catch((error: Error) => log.warn({ job: name, err: error.message }, 'could not schedule maintenance job'));
    }
  };
  schedule();
  // The schedules live in Redis: a Redis that lost its data (a flush, a new
  // instance) would lose them until a worker restarted, and with them the list
  // index rebuild. Upserting again is idempotent.
  const scheduleTimer = setInterval(schedule, SCHEDULE_REFRESH_MS);
  for (const name of RETIRED_SCHEDULES) {
    queues.maintenance.removeJobScheduler(name).catch(() => {});
  }

  // The reconciler: one pass at a time, every RECONCILE_INTERVAL_MS. A pass
  // reads only owed work (done work is deleted), so it costs in proportion to
  // what is owed, and the pace stays fixed: a Redis that comes back gets its
  // lost jobs within one interval of being reachable. While Redis is down there
  // is nothing to compare with, so passes are skipped rather than left blocking.
  let reconciling: Promise<unknown> = Promise.resolve();
  let reconcileTimer: NodeJS.Timeout | undefined;
  let closing = false;
  const scheduleReconcile = () => {
    if (closing) return;
    reconcileTimer = setTimeout(() => {
      if (redis.status !== 'ready') return scheduleReconcile();
      reconciling = reconcileOwedWork(ctx, {
        graceMs: config.RECONCILE_GRACE_MS,
        abandonMs: config.RECONCILE_ABANDON_MS,
      })
        .catch((error: Error) => log.warn({ err: error.message }, 'reconciler pass failed; the next pass retries'))
        .finally(scheduleReconcile);
    }, config.RECONCILE_INTERVAL_MS);
  };
  scheduleReconcile();

  return {
    async close() {
      closing = true;
      clearInterval(scheduleTimer);
      clearTimeout(reconcileTimer);
      await reconciling;
      await sellerEmails.close();
      await pool.close();
      await metrics.close();
      await closeQueues(queues);
      await Promise.all([closeRedis(redis), closeRedis(producer)]);
    },
  };
}
