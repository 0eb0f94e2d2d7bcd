import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Config } from '../src/env.js';
import { cappedBackoff, QUEUE_NAMES } from '../src/jobs/queues.js';
import { buildJobTable, findJob, type JobDefinition } from '../src/jobs/registry.js';
import { batched } from '../src/lib/group-commit.js';
import type { Logger } from '../src/lib/logger.js';
import { closeRedis, createRedis } from '../src/lib/redis.js';
import { ORDER_JOBS, ORDER_JOB_NAMES, OrderJobBatchSchema, type OrderJobBatch } from '../src/order-flow/order-jobs.js';
import { settleOwedJobs } from '../src/order-flow/owed-work.js';
import { classifyJobError } from './job-errors.js';

/** The id of the API request whose change owes the job (absent for jobs the reconciler or a schedule sent). */
const requestIdOf = (job: Job): string | undefined =>
  typeof job.data?.requestId === 'string' ? (job.data.requestId as string) : undefined;

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
  const connection = createRedis(config.REDIS_URL, 'blocking', log, 'worker', { coalesceWrites: true });
  const owedJobNames = new Set<string>(ORDER_JOB_NAMES);
  const owedIdOf = (job: Job) => (owedJobNames.has(job.name) && job.id ? [job.id] : []);

  // Kinds with `runMany`: the jobs that arrive while a batch runs go together into the next,
  // with up to WORKER_BATCHES_IN_FLIGHT batches of a kind at once (one batch's order writes
  // overlap the next one's stock work; each product's work holds only that product's lock),
  // and the batch strikes off the owed work of all its successes in one write. That write runs
  // while the next batch does (each job still waits for it before it completes): it is the
  // batch's last step and needs nothing of the next one.
  type BatchItem = { payload: unknown; job: Job; owed: string[] };
  type BatchDone = { result: unknown; settled: Promise<void> };
  const batchers = new Map<JobDefinition, (item: BatchItem) => Promise<BatchDone>>();
  for (const definition of definitions) {
    const runMany = definition.runMany?.bind(definition);
    if (!runMany) continue;
    batchers.set(
      definition,
      batched(
        async (items: BatchItem[]) => {
          const outcomes = await runMany(
            items.map((item) => item.payload),
            items.map((item) => item.job),
          );
          const settled = settleOwedJobs(
            items.flatMap((item, i) => (outcomes[i]?.status === 'fulfilled' ? item.owed : [])),
          );
          // Each job of the batch awaits it (and fails if it failed); this only keeps an
          // unawaited rejection from reaching the process before they do.
          settled.catch(() => undefined);
          return outcomes.map((outcome): PromiseSettledResult<BatchDone> =>
            outcome.status === 'fulfilled'
              ? { status: 'fulfilled', value: { result: outcome.value, settled } }
              : outcome,
          );
        },
        config.WORKER_BATCH_SIZE,
        config.WORKER_BATCHES_IN_FLIGHT,
      ),
    );
  }
  const batchedQueues = new Set(definitions.filter((d) => d.runMany).map((d) => d.queue));

  /**
   * One job's work, whose effect strikes off `owed`: a retryable failure is thrown for BullMQ
   * to retry; a decided one is logged, struck off (nothing a retry could change) and thrown
   * as an UnrecoverableError.
   */
  async function runOne(
    definition: JobDefinition,
    job: Job,
    data: unknown,
    owed: string[],
    requestId: string | undefined,
  ): Promise<unknown> {
    const batch = batchers.get(definition);
    let result: unknown;
    try {
      const payload = definition.payload.parse(data);
      if (batch) {
        const done = await batch({ payload, job, owed });
        await done.settled;
        return done.result;
      }
      result = await definition.run(payload, job);
    } catch (error) {
      if (classifyJobError(error) === 'retry') throw error;
      // Decided: nothing a retry could change. The failed job stays visible in Bull Board.
      log.error(
        { queue: definition.queue, job: job.name, jobId: job.id, requestId, err: (error as Error).message },
        'job given up',
      );
      await settleOwedJobs(owed);
      throw new UnrecoverableError((error as Error).message);
    }
    // Struck off only now that its effect is recorded; a crash before this runs the job again.
    await settleOwedJobs(owed);
    return result;
  }

  /**
   * A batch job (order-jobs.ts `batchJobId`): each of its orders runs as if its job had come
   * alone. When some fail for a reason a retry can change, the batch keeps only those and is
   * retried (the ones done or given up are not run again); once none is left, its owed entry
   * is struck off.
   */
  async function runBatchJob(definition: JobDefinition, job: Job, members: OrderJobBatch['batch']) {
    const outcomes = await Promise.allSettled(
      members.map(({ requestId, ...payload }) => runOne(definition, job, payload, [], requestId)),
    );
    const retryable = (outcome: PromiseSettledResult<unknown>): outcome is PromiseRejectedResult =>
      outcome.status === 'rejected' && !(outcome.reason instanceof UnrecoverableError);
    const retry = members.filter((_, i) => retryable(outcomes[i]!));
    if (retry.length) {
      if (retry.length < members.length) await job.updateData({ batch: retry } satisfies OrderJobBatch);
      throw outcomes.find(retryable)!.reason;
    }
    await settleOwedJobs(job.id ? [job.id] : []);
    return { orders: members.length, givenUp: outcomes.filter((outcome) => outcome.status === 'rejected').length };
  }

  const workers = QUEUE_NAMES.map((queue) => {
    const worker = new Worker(
      queue,
      async (job: Job) => {
        const definition = findJob(table, queue, job.name);
        // A job no handler knows (an API newer than this worker) fails at once and stays visible.
        if (!definition) throw new UnrecoverableError(`no handler for job ${queue}:${job.name}`);
        if (job.data && typeof job.data === 'object' && 'batch' in job.data) {
          const envelope = OrderJobBatchSchema.safeParse(job.data);
          if (!envelope.success) throw new UnrecoverableError(`malformed batch job: ${envelope.error.message}`);
          return runBatchJob(definition, job, envelope.data.batch);
        }
        return runOne(definition, job, job.data, owedIdOf(job), requestIdOf(job));
      },
      {
        connection,
        prefix: config.QUEUE_PREFIX,
        // A batched kind needs that many jobs in hand to fill a batch.
        concurrency: batchedQueues.has(queue)
          ? Math.max(config.WORKER_CONCURRENCY, config.WORKER_BATCH_SIZE)
          : config.WORKER_CONCURRENCY,
        ...STALL_POLICY,
        settings: { backoffStrategy: cappedBackoff },
      },
    );
    // Without a listener an `error` event would crash the process.
    worker.on('error', (error) => log.warn({ queue, err: error.message }, 'worker error'));
    // At debug: one line per finished job, with the request that caused it (LOG_LEVEL=debug to follow an order).
    worker.on('completed', (job) =>
      log.debug({ queue, job: job.name, jobId: job.id, requestId: requestIdOf(job) }, 'job completed'),
    );
    worker.on('failed', (job, error) =>
      log.warn(
        {
          queue,
          job: job?.name,
          jobId: job?.id,
          requestId: job && requestIdOf(job),
          attempt: job?.attemptsMade,
          err: error.message,
        },
        'job failed',
      ),
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
