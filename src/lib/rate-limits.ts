import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import type { Config } from '../env.js';
import { AppError } from './errors.js';
import { setResponseHeaders, type AppEnv } from './http.js';
import type { Logger } from './logger.js';
import { withLuaCommand, type LuaCommand } from './redis.js';

/**
 * Request limits kept in Redis, so they hold across every API instance. When
 * Redis is down they let requests through (and log it): a rate limiter must not
 * turn a cache outage into an API outage.
 */

const WINDOW_S = 60;

export interface RateLimits {
  general: MiddlewareHandler<AppEnv>;
  authByIp: MiddlewareHandler<AppEnv>;
  loginByEmail: MiddlewareHandler<AppEnv>;
  ordersByCustomer: MiddlewareHandler<AppEnv>;
}

/** The caller's address as the socket sees it (put the API behind a proxy that sets it right). */
export function clientIp(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Fixed windows of WINDOW_S per key, counted in Redis (INCRBY; the first
 * request of a window sets its expiry), as rate-limiter-flexible's
 * RateLimiterRedis counted them before this replaced it: that made one Lua
 * call per request, which under 100 concurrent cached reads from one address
 * was a fifth of the API's time (bench). Here the requests that arrive for one
 * key in one turn of the event loop share one call: INCRBY their number, and
 * each takes its own place in the count the call answers. So every request
 * is counted exactly as if it had called alone (a limit of N lets N through
 * per window across every instance); only the round trips are shared.
 */
class WindowCounts {
  private waiting = new Map<string, Array<{ resolve: (count: Count) => void; reject: (error: Error) => void }>>();

  constructor(
    private readonly redis: Redis,
    private readonly windowMs: number,
  ) {}

  /** This request's place in its key's window, and how long the window has left. */
  count(key: string): Promise<Count> {
    return new Promise((resolve, reject) => {
      if (!this.waiting.size) setImmediate(() => void this.flush());
      const queue = this.waiting.get(key) ?? [];
      queue.push({ resolve, reject });
      this.waiting.set(key, queue);
    });
  }

  private async flush(): Promise<void> {
    const batch = [...this.waiting];
    this.waiting = new Map();
    let replies: Array<[Error | null, unknown]>;
    try {
      const client = withLuaCommand(this.redis, 'countInWindow', COUNT_IN_WINDOW);
      const pipeline = client.pipeline() as ReturnType<Redis['pipeline']> & Record<'countInWindow', LuaCommand>;
      for (const [key, queue] of batch) pipeline.countInWindow(1, key, queue.length, this.windowMs);
      replies = (await pipeline.exec()) ?? [];
    } catch (error) {
      // Every waiter hears it (and lets its request through): nothing here may reject unheard.
      replies = batch.map(() => [error as Error, null]);
    }
    batch.forEach(([, queue], i) => {
      const [error, reply] = replies[i] ?? [new Error('no reply from Redis'), null];
      if (error || !Array.isArray(reply)) {
        return queue.forEach((waiter) => waiter.reject(error ?? new Error('unexpected reply from Redis')));
      }
      const [total, msLeft] = reply as [number, number];
      const first = total - queue.length;
      queue.forEach((waiter, place) => waiter.resolve({ count: first + place + 1, msLeft }));
    });
  }
}

interface Count {
  /** This request's number in the window, 1 for the first. */
  count: number;
  msLeft: number;
}

// KEYS[1] = the key's counter; ARGV[1] = requests to count, ARGV[2] = window in ms.
// A counter without an expiry (new, or left by an interrupted call) starts the window.
const COUNT_IN_WINDOW = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
return {total, left}`;

export function createRateLimits(redis: Redis, config: Config, log: Logger): RateLimits {
  const counts = new WindowCounts(redis, WINDOW_S * 1000);

  const middleware = (
    name: string,
    points: number,
    keyOf: (c: Context<AppEnv>) => Promise<string | undefined> | string | undefined,
  ) => {
    const prefix = `${config.QUEUE_PREFIX}:rl:${name}:`;
    const handler: MiddlewareHandler<AppEnv> = async (c, next) => {
      const key = await keyOf(c);
      if (key === undefined) return next();
      let counted: Count;
      try {
        counted = await counts.count(prefix + key);
      } catch (error) {
        log.warn(
          { limiter: name, err: (error as Error).message },
          'rate limiter unavailable; letting the request through',
        );
        return next();
      }
      const reset = String(Math.max(1, Math.ceil(counted.msLeft / 1000)));
      if (counted.count > points) {
        throw new AppError('rate_limited', `too many requests; retry in ${reset} s`, {
          headers: {
            'Retry-After': reset,
            'RateLimit-Limit': String(points),
            'RateLimit-Remaining': '0',
            'RateLimit-Reset': reset,
          },
        });
      }
      setResponseHeaders(c, [
        ['RateLimit-Limit', String(points)],
        ['RateLimit-Remaining', String(points - counted.count)],
        ['RateLimit-Reset', reset],
      ]);
      return next();
    };
    return handler;
  };

  return {
    general: middleware('ip', config.RATE_LIMIT_PER_IP_PER_MINUTE, clientIp),
    authByIp: middleware('auth-ip', config.RATE_LIMIT_AUTH_PER_MINUTE, clientIp),
    // JSON (the API) or a form (the operations sign-in page); Hono keeps the parsed body for the handler.
    loginByEmail: middleware('login-email', config.RATE_LIMIT_AUTH_PER_MINUTE, async (c) => {
      const form = c.req.header('content-type')?.includes('application/x-www-form-urlencoded');
      const body = (await (form ? c.req.parseBody() : c.req.json()).catch(() => undefined)) as
        { email?: unknown } | undefined;
      return typeof body?.email === 'string' ? body.email.trim().toLowerCase() : undefined;
    }),
    ordersByCustomer: middleware('orders', config.RATE_LIMIT_ORDERS_PER_MINUTE, (c) => c.get('principal')?.id),
  };
}
