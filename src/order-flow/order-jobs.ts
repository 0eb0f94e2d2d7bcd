import { z } from 'zod';
import type { QueueName } from '../jobs/queues.js';

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
export const ORDER_JOB_NAMES = Object.keys(ORDER_JOBS) as OrderJobName[];

export const OrderJobPayloadSchema = z.object({
  orderId: z.string().regex(/^[0-9a-f]{24}$/),
  /**
   * The order version whose change owes the job: the job does not act on an
   * older order (its change has not landed yet). Absent in jobs queued before
   * owed work was recorded.
   */
  version: z.number().int().positive().optional(),
  /** For create-invoice: the delivery to invoice. */
  deliveryId: z
    .string()
    .regex(/^[0-9a-f]{24}$/)
    .optional(),
});
export type OrderJobPayload = z.infer<typeof OrderJobPayloadSchema>;

/** Jobs that follow every change carry their version in the id; the rest happen once per order. */
export const PER_VERSION_JOBS: ReadonlySet<OrderJobName> = new Set(['announce-status', 'warm-order']);

/**
 * Deterministic BullMQ job ids (BullMQ forbids ":" in them). Jobs that happen
 * once per order carry no version; jobs that follow each change carry the
 * order version they announce.
 */
export function orderJobId(name: OrderJobName, orderId: string, version?: number): string {
  return version === undefined ? `${name}_${orderId}` : `${name}_${orderId}_${version}`;
}

/**
 * The jobs of orders written together (a group commit of checkouts) travel as
 * one BullMQ job per kind, `<name>_batch_<uuid>`, whose data lists the orders
 * (each with the version that owes it and its request). The batch job is owed
 * as one entry (owed-work.ts) and struck off once every order of it is done.
 * One BullMQ job costs some 70 Redis commands (Lua included) and an owed entry
 * an insert and a delete, wherever it carries one order or sixty.
 */
export const batchJobId = (name: OrderJobName, batch: string) => `${name}_batch_${batch}`;

export const OrderJobBatchSchema = z.object({
  batch: z
    .array(
      z.object({
        orderId: OrderJobPayloadSchema.shape.orderId,
        version: z.number().int().positive(),
        requestId: z.string().optional(),
      }),
    )
    .min(1),
});
export type OrderJobBatch = z.infer<typeof OrderJobBatchSchema>;

/** One invoice job per delivery: `create-invoice_<orderId>_<deliveryId>`. */
export const invoiceJobId = (orderId: string, deliveryId: string) => `create-invoice_${orderId}_${deliveryId}`;

/** The job an id stands for, with its payload; `version` is the owing change's when given. */
export function parseOrderJobId(
  jobId: string,
  version?: number,
): { name: OrderJobName; queue: QueueName; payload: OrderJobPayload } | undefined {
  const [name, orderId, third] = jobId.split('_');
  if (!name || !(name in ORDER_JOBS) || !orderId || !/^[0-9a-f]{24}$/.test(orderId)) return undefined;
  const job = name as OrderJobName;
  const queue = ORDER_JOBS[job];
  if (job === 'create-invoice') {
    return third
      ? { name: job, queue, payload: { orderId, deliveryId: third, ...(version ? { version } : {}) } }
      : undefined;
  }
  const inId = third ? Number(third) : undefined;
  const payloadVersion = inId ?? version;
  return { name: job, queue, payload: { orderId, ...(payloadVersion ? { version: payloadVersion } : {}) } };
}
