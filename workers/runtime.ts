import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Config } from '../src/env.js';
import { cappedBackoff, QUEUE_NAMES } from '../src/jobs/queues.js';
import { buildJobTable, findJob, type JobDefinition } from '../src/jobs/registry.js';
import type { Logger } from '../src/lib/logger.js';
import { closeRedis, createRedis } from '../src/lib/redis.js';
import { ORDER_JOBS, ORDER_JOB_NAMES } from '../src/order-flow/order-jobs.js';
import { settleOwedJobs } from '../src/order-flow/owed-work.js';
import { classifyJobError } from './job-errors.js';

export interface WorkerPool {
  workers: Worker[];
  /** Stops taking jobs and waits for the active ones to finish. */
  close(): Promise<void>;
}

/**
 * Stalls: a job whose worker died (kill -9, OOM, a lost machine) keeps its
 * lock until `lockDuration` runs out; the stall check, every `stalledInterval`,
 * then puts it back in the queue. 15 s is long enough that a worker busy on a
 * shared core still renews its locks (every 7.5 s) and short enough that a
 * crashed worker's jobs run again within about 20 s. After `maxStalledCount`
 * such restarts BullMQ fails the job for good, whatever `attempts` says; that
 * is the brake on a job that itself kills its worker. Nothing is lost by it:
 * the job is still owed, and the reconciler sends it again, spaced out.
 */
export const STALL_POLICY = { lockDuration: 15_000, stalledInterval: 5_000, maxStalledCount: 2 } as const;

/** Every job an order can owe must have a handler: a worker missing one refuses to start. */
export function assertOwedJobsHandled(definitions: readonly JobDefinition[]): void {
  const table = buildJobTable(definitions);
  const missing = ORDER_JOB_NAMES.filter((name) => !findJob(table, ORDER_JOBS[name], name));
  if (missing.length) throw new Error(`no handler for owed job(s): ${missing.join(', ')}`);
}

export function startWorkers(config: Config, definitions: readonly JobDefinition[], log: Logger): WorkerPool {
  assertOwedJobsHandled(definitions);
  const table = buildJobTable(definitions);
  const connection = createRedis(config.REDIS_URL, 'blocking', log, 'worker');
  const owedJobNames = new Set<string>(ORDER_JOB_NAMES);

  const workers = QUEUE_NAMES.map((queue) => {
    const worker = new Worker(
      queue,
      async (job: Job) => {
        const definition = findJob(table, queue, job.name);
        // A job no handler knows (an API newer than this worker) fails at once and stays visible.
        if (!definition) throw new UnrecoverableError(`no handler for job ${queue}:${job.name}`);
        const owed = owedJobNames.has(job.name) && job.id ? [job.id] : [];
        let result: unknown;
        try {
          result = await definition.run(definition.payload.parse(job.data), job);
        } catch (error) {
          if (classifyJobError(error) === 'retry') throw error;
          // Decided: nothing a retry could change. The failed job stays visible in Bull Board.
          log.error({ queue, job: job.name, jobId: job.id, err: (error as Error).message }, 'job given up');
          await settleOwedJobs(owed);
          throw new UnrecoverableError((error as Error).message);
        }
        // Struck off only now that its effect is recorded; a crash before this runs the job again.
        await settleOwedJobs(owed);
        return result;
      },
      {
        connection,
        prefix: config.QUEUE_PREFIX,
        concurrency: config.WORKER_CONCURRENCY,
        ...STALL_POLICY,
        settings: { backoffStrategy: cappedBackoff },
      },
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
