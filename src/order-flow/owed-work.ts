import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Types } from 'mongoose';
import type { QueueName, Queues } from '../jobs/queues.js';
import type { Logger } from '../lib/logger.js';
import { insertBuilt, isDuplicateKeyError, MAX_WRITE_STATEMENTS } from '../lib/mongo.js';
import { parseOrderJobId, type OrderJobBatch } from './order-jobs.js';
import { OrderRevision, revisionId } from './order-revision.model.js';
import { Order } from './order.model.js';
import { OwedJob, type OwedJobDoc } from './owed-job.model.js';

/**
 * Owed work: "saved" means "will be processed" only if whatever a change needs
 * done outlives every process and Redis itself. So the jobs a change owes are
 * recorded in MongoDB (`owedjobs`) before the change is written, enqueued after
 * it, and struck off only by the worker that did the work, after its effect is
 * recorded. A reconciler on every worker re-sends what is still owed and has no
 * live job: lost with a Redis that came back empty, failed after its retries,
 * or failed by BullMQ for stalling (a worker killed twice while running it).
 */

export interface OwedEntry {
  jobId: string;
  /** The order version whose change owes the job. */
  version: number;
  /** The request whose change owes it, carried in the job's data for the worker's log (and kept for a re-send). */
  requestId?: string | undefined;
  /** The batch job (order-jobs.ts `batchJobId`) that carries this job with others of its kind. */
  sentIn?: string | undefined;
}

const chunks = <T>(items: readonly T[]) =>
  Array.from({ length: Math.ceil(items.length / MAX_WRITE_STATEMENTS) }, (_, i) =>
    items.slice(i * MAX_WRITE_STATEMENTS, (i + 1) * MAX_WRITE_STATEMENTS),
  );

/** Records owed jobs, in one insert per 90; an entry already owed stays as it is. */
export async function oweJobs(entries: readonly OwedEntry[]): Promise<void> {
  const now = new Date();
  for (const chunk of chunks(entries)) {
    const docs = chunk.map(({ jobId, version, requestId, sentIn }): OwedJobDoc => ({
      _id: jobId,
      orderId: new Types.ObjectId(jobId.split('_')[1]),
      version,
      ...(requestId ? { requestId } : {}),
      ...(sentIn ? { sentIn } : {}),
      dueAt: now,
      resends: 0,
      createdAt: now,
    }));
    try {
      await insertBuilt(OwedJob, docs);
    } catch (error) {
      // Owed already (a retried request, a second writer of the same change): one entry is enough.
      if (!isDuplicateKeyError(error)) throw error;
    }
  }
}

/** Strikes off jobs whose effect is recorded; each delete filters by `_id` alone, which FerretDB pushes down. */
export async function settleOwedJobs(jobIds: readonly string[]): Promise<void> {
  for (const chunk of chunks(jobIds)) {
    await OwedJob.bulkWrite(
      chunk.map((jobId) => ({ deleteOne: { filter: { _id: jobId } } })),
      { ordered: false },
    );
  }
}

/**
 * Enqueues owed jobs, one `addBulk` per queue; entries sent in a batch go as
 * one job per batch (order-jobs.ts `batchJobId`). Returns false when Redis
 * refused (down, or the API is shutting down): the reconciler sends them
 * later, and a second add of the same job id is a no-op in BullMQ.
 */
export async function sendOwedJobs(queues: Queues, entries: readonly OwedEntry[], log?: Logger): Promise<boolean> {
  const byQueue = new Map<QueueName, Parameters<Queue['addBulk']>[0]>();
  const batches = new Map<string, { queue: QueueName; name: string; members: OrderJobBatch['batch'] }>();
  for (const { jobId, version, requestId, sentIn } of entries) {
    const job = parseOrderJobId(jobId, version);
    if (!job) {
      log?.error({ jobId }, 'owed job with an unknown id; the reconciler will not send it either');
      continue;
    }
    const data = requestId ? { ...job.payload, requestId } : job.payload;
    if (sentIn) {
      const batch = batches.get(sentIn) ?? { queue: job.queue, name: job.name, members: [] };
      batch.members.push({ ...data, jobId });
      batches.set(sentIn, batch);
      continue;
    }
    byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), { name: job.name, data, opts: { jobId } }]);
  }
  for (const [jobId, { queue, name, members }] of batches) {
    const data: OrderJobBatch = { batch: members };
    byQueue.set(queue, [...(byQueue.get(queue) ?? []), { name, data, opts: { jobId } }]);
  }
  try {
    await Promise.all([...byQueue].map(([queue, jobs]) => queues[queue].addBulk(jobs)));
    return true;
  } catch (error) {
    log?.warn(
      { err: (error as Error).message, jobs: entries.length },
      'could not enqueue owed jobs now; the reconciler will',
    );
    return false;
  }
}

export interface ReconcileSettings {
  /** How old owed work must be before it is re-sent: the API sends it itself right after the write. */
  graceMs: number;
  /** Owed work whose change never reached its order after this long is dropped (its writer died first). */
  abandonMs: number;
  /** Most records read per pass. */
  batch?: number;
}

export interface ReconcileOutcome {
  owed: number;
  /** Jobs missing from Redis, added again. */
  added: number;
  /** Failed (or finished without striking themselves off) jobs, retried. */
  retried: number;
  /** Owed work whose change never landed, dropped. */
  abandoned: number;
}

/** The longest wait between re-sends of a job that keeps failing. */
const MAX_RESEND_DELAY_MS = 15 * 60 * 1000;

type JobPlace = 'live' | 'missing' | 'failed' | 'completed';

/**
 * One pass: every owed job past its grace period whose job is missing, failed
 * or completed-without-settling is sent again under the same id. Live jobs
 * (waiting, delayed, active) are left alone. Safe on any number of workers at
 * once: an add of an existing id is a no-op, and a retry of a job that another
 * reconciler already moved out of `failed` is refused by BullMQ.
 *
 * `redis` is a fail-fast connection: a pass while Redis is down fails at once
 * instead of waiting out the outage.
 */
export async function reconcileOwedWork(
  ctx: { queues: Queues; redis: Redis; log: Logger },
  settings: ReconcileSettings,
): Promise<ReconcileOutcome> {
  const { queues, redis, log } = ctx;
  const now = Date.now();
  const records = await OwedJob.find({})
    .limit(settings.batch ?? 5_000)
    .lean<OwedJobDoc[]>();
  const outcome: ReconcileOutcome = { owed: records.length, added: 0, retried: 0, abandoned: 0 };
  const due = records.flatMap((record) => {
    const job = parseOrderJobId(record._id, record.version);
    const dueAt = Math.max(new Date(record.dueAt).getTime(), new Date(record.createdAt).getTime() + settings.graceMs);
    return job && dueAt <= now ? [{ record, job }] : [];
  });
  if (!due.length) return outcome;

  // Where each job is, in one pipelined round trip: its hash, and whether it sits in failed or
  // completed; for a job sent in a batch, the batch job's too.
  const pipeline = redis.pipeline();
  for (const { record, job } of due) {
    const queue = queues[job.queue];
    for (const id of [record._id, record.sentIn ?? record._id]) {
      pipeline.exists(queue.toKey(id));
      pipeline.zscore(queue.toKey('failed'), id);
      pipeline.zscore(queue.toKey('completed'), id);
    }
  }
  const replies = (await pipeline.exec()) ?? [];
  const placeAt = (at: number): JobPlace => {
    const [exists, failed, completed] = replies.slice(at, at + 3).map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    if (!exists) return 'missing';
    if (failed !== null) return 'failed';
    if (completed !== null) return 'completed';
    return 'live';
  };
  // A job whose batch is still live (waiting, running, or retrying the orders it has left) is
  // live. Once the batch is over and the job is still owed, it goes alone, under its own id.
  const place = (i: number): JobPlace => {
    const own = placeAt(i * 6);
    return own === 'missing' && placeAt(i * 6 + 3) === 'live' ? 'live' : own;
  };

  const toAdd: OwedJobDoc[] = [];
  for (const [i, { record, job }] of due.entries()) {
    const where = place(i);
    // Old enough that its writer must be gone, and its change never landed: nothing will ever
    // do it (a live job of it only retries until it fails).
    if (now - new Date(record.createdAt).getTime() > settings.abandonMs && !(await changeLanded(record))) {
      await OwedJob.deleteOne({ _id: record._id });
      await queues[job.queue].remove(record._id).catch(() => 0);
      log.warn({ jobId: record._id, version: record.version }, 'owed job dropped: its change never reached the order');
      outcome.abandoned++;
      continue;
    }
    if (where === 'live') continue;
    if (where === 'missing') {
      toAdd.push(record);
      continue;
    }
    // The list was read before Redis was asked: the job may have finished and struck itself off since.
    if (!(await OwedJob.exists({ _id: record._id }))) continue;
    try {
      const stale = await Job.fromId(queues[job.queue], record._id);
      await stale?.retry(where, { resetAttemptsMade: true, resetAttemptsStarted: true });
      outcome.retried++;
    } catch (error) {
      // Another reconciler moved it first, or it finished meanwhile: next pass sees where it is.
      log.debug({ jobId: record._id, err: (error as Error).message }, 'owed job not retried');
    }
    const delay = Math.min(settings.graceMs * 2 ** (record.resends + 1), MAX_RESEND_DELAY_MS);
    await OwedJob.updateOne({ _id: record._id }, { $set: { dueAt: new Date(now + delay) }, $inc: { resends: 1 } });
  }
  if (toAdd.length) {
    const entries = toAdd.map((record) => ({
      jobId: record._id,
      version: record.version,
      requestId: record.requestId,
    }));
    if (await sendOwedJobs(queues, entries, log)) outcome.added = toAdd.length;
  }
  if (outcome.added || outcome.retried || outcome.abandoned) log.info(outcome, 'reconciler re-sent owed work');
  return outcome;
}

/** True when the order has the version that owes the job, or a claim of it that its next writer will finish. */
async function changeLanded(record: OwedJobDoc): Promise<boolean> {
  const order = await Order.findById(record.orderId, { version: 1 }).lean<{ version: number }>();
  if (order && order.version >= record.version) return true;
  if (!order) return false;
  return (await OrderRevision.exists({ _id: revisionId(record.orderId.toHexString(), record.version) })) !== null;
}
