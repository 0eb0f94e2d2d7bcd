import { z } from '@hono/zod-openapi';
import { AppError, ERROR_CODES, toProblem, type ErrorCode, type FieldError, type ProblemDocument } from './errors.js';

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: '/problems/validation' }),
    title: z.string().openapi({ example: 'Invalid request' }),
    status: z.number().int().openapi({ example: 400 }),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

const STATUS_TEXT = Object.fromEntries(Object.values(ERROR_CODES).map(({ status, title }) => [status, title]));

/** What `toProblem` really answers for each status, with a detail the API really gives. */
const PROBLEM_EXAMPLES: Record<number, { code: ErrorCode; detail: string; errors?: FieldError[] }> = {
  400: {
    code: 'validation',
    detail: 'The request has invalid fields; see `errors`.',
    errors: [{ path: 'items.0.quantity', message: 'expected a whole number' }],
  },
  401: { code: 'unauthorized', detail: 'a Bearer token is required' },
  403: { code: 'forbidden', detail: 'this action needs one of the roles: admin' },
  404: { code: 'not_found', detail: 'order 665f1c2e8b3f4a0012345678 does not exist' },
  409: { code: 'conflict', detail: 'nothing remains to be delivered' },
  413: { code: 'payload_too_large', detail: 'request bodies are limited to 102400 bytes' },
  415: { code: 'unsupported_media_type', detail: 'Unsupported Media Type' },
  422: { code: 'unprocessable', detail: 'this Idempotency-Key was already used with a different request body' },
  429: { code: 'rate_limited', detail: 'too many requests; retry in 12 s' },
  503: { code: 'unavailable', detail: 'the database is unreachable; try again shortly' },
};

/** The example problem document for a status (a bare status and title for one not in the table). */
export function problemExample(status: number): ProblemDocument {
  const example = PROBLEM_EXAMPLES[status];
  if (!example) return { type: 'about:blank', title: STATUS_TEXT[status] ?? 'Error', status, detail: '' };
  const { code, detail, errors } = example;
  return toProblem(new AppError(code, detail, errors ? { errors } : {}));
}

const seconds = (description: string) => ({ description, schema: { type: 'integer' as const, minimum: 0 } });

/** 429 and 503 say when to come back; 429 also says which limit was hit. */
const PROBLEM_HEADERS: Record<number, Record<string, ReturnType<typeof seconds>>> = {
  429: {
    'Retry-After': seconds('Seconds until the limit lets this caller through again'),
    'RateLimit-Limit': seconds('Requests allowed per minute by the limit that was hit'),
    'RateLimit-Remaining': seconds('Requests left in the current window (0)'),
    'RateLimit-Reset': seconds('Seconds until the window resets'),
  },
  503: { 'Retry-After': seconds('Seconds after which the dependency is worth trying again') },
};

/**
 * The error responses a route can give, each an RFC 9457 problem document with an
 * example of its own status. 429 is always among them: every `/api` request is
 * rate-limited per IP (logins, registrations and orders more tightly).
 */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    [...new Set([...statuses, 429])]
      .sort((a, b) => a - b)
      .map((status) => [
        status,
        {
          description: STATUS_TEXT[status] ?? 'Error',
          ...(PROBLEM_HEADERS[status] ? { headers: PROBLEM_HEADERS[status] } : {}),
          content: { 'application/problem+json': { schema: ProblemSchema, example: problemExample(status) } },
        },
      ]),
  );
}

/**
 * `schema.regex(regex, message)`, documented with a pattern that works. zod-to-openapi
 * writes `regex.toString()` without its slashes, so a flag stays behind (`^[^\p{Cc}]*$/u`)
 * and the documented pattern matches nothing. A JSON Schema pattern is the bare source,
 * read as an ECMA-262 regex with `u` implied; no other flag can be expressed, so one is refused.
 */
export function matching(regex: RegExp, message?: string) {
  if (regex.flags.replace('u', '') !== '') {
    throw new Error(`a documented pattern cannot carry the flags "${regex.flags}": ${regex.source}`);
  }
  return <T extends z.ZodString>(schema: T): T => schema.regex(regex, message).openapi({ pattern: regex.source });
}

export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } };
}

export const bearerAuth = [{ bearerAuth: [] }];

export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      data: z.array(item),
      page: z.number().int(),
      limit: z.number().int(),
      total: z.number().int(),
      totalPages: z.number().int(),
    })
    .openapi(name);
}

export const PageQuerySchema = {
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
};
