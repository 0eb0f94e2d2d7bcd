import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';
import { withTimeout } from './async.js';

/**
 * Two kinds of connection, because BullMQ and request handling want opposite
 * things from a Redis that is down:
 * - `command`: for caches, locks and rate limits on the request path. Fails at
 *   once while disconnected (no offline queue), so a request falls back to
 *   MongoDB or answers 503 instead of waiting.
 * - `blocking`: for BullMQ workers and queue producers. `maxRetriesPerRequest:
 *   null` is what BullMQ requires; commands wait for the reconnect.
 */
export type RedisRole = 'command' | 'blocking';

const reconnect: RedisOptions['retryStrategy'] = (times) => Math.min(times * 200, 2_000);

export function createRedis(url: string, role: RedisRole, log: Logger, name: string = role): Redis {
  const options: RedisOptions =
    role === 'command'
      ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, retryStrategy: reconnect }
      : { maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: reconnect };
  const client = new Redis(url, { ...options, connectionName: `orders:${name}`, lazyConnect: false });
  let down = false;
  // ioredis emits `error` on every failed reconnect; an unhandled one would crash
  // the process, and logging each would flood the log during an outage.
  client.on('error', (error) => {
    if (!down) log.warn({ redis: name, err: error.message }, 'Redis connection lost; reconnecting');
    down = true;
  });
  client.on('ready', () => {
    if (down) log.info({ redis: name }, 'Redis connection restored');
    down = false;
  });
  return client;
}

export async function pingRedis(client: Redis, timeoutMs = 1_000): Promise<void> {
  if (client.status !== 'ready') throw new Error(`connection is ${client.status}`);
  await withTimeout(client.ping(), timeoutMs, 'ping timed out');
}

export async function closeRedis(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/** A Lua script registered as a command, called as `(numKeys, ...keys, ...args)`. */
export type LuaCommand = (numKeys: number, ...args: Array<string | number>) => Promise<number>;

/**
 * `redis` with `name` defined as a command running `lua` (once per client;
 * ioredis sends EVALSHA and falls back to EVAL after a script flush).
 */
export function withLuaCommand<Name extends string>(
  redis: Redis,
  name: Name,
  lua: string,
): Redis & Record<Name, LuaCommand> {
  const client = redis as Redis & Record<Name, LuaCommand>;
  if (typeof client[name] !== 'function') redis.defineCommand(name, { lua });
  return client;
}
