/**
 * One error type for everything the services refuse, and one table that maps it to
 * HTTP. Services throw `AppError(code, detail)` and know nothing else of HTTP.
 */

export const ERROR_CODES = {
  validation: { status: 400, title: 'Invalid request' },
  bad_request: { status: 400, title: 'Bad request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  conflict: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  unprocessable: { status: 422, title: 'Unprocessable request' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldError {
  path: string;
  message: string;
}

export interface AppErrorOptions {
  errors?: FieldError[];
  /** Extra members for the problem document, e.g. `currentStatus`. */
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
  cause?: unknown;
  /**
   * The same request may succeed shortly (a busy lock, a race that resolves):
   * a job retries it instead of giving up. Never shown to clients.
   */
  retryable?: boolean;
}

export class AppError extends Error {
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[] | undefined;
  readonly extra: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly retryable: boolean;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    options: AppErrorOptions = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'AppError';
    this.status = ERROR_CODES[code].status;
    this.title = ERROR_CODES[code].title;
    this.errors = options.errors;
    this.extra = options.extra;
    this.headers = options.headers;
    this.retryable = options.retryable ?? false;
  }
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  [member: string]: unknown;
}

export function toProblem(error: AppError, instance?: string): ProblemDocument {
  return {
    type: `/problems/${error.code.replaceAll('_', '-')}`,
    title: error.title,
    status: error.status,
    detail: error.detail,
    ...(instance ? { instance } : {}),
    ...(error.errors ? { errors: error.errors } : {}),
    ...error.extra,
  };
}

/** Joins a zod-style path into the dotted form clients see in `errors[].path`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map(String).join('.') || '(root)';
}
