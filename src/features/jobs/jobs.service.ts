import type { Job } from 'bullmq';
import type { Queues } from '../../jobs/queues.js';
import { AppError } from '../../lib/errors.js';
import type { Principal } from '../../lib/tokens.js';
import { canSeeOrder } from '../../order-flow/order-access.js';
import { parseOrderJobId, type OrderJobName } from '../../order-flow/order-jobs.js';
import { Order, type OrderDoc } from '../../order-flow/order.model.js';
import { OwedJob } from '../../order-flow/owed-job.model.js';
import { Invoice, type InvoiceDoc } from '../invoices/invoice.model.js';

type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'unknown';

export interface JobStatus {
  id: string;
  queue: keyof Queues;
  name: OrderJobName;
  state: JobState;
  progress: number | Record<string, unknown>;
  attemptsMade: number;
  result?: Record<string, unknown>;
  failedReason?: string;
  timestamps: { createdAt?: string; processedAt?: string; finishedAt?: string };
}

/** BullMQ's states, in the few words a client needs. */
const STATES: Record<string, JobState> = {
  waiting: 'waiting',
  prioritized: 'waiting',
  'waiting-children': 'waiting',
  delayed: 'delayed',
  active: 'active',
  completed: 'completed',
  failed: 'failed',
};

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : undefined);
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `GET /jobs/:id`: the state of one of an order's jobs, for whoever may see
 * the order. The id names the order, so the caller is checked before Redis is
 * asked, and a job of someone else's order is as unknown as one never queued.
 */
export async function getJobStatus(queues: Queues, caller: Principal, jobId: string): Promise<JobStatus> {
  const notFound = () => new AppError('not_found', `job ${jobId} does not exist`);
  const parsed = parseOrderJobId(jobId);
  if (!parsed) throw notFound();
  const { name, queue, payload } = parsed;
  const order = await Order.findById(payload.orderId, { customer: 1, seller: 1 }).lean<
    Pick<OrderDoc, 'customer' | 'seller'>
  >();
  if (!order || !canSeeOrder(caller, order)) throw notFound();

  const found = await queues[queue].getJob(jobId);
  if (!found) {
    const status = await statusWithoutJob(jobId, name, queue, payload);
    if (!status) throw notFound();
    return status;
  }
  const state = await found.getState();
  // Read again after its state: a job that finished between the two reads would otherwise be
  // `completed` with the result it did not have yet (a state only moves forward).
  const job = state === 'completed' ? ((await queues[queue].getJob(jobId)) ?? found) : found;
  return toJobStatus(jobId, job, name, queue, state);
}

async function toJobStatus(
  jobId: string,
  job: Job,
  name: OrderJobName,
  queue: keyof Queues,
  /** The job's state, read before `job` (see getJobStatus). */
  read: string,
): Promise<JobStatus> {
  const state = STATES[read] ?? 'unknown';
  return {
    id: jobId,
    queue,
    name,
    state,
    progress: typeof job.progress === 'number' || isRecord(job.progress) ? job.progress : 0,
    attemptsMade: job.attemptsMade,
    ...(state === 'completed' && isRecord(job.returnvalue) ? { result: job.returnvalue } : {}),
    ...(state === 'failed' ? { failedReason: publicFailure(job) } : {}),
    timestamps: {
      createdAt: iso(job.timestamp),
      processedAt: iso(job.processedOn),
      finishedAt: iso(job.finishedOn),
    },
  };
}

/**
 * A job given up before its retries ran out was refused for a reason meant for
 * people (a failed delivery is not invoiced); one that ran out of retries
 * failed on something internal, which is logged, not shown.
 */
function publicFailure(job: Job): string {
  const attempts = job.opts.attempts ?? 1;
  if (job.attemptsMade < attempts && job.failedReason) return job.failedReason;
  return 'the job ran out of retries; owed work is sent again by the reconciler';
}

/**
 * A job Redis no longer holds: removed after it finished (kept 24 h), or lost
 * with Redis. Owed work is still to be done (the reconciler sends it again);
 * an invoice job whose invoice exists is done. Anything else is unknown.
 */
async function statusWithoutJob(
  jobId: string,
  name: OrderJobName,
  queue: keyof Queues,
  payload: { orderId: string; deliveryId?: string },
): Promise<JobStatus | undefined> {
  const base = { id: jobId, queue, name, progress: 0, attemptsMade: 0 };
  const owed = await OwedJob.findById(jobId, { createdAt: 1 }).lean<{ createdAt?: Date }>();
  if (owed) {
    return { ...base, state: 'waiting', timestamps: { createdAt: owed.createdAt?.toISOString() } };
  }
  if (name === 'create-invoice' && payload.deliveryId) {
    const invoice = await Invoice.findOne({
      deliveryId: payload.deliveryId,
      orderId: payload.orderId,
    }).lean<InvoiceDoc>();
    if (invoice) {
      return {
        ...base,
        state: 'completed',
        result: { invoiceId: invoice._id.toHexString(), invoiceNumber: invoice.invoiceNumber },
        timestamps: { finishedAt: new Date(invoice.issuedAt).toISOString() },
      };
    }
  }
  return undefined;
}
