import type { Redis } from 'ioredis';

/**
 * Read-through caching of documents by id: one MGET for all, the database for
 * what is missing, one pipelined SET (with a TTL) of what it found. Redis is a
 * convenience here: while it is down every read goes to the database.
 */
export async function readThrough<T>(
  redis: Redis,
  keys: readonly string[],
  ttlSeconds: number,
  load: (indexes: number[]) => Promise<Array<T | null>>,
  codec: { encode(value: T): string; decode(text: string): T },
): Promise<Array<T | null>> {
  const cached: Array<string | null> = await redis.mget(...keys).catch(() => keys.map(() => null));
  const values: Array<T | null> = cached.map((text) => (text === null ? null : codec.decode(text)));
  const missing = keys.flatMap((_, i) => (cached[i] === null ? [i] : []));
  if (!missing.length) return values;
  const loaded = await load(missing);
  const fill = redis.pipeline();
  missing.forEach((index, j) => {
    values[index] = loaded[j] ?? null;
    if (loaded[j]) fill.set(keys[index]!, codec.encode(loaded[j]), 'EX', ttlSeconds);
  });
  await fill.exec().catch(() => undefined);
  return values;
}

/** Drops cached entries after their documents changed; best effort (their TTL bounds a miss). */
export async function forget(redis: Redis, keys: readonly string[]): Promise<void> {
  if (keys.length) await redis.del(...keys).catch(() => undefined);
}
