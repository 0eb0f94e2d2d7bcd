import { createHash } from 'node:crypto';
import mongoose, { Types, type Model } from 'mongoose';
import type { Config } from '../env.js';
import type { Logger } from './logger.js';
import { retryUntilDone, withTimeout } from './async.js';

/**
 * Commands fail fast instead of queueing while the database is away: a request
 * then gets a 503 within the server-selection timeout rather than hanging, and
 * nothing is half-written behind the caller's back.
 */
mongoose.set('bufferCommands', false);
mongoose.set('strictQuery', true);
// Indexes are built by `ensureIndexes` at start-up, where a failure is visible.
mongoose.set('autoIndex', false);

/**
 * Connects, retrying with capped exponential backoff until it succeeds or
 * `signal` aborts. Once connected the driver itself reconnects after outages,
 * so a database that comes back later is picked up without a restart.
 */
export async function connectMongo(config: Config, log: Logger, signal?: AbortSignal): Promise<void> {
  await retryUntilDone(
    async () => {
      await mongoose.connect(config.MONGODB_URI, {
        serverSelectionTimeoutMS: config.MONGO_SERVER_SELECTION_TIMEOUT_MS,
        heartbeatFrequencyMS: 2_000,
        maxPoolSize: 50,
      });
    },
    (error, retryInMs) => log.warn({ err: error.message, retryInMs }, 'MongoDB not reachable yet'),
    signal,
  );
  const info = await mongoose.connection.db!.admin().command({ buildInfo: 1 });
  ferretDB = 'ferretdbVersion' in info;
  log.info({ server: ferretDB ? 'FerretDB' : 'MongoDB', version: info.version }, 'connected to MongoDB');
}

let ferretDB = false;

/**
 * The filter for a write to one document made under that document's lock (or,
 * for a single-field write nobody else makes, such as an acknowledgement)
 * (lib/locks.ts), after reading it and checking `conditions` on what was read.
 * On MongoDB the conditions ride along, so the write stays atomic even if the
 * lock expired mid-way. FerretDB 1.24 evaluates them non-atomically anyway,
 * and turns a filter into SQL only when it is exactly `{_id}`: anything more
 * scans the whole collection (see the README). There the lock alone makes the
 * write safe, so the filter is `{_id}`.
 */
export function lockedWriteFilter(id: unknown, conditions: Record<string, unknown>): Record<string, unknown> {
  return ferretDB ? { _id: id } : { _id: id, ...conditions };
}

/**
 * An ObjectId that follows from `text` (a SHA-256 of it): for documents whose
 * identity is a natural key (a customer's idempotency key, a notification's
 * dedupe key), so a repeat collides on `_id` and is found by `_id`, the only
 * look-up FerretDB serves from an index.
 */
export function objectIdFrom(text: string): Types.ObjectId {
  return new Types.ObjectId(createHash('sha256').update(text).digest('hex').slice(0, 24));
}

export async function disconnectMongo(): Promise<void> {
  await mongoose.disconnect();
}

export async function pingMongo(timeoutMs = 1_500): Promise<void> {
  const db = mongoose.connection.db;
  if (mongoose.connection.readyState !== 1 || !db) throw new Error('not connected');
  await withTimeout(db.admin().command({ ping: 1 }), timeoutMs, 'ping timed out');
}

/**
 * Builds every registered model's indexes; safe to run on every start.
 *
 * On FerretDB only the unique ones: it answers every filter but an exact
 * `{_id}` by decoding the whole collection, so a secondary index serves no
 * query there, while SQLite maintains it on every insert and on every update
 * (which rewrites the whole document). A unique index still enforces its rule.
 * Non-unique indexes an earlier start built are dropped.
 */
export async function ensureIndexes(): Promise<void> {
  for (const model of Object.values(mongoose.models)) {
    if (!ferretDB) {
      await model.createIndexes();
      continue;
    }
    for (const [fields, options] of model.schema.indexes()) {
      if (options?.unique)
        await model.collection.createIndex(fields as Record<string, 1 | -1>, { ...options, unique: true });
    }
    const existing = await model.collection.indexes().catch(() => []);
    for (const index of existing) {
      if (index.name && index.name !== '_id_' && !index.unique) await model.collection.dropIndex(index.name);
    }
  }
}

const UNAVAILABLE_ERROR_NAMES = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
]);

/** True when `error` means "the database cannot be reached", not "the request is wrong". */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (UNAVAILABLE_ERROR_NAMES.has(error.name)) return true;
  // FerretDB on SQLite under write load: the same command succeeds a moment later (503, retried).
  if (error.message.includes('SQLITE_BUSY')) return true;
  // Before the first connection mongoose refuses commands with a plain MongooseError.
  return error.name === 'MongooseError' && mongoose.connection.readyState !== 1;
}

/**
 * Inserts documents the caller built whole (every field the model's type
 * requires, timestamps included), in one unordered insert, without mongoose
 * casting, validating and hydrating each one: on the order path that was a
 * large share of the API's and worker's CPU. Types stand in for validation,
 * so only for documents built by code, never straight from a request. A
 * duplicate `_id` throws as `insertMany` does, after the others are stored.
 */
export async function insertBuilt<T>(model: Model<T>, docs: readonly T[]): Promise<void> {
  if (docs.length) await model.insertMany(docs as T[], { ordered: false, lean: true });
}

export function isDuplicateKeyError(error: unknown): error is Error & { keyPattern?: Record<string, unknown> } {
  return error instanceof Error && (error as { code?: unknown }).code === 11000;
}

/** Statements per write command: FerretDB 1.24 hangs on one with 100 or more (each holds one of its 100 SQLite connections). */
export const MAX_WRITE_STATEMENTS = 90;

/**
 * The documents an unordered insert refused as duplicates, by their index in
 * the insert; rethrows anything else (an insert that failed for another reason).
 */
export function duplicateIndexes(error: unknown): number[] {
  const refused = (error as { writeErrors?: Array<{ index: number; code?: number }> }).writeErrors;
  if (!isDuplicateKeyError(error) || !refused?.every((w) => w.code === 11000)) throw error;
  return refused.map((w) => w.index);
}
