import { Schema, model, type Types } from 'mongoose';
import { objectIdFrom } from '../../lib/mongo.js';

/**
 * One record per (customer, Idempotency-Key). Created before any order is
 * written, so a concurrent duplicate collides on the unique index; holds the
 * planned orders while processing, so a retry after a crash can finish the
 * same checkout instead of starting another; holds the response once done.
 */
const idempotencySchema = new Schema(
  {
    customerId: { type: Schema.Types.ObjectId, required: true },
    key: { type: String, required: true },
    requestHash: { type: String, required: true },
    status: { type: String, enum: ['processing', 'done'], required: true },
    lockedUntil: { type: Date, required: true },
    plan: { type: [Schema.Types.Mixed], default: undefined },
    response: { type: Schema.Types.Mixed },
  },
  { timestamps: true, versionKey: false, minimize: false },
);

// The idempotency guarantee itself: one record per customer and key.
idempotencySchema.index({ customerId: 1, key: 1 }, { unique: true });
// Serves the maintenance purge of records past IDEMPOTENCY_TTL_HOURS (no TTL indexes on FerretDB).
idempotencySchema.index({ createdAt: 1 });

export interface IdempotencyDoc {
  _id: Types.ObjectId;
  customerId: Types.ObjectId;
  key: string;
  requestHash: string;
  status: 'processing' | 'done';
  lockedUntil: Date;
  plan?: Array<Record<string, unknown>>;
  response?: { status: number; body: unknown };
  createdAt: Date;
}

export const IdempotencyRecord = model<IdempotencyDoc>('IdempotencyRecord', idempotencySchema);

/**
 * A record's `_id` follows from its customer and key, so every look-up of a
 * key is by `_id`: FerretDB answers `{customerId, key}` by decoding the whole
 * collection (measured: 189 ms at 1,000 records, 739 ms at 2,000, on every
 * retried request). Records from before this have random ids and are found by
 * customer and key.
 */
export const idempotencyRecordId = (customerId: string, key: string) => objectIdFrom(`${customerId}|${key}`);
