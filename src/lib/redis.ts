import type { Socket } from 'node:net';
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

/**
 * `coalesceWrites`: the commands sent in one turn of the event loop leave the
 * connection in one system call. Each ioredis command is a socket write of its
 * own, and under 100 concurrent cached reads (a rate limit, a session and the
 * order: three commands per request) those writes were a third of the API's
 * CPU (bench profile). The socket is corked at the first command of a turn
 * and uncorked by `setImmediate`, the deferral ioredis' own autopipelining
 * uses. Written here rather than turning that on because autopipelining
 * re-routes every command through a shared pipeline, whose rejections on a
 * closing connection went unhandled in our tests; a corked socket leaves each
 * command, its reply and its errors exactly as they were.
 */
function coalesceWrites(client: Redis): void {
  client.on('connect', () => {
    const stream = (client as unknown as { stream: Socket }).stream;
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    let corked = false;
    const uncork = () => {
      corked = false;
      stream.uncork();
    };
    stream.write = ((...args: unknown[]) => {
      if (!corked) {
        corked = true;
        stream.cork();
        setImmediate(uncork);
      }
      return write(...args);
    }) as Socket['write'];
  });
}

export function createRedis(
  url: string,
  role: RedisRole,
  log: Logger,
  name: string = role,
  options: { coalesceWrites?: boolean } = {},
): Redis {
  const settings: RedisOptions =
    role === 'command'
      ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, retryStrategy: reconnect }
      : { maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: reconnect };
  const client = new Redis(url, { ...settings, connectionName: `orders:${name}`, lazyConnect: false });
  if (options.coalesceWrites) coalesceWrites(client);
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
