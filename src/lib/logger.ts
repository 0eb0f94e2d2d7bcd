import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs in production; the same JSON elsewhere so tests and tools can read them. */
export function createLogger(level: string, name: string): Logger {
  return pino({
    level,
    name,
    redact: { paths: ['req.headers.authorization', '*.password', '*.passwordHash', '*.token'], censor: '[redacted]' },
  });
}
