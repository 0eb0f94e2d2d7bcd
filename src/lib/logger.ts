import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs, one object per line, for production, tests and tools; with
 * `pretty` (development on a terminal) the same records through pino-pretty:
 * local times, levels in colour, one line each.
 */
export function createLogger(level: string, name: string, { pretty = false } = {}): Logger {
  return pino({
    level,
    name,
    redact: { paths: ['req.headers.authorization', '*.password', '*.passwordHash', '*.token'], censor: '[redacted]' },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  });
}

/** Pretty logs where a person reads them: `NODE_ENV=development` and a terminal on stdout. */
export const wantsPrettyLogs = (nodeEnv: string) => nodeEnv === 'development' && process.stdout.isTTY === true;
