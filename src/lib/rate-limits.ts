import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../env.js';
import { AppError } from './errors.js';
import type { AppEnv } from './http.js';
import type { Logger } from './logger.js';

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

export function createRateLimits(redis: Redis, config: Config, log: Logger): RateLimits {
  const limiter = (name: string, points: number) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${config.QUEUE_PREFIX}:rl:${name}`,
      points,
      duration: WINDOW_S,
    });

  const middleware = (
    name: string,
    points: number,
    keyOf: (c: Context<AppEnv>) => Promise<string | undefined> | string | undefined,
  ) => {
    const store = limiter(name, points);
    const handler: MiddlewareHandler<AppEnv> = async (c, next) => {
      const key = await keyOf(c);
      if (key === undefined) return next();
      let result: RateLimiterRes;
      try {
        result = await store.consume(key);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
          throw new AppError('rate_limited', `too many requests; retry in ${retryAfter} s`, {
            headers: {
              'Retry-After': String(retryAfter),
              'RateLimit-Limit': String(points),
              'RateLimit-Remaining': '0',
              'RateLimit-Reset': String(retryAfter),
            },
          });
        }
        log.warn(
          { limiter: name, err: (rejection as Error).message },
          'rate limiter unavailable; letting the request through',
        );
        return next();
      }
      c.header('RateLimit-Limit', String(points));
      c.header('RateLimit-Remaining', String(result.remainingPoints));
      c.header('RateLimit-Reset', String(Math.ceil(result.msBeforeNext / 1000)));
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
