import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, ErrorHandler, MiddlewareHandler, TypedResponse } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ServerResponse } from 'node:http';
import mongoose from 'mongoose';
import { AppError, formatPath, toProblem, type ErrorCode } from './errors.js';
import type { Logger } from './logger.js';
import { matching } from './openapi.js';
import { isDatabaseUnavailable, isDuplicateKeyError } from './mongo.js';
import { unauthorized, type Authenticator, type Principal, type Role } from './tokens.js';

export interface AppEnv {
  /** What @hono/node-server hands every request; absent under `app.request()` (tests). */
  Bindings: { outgoing?: ServerResponse };
  Variables: {
    requestId: string;
    /** The process's logger; `requestLog(c)` gives the request's own. */
    baseLog: Logger;
    /** Made by `requestLog` on first use. */
    log?: Logger;
    principal: Principal;
  };
}

/**
 * A router whose validation failures become problem details. Every feature
 * builds its routes on this so request schemas and the OpenAPI document are
 * the same zod objects.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      const prefix = result.target === 'json' ? [] : [result.target];
      const errors = result.error.issues.map((issue) => ({
        path: formatPath([...prefix, ...issue.path]),
        message: issue.message,
      }));
      throw new AppError('validation', 'The request has invalid fields; see `errors`.', { errors });
    },
  });
}

/**
 * The request's logger (its id on every line), made on first use: a child logger
 * per request was 2% of the API's CPU under cached reads, and most requests log
 * nothing but their access line, which the base logger writes with the id.
 */
export function requestLog(c: Context<AppEnv>): Logger {
  let log = c.get('log');
  if (!log) {
    log = c.get('baseLog').child({ requestId: c.get('requestId') });
    c.set('log', log);
  }
  return log;
}

/**
 * Sets headers every response of this request carries, before the handler: on
 * Node's response where the app is served by @hono/node-server, else (`app.request()`
 * in tests) through Hono. Headers the handler or an error answer sets win either
 * way (Node merges `setHeader` into `writeHead`, theirs first).
 *
 * Why not `c.header`: each Hono header is a WHATWG `Headers.set`, validated by
 * undici's WebIDL conversions, and a header set after the handler turns the
 * adapter's light response into a full one. Hono's `secureHeaders` (11 of them,
 * after the handler) and the rate limit's three: 100 concurrent cached reads made
 * about 11,000 req/s with Hono's security headers, 13,300 without them (bench).
 */
export function setResponseHeaders(c: Context<AppEnv>, headers: ReadonlyArray<readonly [string, string]>): void {
  const outgoing = c.env?.outgoing;
  if (outgoing && !outgoing.headersSent) for (const [name, value] of headers) outgoing.setHeader(name, value);
  else for (const [name, value] of headers) c.header(name, value);
}

/** Text that is `JSON.stringify` of a `T` (a cached response body, say). */
export type JsonText<T> = string & { readonly jsonOf?: T };

const JSON_TYPE = { 'Content-Type': 'application/json' };

/** Answers JSON text as it is, typed as `c.json` of the value it was made from would be. */
export function jsonText<T>(c: Context<AppEnv>, text: JsonText<T>): TypedResponse<T, 200, 'json'> {
  return c.body(text, 200, JSON_TYPE) as unknown as TypedResponse<T, 200, 'json'>;
}

/**
 * Hono's `secureHeaders()` defaults (hono/secure-headers: nosniff, frame only
 * from this origin, no referrer, HSTS, and the rest), set by `setResponseHeaders`.
 */
export const SECURE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Origin-Agent-Cluster', '?1'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=15552000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-DNS-Prefetch-Control', 'off'],
  ['X-Download-Options', 'noopen'],
  ['X-Frame-Options', 'SAMEORIGIN'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  ['X-XSS-Protection', '0'],
];

export function secureResponseHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    setResponseHeaders(c, SECURE_HEADERS);
    await next();
  };
}

/**
 * Authenticates the Bearer token, session check included (a revoked token, or
 * one whose user is gone or has another role now, gets 401).
 */
export function requireAuth(sessions: Authenticator): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // Routers guard both `/x` and `/x/*`, and Hono runs both for `/x`: check once.
    if (c.get('principal')) return next();
    const header = c.req.header('authorization');
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match?.[1]) throw unauthorized('a Bearer token is required');
    c.set('principal', await sessions.authenticate(match[1]));
    await next();
  };
}

/** Lets through only callers whose role is listed; ownership is the service's job. */
export function allowRoles(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { role } = c.get('principal');
    if (!roles.includes(role)) {
      throw new AppError('forbidden', `this action needs one of the roles: ${roles.join(', ')}`);
    }
    await next();
  };
}

export const ObjectIdSchema = z
  .string()
  .apply(matching(/^[0-9a-fA-F]{24}$/, 'expected a 24-character hex id'))
  .openapi({ example: '665f1c2e8b3f4a0012345678' });

export const IdParamsSchema = z.object({ id: ObjectIdSchema.openapi({ param: { name: 'id', in: 'path' } }) });

const PROBLEM_TYPE = 'application/problem+json';

export function problemResponse(c: Context, error: AppError): Response {
  for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
  return c.body(JSON.stringify(toProblem(error, c.req.path)), error.status as 400, { 'Content-Type': PROBLEM_TYPE });
}

const HTTP_EXCEPTION_CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/** Turns anything thrown into an AppError; unknown errors become a bare 500. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof HTTPException) {
    const code = HTTP_EXCEPTION_CODES[error.status];
    if (code) return new AppError(code, error.message || 'request refused', { cause: error });
  }
  if (isDatabaseUnavailable(error)) {
    return new AppError('unavailable', 'the database is unreachable; try again shortly', {
      headers: { 'Retry-After': '5' },
      cause: error,
    });
  }
  if (isRedisUnavailable(error)) {
    return new AppError('unavailable', 'Redis is unreachable; try again shortly', {
      headers: { 'Retry-After': '5' },
      cause: error,
    });
  }
  // Defensive: schemas should stop these before the database sees them.
  if (error instanceof mongoose.Error.CastError) {
    return new AppError('validation', `invalid value for ${error.path}`, { cause: error });
  }
  if (isDuplicateKeyError(error)) {
    return new AppError('conflict', 'a record with the same unique value already exists', { cause: error });
  }
  return new AppError('internal', 'An unexpected error occurred.', { cause: error });
}

function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /enableOfflineQueue options is false|Connection is closed|ECONNREFUSED .*:\d+$/.test(error.message)
  );
}

export const handleError: ErrorHandler<AppEnv> = (error, c) => {
  const appError = toAppError(error);
  const log = c.get('baseLog') && requestLog(c);
  if (appError.status === 500) {
    // The real cause stays in the log; the client gets the generic detail only.
    log?.error({ err: error, status: appError.status }, 'request failed');
  } else if (appError.status >= 500) {
    // Expected while a dependency is away (and during start-up for /readyz): no stack, not an error.
    const level = c.req.path === '/readyz' ? 'info' : 'warn';
    log?.[level]({ status: appError.status, detail: appError.message }, 'request answered unavailable');
  }
  return problemResponse(c, appError);
};
