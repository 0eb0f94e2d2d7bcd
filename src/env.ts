import { existsSync } from 'node:fs';
import { ConnectionString } from 'mongodb-connection-string-url';
import { z } from 'zod';

/**
 * The one place that reads the environment. Every default serves the embedded
 * mode (`npm start` on a developer machine); production must say what it means.
 */

const DEV_JWT_SECRET = 'dev-only-jwt-secret-do-not-use-in-production';
const DEV_ADMIN_PASSWORD = 'admin-change-me';

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'expected a port number (0-65535)' })
    .int('expected a port number (0-65535)')
    .min(0, 'expected a port number (0-65535)')
    .max(65535, 'expected a port number (0-65535)')
    .default(fallback);

const positiveInt = (fallback: number, what: string) =>
  z.coerce
    .number({ error: `expected ${what}` })
    .int(`expected ${what}`)
    .positive(`expected ${what}`)
    .default(fallback);

const mongoUri = z.string().superRefine((value, ctx) => {
  try {
    const parsed = new ConnectionString(value);
    if (parsed.pathname === '' || parsed.pathname === '/') {
      ctx.addIssue({
        code: 'custom',
        message: 'expected a database name in the path, e.g. mongodb://host:27017/orders',
      });
    }
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a mongodb:// or mongodb+srv:// URI (${(error as Error).message})`,
    });
  }
});

const redisUrl = z.string().refine((value) => /^rediss?:\/\/[^\s]+$/.test(value) && URL.canParse(value), {
  message: 'expected a redis:// or rediss:// URL',
});

// jose accepts these forms for `exp`; checking them here turns a typo into a start-up error.
const duration = z
  .string()
  .regex(/^\d+\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks)$/i, {
    message: 'expected a duration such as 3600s, 30m, 12h or 7d',
  });

const VariablesSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MONGODB_URI: mongoUri.default('mongodb://127.0.0.1:27017/orders'),
  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
  JWT_SECRET: z.string().min(1, 'expected a non-empty secret').default(DEV_JWT_SECRET),
  JWT_EXPIRES_IN: duration.default('7d'),
  PASSWORD_HASH_COST: z.coerce
    .number({ error: 'expected log2 of the scrypt cost, 10-20' })
    .int('expected log2 of the scrypt cost, 10-20')
    .min(10, 'expected log2 of the scrypt cost, 10-20')
    .max(20, 'expected log2 of the scrypt cost, 10-20')
    .default(17),
  ADMIN_EMAIL: z.email({ error: 'expected an email address' }).default('admin@example.com'),
  ADMIN_PASSWORD: z.string().min(8, 'expected at least 8 characters').optional(),
  CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as INR or USD')
    .default('INR'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,32}$/, 'expected 1-32 letters, digits, ":", "_" or "-"')
    .default('orders'),
  WORKER_CONCURRENCY: positiveInt(10, 'a positive number of jobs run at once per queue'),
  WORKER_BATCH_SIZE: z.coerce
    .number({ error: 'expected a number of jobs from 1 to 90' })
    .int('expected a number of jobs from 1 to 90')
    .min(1, 'expected a number of jobs from 1 to 90')
    .max(90, 'expected a number of jobs from 1 to 90')
    .default(64),
  WORKER_BATCHES_IN_FLIGHT: z.coerce
    .number({ error: 'expected a number of batches from 1 to 4' })
    .int('expected a number of batches from 1 to 4')
    .min(1, 'expected a number of batches from 1 to 4')
    .max(4, 'expected a number of batches from 1 to 4')
    .default(2),
  WORKER_METRICS_PORT: port(0),
  ORDER_LEAD_TIME_DAYS: positiveInt(3, 'a positive number of days'),
  IDEMPOTENCY_TTL_HOURS: z.coerce
    .number({ error: 'expected a number of hours, at least 24' })
    .int('expected a number of hours, at least 24')
    .min(24, 'expected a number of hours, at least 24')
    .default(24),
  RECONCILE_INTERVAL_MS: positiveInt(2_000, 'a positive number of milliseconds'),
  RECONCILE_GRACE_MS: positiveInt(5_000, 'a positive number of milliseconds'),
  RECONCILE_ABANDON_MS: positiveInt(10 * 60 * 1000, 'a positive number of milliseconds'),
  RATE_LIMIT_PER_IP_PER_MINUTE: positiveInt(600, 'a positive number of requests'),
  RATE_LIMIT_AUTH_PER_MINUTE: positiveInt(10, 'a positive number of requests'),
  RATE_LIMIT_ORDERS_PER_MINUTE: positiveInt(60, 'a positive number of requests'),
  BODY_LIMIT_BYTES: positiveInt(100 * 1024, 'a positive number of bytes'),
  SHUTDOWN_TIMEOUT_MS: positiveInt(10_000, 'a positive number of milliseconds'),
  MONGO_SERVER_SELECTION_TIMEOUT_MS: positiveInt(5_000, 'a positive number of milliseconds'),
  SOCKET_EVENTS_PER_SECOND: positiveInt(20, 'a positive number of events per second'),
  SOCKET_EVENTS_BURST: positiveInt(40, 'a positive number of events'),
  SOCKET_FLOOD_DISCONNECT_AFTER: positiveInt(200, 'a positive number of dropped events'),
  METRICS_TOKEN: z.string().min(16, 'expected at least 16 characters').optional(),
  ADMIN_COOKIE_SECURE: z.enum(['auto', 'always', 'never'], { error: 'expected auto, always or never' }).default('auto'),
  TRUST_PROXY: z
    .enum(['true', 'false'], { error: 'expected true or false' })
    .default('false')
    .transform((value) => value === 'true'),
  SMTP_URL: z
    .string()
    .refine((value) => /^smtps?:\/\/[^\s]+$/.test(value) && URL.canParse(value), {
      message: 'expected an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587',
    })
    .optional(),
  MAIL_FROM: z
    .string()
    .regex(/^(?:[^<>\r\n]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/, {
      message: 'expected an address such as orders@example.com or "Shop <orders@example.com>"',
    })
    .default('Order backend <orders@localhost>'),
  PUBLIC_URL: z
    .string()
    .refine((value) => /^https?:\/\/[^\s]+$/.test(value) && URL.canParse(value), {
      message: 'expected an http:// or https:// URL',
    })
    .transform((value) => value.replace(/\/+$/, ''))
    .optional(),
  SELLER_EMAIL_ENABLED: z
    .enum(['true', 'false'], { error: 'expected true or false' })
    .default('true')
    .transform((value) => value === 'true'),
  SELLER_EMAIL_AFTER_SECONDS: z.coerce
    .number({ error: 'expected a number of seconds (0 or more)' })
    .int('expected a number of seconds (0 or more)')
    .min(0, 'expected a number of seconds (0 or more)')
    .default(300),
  SELLER_EMAIL_CHECK_INTERVAL_MS: positiveInt(15_000, 'a positive number of milliseconds'),
});

/** Every variable the system reads; `.env.example` and the README table list each. */
export const CONFIG_VARIABLES = Object.keys(VariablesSchema.shape);

const ConfigSchema = VariablesSchema.superRefine((env, ctx) => {
  if (env.NODE_ENV !== 'production') return;
  if (env.JWT_SECRET === DEV_JWT_SECRET || env.JWT_SECRET.length < 32) {
    ctx.addIssue({
      code: 'custom',
      path: ['JWT_SECRET'],
      message: 'expected a secret of at least 32 characters in production (e.g. `openssl rand -hex 32`)',
    });
  }
}).transform((env) => ({
  ...env,
  // Outside production a newcomer can always sign in as admin with the documented password.
  ADMIN_PASSWORD: env.ADMIN_PASSWORD ?? (env.NODE_ENV === 'production' ? undefined : DEV_ADMIN_PASSWORD),
  // Links in emails point here (the web app under /app/).
  PUBLIC_URL: env.PUBLIC_URL ?? `http://localhost:${env.PORT}`,
}));

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
    this.name = 'ConfigError';
  }
}

/** Parses raw variables; throws ConfigError with one line per bad variable. */
export function parseConfig(raw: Record<string, string | undefined>): Config {
  // An empty variable means "not set", as in most shells' `FOO= cmd`.
  const cleaned = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''));
  const result = ConfigSchema.safeParse(cleaned);
  if (result.success) return result.data;

  const seen = new Set<string>();
  const lines: string[] = [];
  for (const issue of result.error.issues) {
    const name = String(issue.path[0] ?? 'environment');
    if (seen.has(name)) continue;
    seen.add(name);
    const got = cleaned[name];
    const shown =
      got === undefined
        ? 'unset'
        : name.includes('SECRET') || name.includes('PASSWORD') || name === 'SMTP_URL'
          ? '(hidden)'
          : JSON.stringify(got);
    lines.push(`${name}: ${issue.message}, got ${shown}`);
  }
  throw new ConfigError(lines);
}

/** Variables from `.env` (if present) under the real environment, which wins. */
export function readEnvironment(): Record<string, string | undefined> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return { ...process.env };
}

/** For entry points: parse once, or print one line per bad variable and exit. */
export function loadConfig(overrides: Record<string, string | undefined> = {}): Config {
  try {
    return parseConfig({ ...readEnvironment(), ...overrides });
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const line of error.lines) process.stderr.write(`Invalid configuration: ${line}\n`);
      process.exit(1);
    }
    throw error;
  }
}

export const defaults = { DEV_ADMIN_PASSWORD } as const;
