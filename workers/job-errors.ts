import { UnrecoverableError } from 'bullmq';
import { ZodError } from 'zod';
import { AppError } from '../src/lib/errors.js';

export type JobErrorVerdict = 'retry' | 'give-up';

/**
 * Retry or give up, decided once for every job. A retry is right whenever the
 * same step may succeed later: a busy lock or a race (AppErrors marked
 * retryable), a database or Redis that is unreachable (503, driver and
 * connection errors), a change that has not landed yet, and anything
 * unexpected. Giving up is right only when a retry must fail the same way: an
 * invalid payload, or something gone for good (a 4xx refusal of the request
 * itself: no such delivery, a failed delivery is not invoiced).
 */
export function classifyJobError(error: unknown): JobErrorVerdict {
  if (error instanceof UnrecoverableError || error instanceof ZodError) return 'give-up';
  if (error instanceof AppError) {
    if (error.retryable || error.status === 429 || error.status >= 500) return 'retry';
    return 'give-up';
  }
  return 'retry';
}
