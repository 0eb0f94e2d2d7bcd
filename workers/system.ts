import type { Config } from '../src/env.js';
import { relayOrderOutboxes } from '../src/features/orders/order-jobs.js';
import { closeQueues, createQueues } from '../src/jobs/queues.js';
import { EventPublisher } from '../src/lib/events.js';
import type { Logger } from '../src/lib/logger.js';
import { closeRedis, createRedis } from '../src/lib/redis.js';
import type { WorkerContext } from './context.js';
import { jobDefinitions } from './jobs.js';
import { serveWorkerMetrics } from './metrics.js';
import { MAINTENANCE_SCHEDULE } from './processors/maintenance.js';
import { startWorkers } from './runtime.js';

export interface WorkerSystem {
  close(): Promise<void>;
}

/**
 * Everything a worker process runs once MongoDB answers: one BullMQ Worker per
 * queue, the maintenance schedule, and the outbox relay that enqueues jobs an
 * order still owes (its API died, or Redis was down, when it was saved).
 */
export function startWorkerSystem(config: Config, log: Logger): WorkerSystem {
  const redis = createRedis(config.REDIS_URL, 'command', log, 'worker-cache');
  // Producers and the event publisher wait out a Redis outage instead of failing the job.
  const producer = createRedis(config.REDIS_URL, 'blocking', log, 'worker-producer');
  const queues = createQueues(producer, config.QUEUE_PREFIX, log);
  const ctx: WorkerContext = { config, log, queues, redis, events: new EventPublisher(producer) };
  const pool = startWorkers(config, jobDefinitions(ctx), log);
  const metrics = serveWorkerMetrics(pool.workers, config.WORKER_METRICS_PORT, log);

  for (const { name, everyMs } of MAINTENANCE_SCHEDULE) {
    queues.maintenance
      .upsertJobScheduler(name, { every: everyMs }, { name, data: {} })
      .catch((error: Error) => log.warn({ job: name, err: error.message }, 'could not schedule maintenance job'));
  }

  let relaying: Promise<unknown> = Promise.resolve();
  const relayTimer = setInterval(() => {
    relaying = relaying
      .then(() => relayOrderOutboxes(ctx, config.OUTBOX_GRACE_MS))
      .catch((error: Error) => log.warn({ err: error.message }, 'outbox relay pass failed; next pass retries'));
  }, config.OUTBOX_RELAY_INTERVAL_MS);

  return {
    async close() {
      clearInterval(relayTimer);
      await relaying;
      await pool.close();
      await metrics.close();
      await closeQueues(queues);
      await Promise.all([closeRedis(redis), closeRedis(producer)]);
    },
  };
}
