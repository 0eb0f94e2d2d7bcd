import { Queue, type DefaultJobOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.js';

/**
 * Every queue the system has, one per concern. The worker starts one BullMQ
 * Worker per entry and Bull Board lists exactly these, so a queue cannot exist
 * without being processed and watched.
 */
export const QUEUE_NAMES = ['inventory', 'invoices', 'cache', 'notifications', 'maintenance', 'email'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/**
 * Retry delays double from 1 s but stop at 10 s, with jitter: the usual reason
 * to retry is a busy lock or a short outage, and BullMQ's plain exponential
 * backoff would leave a job waiting 64 s, then 128 s, behind a lock that was
 * free long before. The worker runtime implements the `capped` type.
 */
export const BACKOFF = { type: 'capped', delay: 1_000, maxDelay: 10_000 } as const;

export function cappedBackoff(attemptsMade: number): number {
  const delay = Math.min(BACKOFF.delay * 2 ** Math.max(attemptsMade - 1, 0), BACKOFF.maxDelay);
  return Math.round(delay * (0.75 + Math.random() * 0.5));
}

/** Retries with backoff; finished jobs stay visible in Bull Board for a while. */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 8,
  backoff: { type: BACKOFF.type, delay: BACKOFF.delay },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export type Queues = Record<QueueName, Queue>;

export function createQueues(connection: Redis, prefix: string, log: Logger): Queues {
  return Object.fromEntries(
    QUEUE_NAMES.map((name) => {
      const queue = new Queue(name, { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
      // Without a listener BullMQ prints every reconnect failure; the connection already logs the outage once.
      queue.on('error', (error) => log.debug({ queue: name, err: error.message }, 'queue error'));
      return [name, queue];
    }),
  ) as Queues;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((queue) => queue.close()));
}
