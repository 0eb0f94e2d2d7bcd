import type { Config } from '../src/env.js';
import { useOrderIndexNamespace } from '../src/features/orders/order-index.js';
import { relayOrderOutboxes } from '../src/features/orders/order-jobs.js';
import { closeQueues, createQueues } from '../src/jobs/queues.js';
import { EventPublisher } from '../src/lib/events.js';
import type { Logger } from '../src/lib/logger.js';
import { closeRedis, createRedis } from '../src/lib/redis.js';
import type { WorkerContext } from './context.js';
import { jobDefinitions } from './jobs.js';
import { serveWorkerMetrics } from './metrics.js';
import { MAINTENANCE_SCHEDULE, RETIRED_SCHEDULES } from './processors/maintenance.js';
import { startWorkers } from './runtime.js';

const RELAY_BATCH = 200;
const SCHEDULE_REFRESH_MS = 5 * 60 * 1000;

export interface WorkerSystem {
  close(): Promise<void>;
}

/**
 * Everything a worker process runs once MongoDB answers: one BullMQ Worker per
 * queue, the maintenance schedule, and the outbox relay that enqueues jobs an
 * order still owes (its API died, or Redis was down, when it was saved).
 */
export function startWorkerSystem(config: Config, log: Logger): WorkerSystem {
  useOrderIndexNamespace(config.QUEUE_PREFIX);
  const redis = createRedis(config.REDIS_URL, 'command', log, 'worker-cache');
  // Producers and the event publisher wait out a Redis outage instead of failing the job.
  const producer = createRedis(config.REDIS_URL, 'blocking', log, 'worker-producer');
  const queues = createQueues(producer, config.QUEUE_PREFIX, log);
  const ctx: WorkerContext = { config, log, queues, redis, events: new EventPublisher(producer) };
  const pool = startWorkers(config, jobDefinitions(ctx), log);
  const metrics = serveWorkerMetrics(pool.workers, config.WORKER_METRICS_PORT, log);

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

  // One pass at a time, and never more than about a tenth of the database's
  // time: on FerretDB the relay's query scans every order (measured ~0.9 ms per
  // order document), so a fixed 2 s interval would keep it busy for good once
  // the collection is large. The relay is the fallback path; the API enqueues
  // jobs itself, so a slower relay only delays jobs whose enqueue failed.
  let relaying: Promise<unknown> = Promise.resolve();
  let relayTimer: NodeJS.Timeout | undefined;
  let closing = false;
  const scheduleRelay = (delayMs: number) => {
    if (closing) return;
    relayTimer = setTimeout(() => {
      const started = Date.now();
      relaying = relayOrderOutboxes(ctx, config.OUTBOX_GRACE_MS, RELAY_BATCH)
        .catch((error: Error) => {
          log.warn({ err: error.message }, 'outbox relay pass failed; next pass retries');
          return 0;
        })
        .then((relayed) => {
          // A full batch means more is owed: go on at the normal pace.
          const idle = relayed < RELAY_BATCH ? (Date.now() - started) * 9 : 0;
          scheduleRelay(Math.max(config.OUTBOX_RELAY_INTERVAL_MS, idle));
        });
    }, delayMs);
  };
  scheduleRelay(config.OUTBOX_RELAY_INTERVAL_MS);

  return {
    async close() {
      closing = true;
      clearInterval(scheduleTimer);
      clearTimeout(relayTimer);
      await relaying;
      await pool.close();
      await metrics.close();
      await closeQueues(queues);
      await Promise.all([closeRedis(redis), closeRedis(producer)]);
    },
  };
}
