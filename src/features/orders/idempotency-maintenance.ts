import { IdempotencyRecord } from './idempotency.model.js';

/** Deletes keys older than the retention; FerretDB has no TTL indexes, so a job does it. */
export async function purgeExpiredIdempotencyKeys(ttlHours: number, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - ttlHours * 3600 * 1000);
  const result = await IdempotencyRecord.deleteMany({ createdAt: { $lt: cutoff } });
  return result.deletedCount;
}
