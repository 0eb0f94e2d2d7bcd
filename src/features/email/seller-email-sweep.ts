import { Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Types } from 'mongoose';
import type { Config } from '../../env.js';
import type { Queues } from '../../jobs/queues.js';
import type { Logger } from '../../lib/logger.js';
import { Notification, type NotificationDoc } from '../notifications/notification.model.js';
import { configuredEmailDefaults, emailChoicesOf } from './email-preferences.service.js';
import { PendingSellerEmail, type PendingSellerEmailDoc } from './pending-seller-email.model.js';
import { dropPendingSellerEmails } from './pending-seller-emails.js';
import {
  MAX_NOTIFICATIONS_PER_EMAIL,
  SEND_SELLER_EMAIL,
  sellerEmailJobId,
  type SellerEmailJob,
} from './seller-email.service.js';

/**
 * The sweep: which sellers are owed an email now. It reads the pending
 * entries whole (a small collection: see pending-seller-email.model.ts), the
 * choices of each seller that has some (by `_id`), and, for a seller whose
 * oldest entry is older than their delay, each listed notification by `_id`.
 * Acknowledged or read ones are dropped; if unseen ones remain and the oldest
 * of them is old enough, one `send-seller-email` job is queued for all of them,
 * its id named by that oldest one, so repeated passes (on any worker) queue it
 * once. Like the owed-work reconciler, a job that is missing (Redis lost it)
 * is added again, and one that failed (retries used up while SMTP was down)
 * or completed while its entries remain is retried: nothing lives only in
 * Redis.
 */

export interface SweepContext {
  config: Config;
  log: Logger;
  /** The fail-fast connection: the lease, and where each job is. */
  redis: Redis;
  queues: Pick<Queues, 'email'>;
}

export interface SweepOutcome {
  pending: number;
  /** Sellers owed an email now. */
  due: number;
  queued: number;
  retried: number;
  /** Pending entries dropped: acknowledged, read, or their seller takes no emails. */
  dropped: number;
}

/** Most pending entries one pass reads; the rest wait for the next pass. */
const MAX_PENDING_PER_PASS = 20_000;
/** Sellers whose notifications are read at once. */
const SELLERS_AT_ONCE = 4;

/** Sent with every job: retried with the worker's capped backoff, then again by the sweep. */
export const SELLER_EMAIL_JOB_OPTIONS: JobsOptions = { attempts: 12 };

export async function sweepSellerEmails(ctx: SweepContext, now = Date.now()): Promise<SweepOutcome> {
  const pending = await PendingSellerEmail.find({}).limit(MAX_PENDING_PER_PASS).lean<PendingSellerEmailDoc[]>();
  const outcome: SweepOutcome = { pending: pending.length, due: 0, queued: 0, retried: 0, dropped: 0 };
  if (!pending.length) return outcome;

  const bySeller = new Map<string, PendingSellerEmailDoc[]>();
  for (const entry of pending) {
    const sellerId = entry.sellerId.toHexString();
    const entries = bySeller.get(sellerId);
    if (entries) entries.push(entry);
    else bySeller.set(sellerId, [entry]);
  }
  const choices = await emailChoicesOf([...bySeller.keys()], configuredEmailDefaults(ctx.config));
  const drop: Types.ObjectId[] = [];
  const jobs: SellerEmailJob[] = [];

  const sellers = [...bySeller];
  const next = async (): Promise<void> => {
    const item = sellers.shift();
    if (!item) return;
    const [sellerId, entries] = item;
    const choice = choices.get(sellerId)!;
    const oldEnough = (entry: PendingSellerEmailDoc) =>
      new Date(entry.notifiedAt).getTime() <= now - choice.delaySeconds * 1000;
    if (!choice.enabled) {
      drop.push(...entries.map((entry) => entry._id));
    } else if (entries.some(oldEnough)) {
      const states = await Promise.all(
        entries.map((entry) =>
          Notification.findById(entry._id, { deliveredAt: 1, readAt: 1 }).lean<
            Pick<NotificationDoc, 'deliveredAt' | 'readAt'>
          >(),
        ),
      );
      const unseen = entries
        .filter((entry, i) => states[i] && !states[i].deliveredAt && !states[i].readAt)
        .sort(
          (a, b) =>
            new Date(a.notifiedAt).getTime() - new Date(b.notifiedAt).getTime() ||
            a._id.toHexString().localeCompare(b._id.toHexString()),
        );
      const kept = new Set(unseen);
      drop.push(...entries.filter((entry) => !kept.has(entry)).map((entry) => entry._id));
      if (unseen.length && oldEnough(unseen[0]!)) {
        jobs.push({
          sellerId,
          emailId: unseen[0]!._id.toHexString(),
          // The oldest first; a job over the schema's limit would fail for good, and its entries never drain.
          notificationIds: unseen.slice(0, MAX_NOTIFICATIONS_PER_EMAIL).map((entry) => entry._id.toHexString()),
        });
      }
    }
    return next();
  };
  await Promise.all(Array.from({ length: SELLERS_AT_ONCE }, next));

  outcome.due = jobs.length;
  Object.assign(outcome, await queueSellerEmails(ctx, jobs));
  await dropPendingSellerEmails(drop);
  outcome.dropped = drop.length;
  if (outcome.queued || outcome.retried) ctx.log.info(outcome, 'seller emails queued');
  return outcome;
}

/** Adds the jobs that are missing, retries the ones that failed or completed, leaves live ones alone. */
async function queueSellerEmails(ctx: SweepContext, jobs: readonly SellerEmailJob[]) {
  const queue = ctx.queues.email;
  const counts = { queued: 0, retried: 0 };
  if (!jobs.length) return counts;
  const pipeline = ctx.redis.pipeline();
  for (const job of jobs) {
    const id = sellerEmailJobId(job.emailId);
    pipeline.exists(queue.toKey(id));
    pipeline.zscore(queue.toKey('failed'), id);
    pipeline.zscore(queue.toKey('completed'), id);
  }
  const replies = ((await pipeline.exec()) ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
  const missing: SellerEmailJob[] = [];
  for (const [i, job] of jobs.entries()) {
    const [exists, failed, completed] = replies.slice(i * 3, i * 3 + 3);
    if (!exists) {
      missing.push(job);
      continue;
    }
    const where = failed !== null ? 'failed' : completed !== null ? 'completed' : undefined;
    if (!where) continue; // waiting, delayed or running
    try {
      const stale = await Job.fromId(queue, sellerEmailJobId(job.emailId));
      await stale?.retry(where, { resetAttemptsMade: true, resetAttemptsStarted: true });
      counts.retried++;
    } catch (error) {
      // Another worker's sweep moved it first, or it finished meanwhile: the next pass sees where it is.
      ctx.log.debug({ emailId: job.emailId, err: (error as Error).message }, 'seller email job not retried');
    }
  }
  if (missing.length) {
    await queue.addBulk(
      missing.map((job) => ({
        name: SEND_SELLER_EMAIL,
        data: job,
        opts: { ...SELLER_EMAIL_JOB_OPTIONS, jobId: sellerEmailJobId(job.emailId) },
      })),
    );
    counts.queued = missing.length;
  }
  return counts;
}

/**
 * Runs the sweep every `SELLER_EMAIL_CHECK_INTERVAL_MS` on whichever worker
 * takes the interval's lease first (`{QUEUE_PREFIX}:selleremails:sweep`, a SET
 * NX), so any number of workers sweep about once per interval between them.
 * Skipped while Redis is unreachable. Does nothing when `SMTP_URL` is unset.
 */
export function startSellerEmailSweep(ctx: SweepContext): { close(): Promise<void> } {
  const { config, log, redis } = ctx;
  if (!config.SMTP_URL) return { close: async () => {} };
  const interval = config.SELLER_EMAIL_CHECK_INTERVAL_MS;
  const leaseKey = `${config.QUEUE_PREFIX}:selleremails:sweep`;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> = Promise.resolve();
  let closing = false;
  const schedule = () => {
    if (closing) return;
    timer = setTimeout(() => {
      if (redis.status !== 'ready') return schedule();
      sweeping = redis
        .set(leaseKey, String(process.pid), 'PX', Math.max(Math.floor(interval * 0.8), 1), 'NX')
        .then((taken) => (taken === 'OK' ? sweepSellerEmails(ctx) : undefined))
        .catch((error: Error) => log.warn({ err: error.message }, 'seller email sweep failed; the next one retries'))
        .finally(schedule);
    }, interval);
  };
  schedule();
  return {
    async close() {
      closing = true;
      clearTimeout(timer);
      await sweeping;
    },
  };
}
