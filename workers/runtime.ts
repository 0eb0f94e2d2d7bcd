import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Config } from '../src/env.js';
import { QUEUE_NAMES } from '../src/jobs/queues.js';
import { buildJobTable, findJob, type JobDefinition } from '../src/jobs/registry.js';
import type { Logger } from '../src/lib/logger.js';
import { closeRedis, createRedis } from '../src/lib/redis.js';

export interface WorkerPool {
  workers: Worker[];
  /** Stops taking jobs and waits for the active ones to finish. */
  close(): Promise<void>;
}

export function startWorkers(config: Config, definitions: readonly JobDefinition[], log: Logger): WorkerPool {
  const table = buildJobTable(definitions);
  const connection = createRedis(config.REDIS_URL, 'blocking', log, 'worker');

  const workers = QUEUE_NAMES.map((queue) => {
    const worker = new Worker(
      queue,
      async (job: Job) => {
        const definition = findJob(table, queue, job.name);
        // A job no handler knows (an API newer than this worker, a typo) fails at
        // once and stays visible, instead of burning retries.
        if (!definition) throw new UnrecoverableError(`no handler for job ${queue}:${job.name}`);
        const parsed = definition.payload.safeParse(job.data);
        if (!parsed.success)
          throw new UnrecoverableError(`invalid payload for ${queue}:${job.name}: ${parsed.error.message}`);
        return definition.run(parsed.data, job);
      },
      { connection, prefix: config.QUEUE_PREFIX, concurrency: config.WORKER_CONCURRENCY },
    );
    // Without a listener an `error` event would crash the process.
    worker.on('error', (error) => log.warn({ queue, err: error.message }, 'worker error'));
    worker.on('failed', (job, error) =>
      log.warn({ queue, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade, err: error.message }, 'job failed'),
    );
    return worker;
  });
  log.info({ queues: QUEUE_NAMES, jobs: [...table.keys()] }, 'workers started');

  return {
    workers,
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
      // BullMQ does not close a connection it was handed.
      await closeRedis(connection);
    },
  };
}
