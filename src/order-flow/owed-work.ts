import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Types } from 'mongoose';
import type { QueueName, Queues } from '../jobs/queues.js';
import type { Logger } from '../lib/logger.js';
import { insertBuilt, isDuplicateKeyError, MAX_WRITE_STATEMENTS } from '../lib/mongo.js';
import { ORDER_JOBS, parseOrderJobId, type OrderJobBatch, type OrderJobName } from './order-jobs.js';
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
  /**
   * For a batch job (order-jobs.ts `batchJobId`): the orders it carries, each with the version
   * that owes it and its request. One entry, one job and one strike-off for them all.
   */
  members?: OrderJobBatch['batch'] | undefined;
}

/** The queue and job name of an owed entry, batch or not; undefined for an id no job has. */
function jobOf(jobId: string, version: number, members?: OrderJobBatch['batch']) {
  if (!members?.length) return parseOrderJobId(jobId, version);
  const name = jobId.split('_')[0]!;
  if (!(name in ORDER_JOBS)) return undefined;
  const job = name as OrderJobName;
  return { name: job, queue: ORDER_JOBS[job], data: { batch: members } satisfies OrderJobBatch };
}

const chunks = <T>(items: readonly T[]) =>
  Array.from({ length: Math.ceil(items.length / MAX_WRITE_STATEMENTS) }, (_, i) =>
    items.slice(i * MAX_WRITE_STATEMENTS, (i + 1) * MAX_WRITE_STATEMENTS),
  );

/** Records owed jobs, in one insert per 90; an entry already owed stays as it is. */
export async function oweJobs(entries: readonly OwedEntry[]): Promise<void> {
  const now = new Date();
  for (const chunk of chunks(entries)) {
    const docs = chunk.map(({ jobId, version, requestId, members }): OwedJobDoc => ({
      _id: jobId,
      orderId: new Types.ObjectId(members?.length ? members[0]!.orderId : jobId.split('_')[1]),
      version,
      ...(requestId ? { requestId } : {}),
      ...(members?.length ? { members, orderIds: members.map((m) => new Types.ObjectId(m.orderId)) } : {}),
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
 * Enqueues owed jobs, one `addBulk` per queue. Returns false when Redis refused
 * (down, or the API is shutting down): the reconciler sends them later, and a
 * second add of the same job id is a no-op in BullMQ.
 */
export async function sendOwedJobs(queues: Queues, entries: readonly OwedEntry[], log?: Logger): Promise<boolean> {
  const byQueue = new Map<QueueName, Parameters<Queue['addBulk']>[0]>();
  for (const { jobId, version, requestId, members } of entries) {
    const job = jobOf(jobId, version, members);
    if (!job) {
      log?.error({ jobId }, 'owed job with an unknown id; the reconciler will not send it either');
      continue;
    }
    const payload = 'payload' in job ? job.payload : job.data;
    const data = requestId ? { ...payload, requestId } : payload;
    byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), { name: job.name, data, opts: { jobId } }]);
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
    const job = jobOf(record._id, record.version, record.members);
    const dueAt = Math.max(new Date(record.dueAt).getTime(), new Date(record.createdAt).getTime() + settings.graceMs);
    return job && dueAt <= now ? [{ record, job }] : [];
  });
  if (!due.length) return outcome;

  // Where each job is, in one pipelined round trip: its hash, and whether it sits in failed or completed.
  const pipeline = redis.pipeline();
  for (const { record, job } of due) {
    const queue = queues[job.queue];
    pipeline.exists(queue.toKey(record._id));
    pipeline.zscore(queue.toKey('failed'), record._id);
    pipeline.zscore(queue.toKey('completed'), record._id);
  }
  const replies = (await pipeline.exec()) ?? [];
  const place = (i: number): JobPlace => {
    const [exists, failed, completed] = replies.slice(i * 3, i * 3 + 3).map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    if (!exists) return 'missing';
    if (failed !== null) return 'failed';
    if (completed !== null) return 'completed';
    return 'live';
  };

  const toAdd: OwedJobDoc[] = [];
  for (const [i, { record, job }] of due.entries()) {
    const where = place(i);
    // Old enough that its writer must be gone, and its change never landed: nothing will ever
    // do it (a live job of it only retries until it fails). A batch keeps the orders that landed.
    const old = now - new Date(record.createdAt).getTime() > settings.abandonMs;
    const landed = old ? await landedMembers(record) : undefined;
    if (landed?.length === 0) {
      await OwedJob.deleteOne({ _id: record._id });
      await queues[job.queue].remove(record._id).catch(() => 0);
      log.warn({ jobId: record._id, version: record.version }, 'owed job dropped: its change never reached the order');
      outcome.abandoned++;
      continue;
    }
    if (landed && record.members && landed.length < record.members.length) {
      // The job first (a crash after this finds it missing and prunes again), then the record.
      // A job running now cannot be removed (BullMQ answers 0 for a locked job; 1 once it is
      // gone, or was not there): the next pass prunes it.
      if (
        !(await queues[job.queue].remove(record._id).then(
          (removed) => removed === 1,
          () => false,
        ))
      )
        continue;
      const dropped = record.members.filter((member) => !landed.includes(member));
      await OwedJob.updateOne(
        { _id: record._id },
        { $set: { members: landed, orderIds: landed.map((m) => new Types.ObjectId(m.orderId)) } },
      );
      log.warn(
        { jobId: record._id, orders: dropped.map((m) => m.orderId) },
        'orders dropped from an owed batch job: they were never written',
      );
      outcome.abandoned += dropped.length;
      toAdd.push({ ...record, members: landed });
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
      members: record.members,
    }));
    if (await sendOwedJobs(queues, entries, log)) outcome.added = toAdd.length;
  }
  if (outcome.added || outcome.retried || outcome.abandoned) log.info(outcome, 'reconciler re-sent owed work');
  return outcome;
}

/** The orders of an owed job whose change landed: for a batch, those of its orders; else the one order, or none. */
async function landedMembers(record: OwedJobDoc): Promise<OrderJobBatch['batch']> {
  const members = record.members ?? [{ orderId: record.orderId.toHexString(), version: record.version }];
  const landed = await Promise.all(members.map(({ orderId, version }) => changeLanded(orderId, version)));
  return members.filter((_, i) => landed[i]);
}

/** True when the order has the version that owes the job, or a claim of it that its next writer will finish. */
async function changeLanded(orderId: string, version: number): Promise<boolean> {
  const order = await Order.findById(orderId, { version: 1 }).lean<{ version: number }>();
  if (order && order.version >= version) return true;
  if (!order) return false;
  return (await OrderRevision.exists({ _id: revisionId(orderId, version) })) !== null;
}
