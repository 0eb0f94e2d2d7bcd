import { z } from 'zod';
import type { QueueName, Queues } from '../../jobs/queues.js';
import type { Redis } from 'ioredis';
import { lockKeys, withLock } from '../../lib/locks.js';
import type { Logger } from '../../lib/logger.js';
import { lockedWriteFilter } from '../../lib/mongo.js';
import { Order, type OrderDoc } from './order.model.js';

/** The jobs an order can owe, and the queue each runs on. */
export const ORDER_JOBS = {
  'reduce-inventory': 'inventory',
  'restore-inventory': 'inventory',
  'notify-seller': 'notifications',
  'announce-status': 'notifications',
  'warm-order': 'cache',
  'create-invoice': 'invoices',
} as const satisfies Record<string, QueueName>;
export type OrderJobName = keyof typeof ORDER_JOBS;

export const OrderJobPayloadSchema = z.object({
  orderId: z.string().regex(/^[0-9a-f]{24}$/),
  version: z.number().int().positive().optional(),
  /** For create-invoice: the delivery to invoice. */
  deliveryId: z
    .string()
    .regex(/^[0-9a-f]{24}$/)
    .optional(),
});
export type OrderJobPayload = z.infer<typeof OrderJobPayloadSchema>;

/**
 * Deterministic BullMQ job ids (BullMQ forbids ":" in them). Jobs that happen
 * once per order carry no version; jobs that follow each change carry the
 * order version they announce.
 */
export function orderJobId(name: OrderJobName, orderId: string, version?: number): string {
  return version === undefined ? `${name}_${orderId}` : `${name}_${orderId}_${version}`;
}

/** One invoice job per delivery: `create-invoice_<orderId>_<deliveryId>`. */
export const invoiceJobId = (orderId: string, deliveryId: string) => `create-invoice_${orderId}_${deliveryId}`;

export function parseOrderJobId(jobId: string): { name: OrderJobName; payload: OrderJobPayload } | undefined {
  const [name, orderId, third] = jobId.split('_');
  if (!name || !(name in ORDER_JOBS) || !orderId) return undefined;
  if (name === 'create-invoice') return third ? { name, payload: { orderId, deliveryId: third } } : undefined;
  return {
    name: name as OrderJobName,
    payload: { orderId, ...(third ? { version: Number(third) } : {}) },
  };
}

/**
 * Enqueues the jobs an order owes, then strikes them off its outbox. Safe to
 * call any number of times, from anywhere: a job id already in BullMQ is not
 * added twice, and an entry is only struck off after its job is in Redis. A
 * failure (Redis down) leaves the entries for the worker's relay.
 */
export async function flushOrderOutbox(
  ctx: { queues: Queues; redis: Redis; log: Logger },
  orderId: string,
  jobIds: readonly string[],
  /** Entries whose work is already done: struck off without being enqueued. */
  settled: readonly string[] = [],
): Promise<boolean> {
  const { queues, log } = ctx;
  const results = await Promise.allSettled(
    jobIds.map(async (jobId) => {
      const parsed = parseOrderJobId(jobId);
      if (!parsed) {
        log.error({ orderId, jobId }, 'unknown job in order outbox; dropping it');
        return jobId;
      }
      await queues[ORDER_JOBS[parsed.name]].add(parsed.name, parsed.payload, { jobId });
      return jobId;
    }),
  );
  const sent = [...settled, ...results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))];
  const failed = results.find((result) => result.status === 'rejected');
  if (failed)
    log.warn({ orderId, err: String(failed.reason) }, 'could not enqueue order jobs now; the relay will retry');
  if (sent.length === 0) return false;

  try {
    await withLock(ctx.redis, lockKeys.order(orderId), () => strikeOffOutbox(orderId, sent));
  } catch (error) {
    // Left in the outbox: the relay sends them again, and BullMQ ignores the repeat.
    log.warn({ orderId, err: (error as Error).message }, 'could not strike sent jobs off the outbox');
    return false;
  }
  return !failed;
}

/** Flushes the outbox of every order whose entries are older than `graceMs`; the worker runs this on a timer. */
export async function relayOrderOutboxes(
  ctx: { queues: Queues; redis: Redis; log: Logger },
  graceMs: number,
  batch = 200,
): Promise<number> {
  const { log } = ctx;
  const due = await Order.find({ outboxAt: { $lte: new Date(Date.now() - graceMs) } }, { outbox: 1 })
    .sort({ outboxAt: 1 })
    .limit(batch)
    .lean<Array<Pick<OrderDoc, '_id' | 'outbox'>>>();
  for (const order of due) {
    if (order.outbox.length) await flushOrderOutbox(ctx, order._id.toHexString(), order.outbox);
    else await withLock(ctx.redis, lockKeys.order(order._id.toHexString()), () => strikeOffOutbox(order._id, []));
  }
  if (due.length) log.info({ orders: due.length }, 'outbox relay enqueued owed jobs');
  return due.length;
}

/** Removes `sent` from the outbox (and its timestamp once empty); the caller holds the order's lock. */
async function strikeOffOutbox(orderId: unknown, sent: readonly string[]): Promise<void> {
  const current = await Order.findById(orderId, { outbox: 1 }).lean<Pick<OrderDoc, 'outbox'>>();
  if (!current) return;
  const remaining = current.outbox.filter((jobId) => !sent.includes(jobId));
  await Order.updateOne(
    lockedWriteFilter(orderId, { outbox: current.outbox }),
    remaining.length ? { $set: { outbox: remaining } } : { $set: { outbox: [] }, $unset: { outboxAt: 1 } },
    // Bookkeeping, not a change of the order: `updatedAt` stays as the change left it.
    { timestamps: false },
  );
}
