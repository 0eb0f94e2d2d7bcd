/**
 * Starts and stops the data services as child processes: FerretDB (SQLite
 * backend), redis-server and a local mail server. `npm start` uses them when
 * MONGODB_URI/REDIS_URL/SMTP_URL are unset; the test setup uses them so tests
 * never touch a developer's data and can stop and restart a service to test
 * outages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';

export const FERRETDB_BINARY = fileURLToPath(new URL('../.tools/ferretdb', import.meta.url));

// Children run in their own process group (`detached`), so a Ctrl-C in the
// terminal reaches only the parent, which stops them in order: API and worker
// first, the data services they are still writing to last.

export interface ManagedService {
  name: string;
  port: number;
  url: string;
  /** Starts the process (again, after `stop`), with the same port and data directory. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The running process's id, for the benchmark's CPU accounting. */
  pid(): number | undefined;
}

/** A port the OS reports free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function portIsOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}

async function waitUntil(what: string, check: () => Promise<boolean>, child: ChildProcess, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} while starting`);
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not answer within ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess | undefined, timeoutMs = 5_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function managed(
  name: string,
  port: number,
  url: string,
  launch: () => ChildProcess,
  answers: () => Promise<boolean>,
): ManagedService {
  let child: ChildProcess | undefined;
  return {
    name,
    port,
    url,
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      child = launch();
      const started = child;
      // The log is only worth reading when the service dies on its own.
      let output = '';
      started.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
      started.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
      try {
        await waitUntil(name, answers, started);
      } catch (error) {
        await stopChild(started);
        throw new Error(`${(error as Error).message}\n--- ${name} output ---\n${output}`);
      }
    },
    async stop() {
      await stopChild(child);
    },
    pid: () => child?.pid,
  };
}

export interface FerretDBOptions {
  port: number;
  dataDir: string;
  database?: string;
  /** The SQLite backend (default) keeps its files in `dataDir`; the PostgreSQL one needs `postgresqlUrl`. */
  backend?: 'sqlite' | 'postgresql';
  postgresqlUrl?: string;
}

export function ferretDB({
  port,
  dataDir,
  database = 'orders',
  backend = 'sqlite',
  postgresqlUrl,
}: FerretDBOptions): ManagedService {
  if (!existsSync(FERRETDB_BINARY)) {
    throw new Error(
      'FerretDB is not built yet: run `node scripts/setup.mjs test` (npm start and npm test do it for you)',
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const address = `127.0.0.1:${port}`;
  return managed(
    'FerretDB',
    port,
    `mongodb://${address}/${database}`,
    () =>
      spawn(
        FERRETDB_BINARY,
        [
          '-listen',
          address,
          '-handler',
          backend,
          '-sqlite-dir',
          dataDir,
          ...(postgresqlUrl ? ['-postgresql-url', postgresqlUrl] : []),
          // Go's CPU profiles at http://<FERRETDB_PPROF>/debug/pprof/ (the benchmark's --profile).
          ...(process.env.FERRETDB_PPROF ? ['-pprof', process.env.FERRETDB_PPROF] : []),
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
          // Go's collector runs when the heap has grown by GOGC percent; FerretDB allocates
          // heavily per statement, so the default (100) spends a large share of its CPU
          // collecting. 400 trades memory (the heap may grow to about 5x what is live, tens
          // of MB here) for that CPU. Set GOGC to override.
          env: { ...process.env, GOGC: process.env.GOGC ?? '400' },
        },
      ),
    async () => {
      const client = new MongoClient(`mongodb://${address}/`, {
        serverSelectionTimeoutMS: 500,
        directConnection: true,
      });
      try {
        await client.db('admin').command({ ping: 1 });
        return true;
      } finally {
        await client.close();
      }
    },
  );
}

export interface RedisServerOptions {
  port: number;
  dataDir: string;
  /** Keep an append-only file, so queued jobs survive a restart of this Redis. */
  persist?: boolean;
}

export function redisServer({ port, dataDir, persist = false }: RedisServerOptions): ManagedService {
  mkdirSync(dataDir, { recursive: true });
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--save', ''];
  args.push('--appendonly', persist ? 'yes' : 'no', '--maxmemory-policy', 'noeviction');
  return managed(
    'redis-server',
    port,
    `redis://127.0.0.1:${port}`,
    () => spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true }),
    () => redisAnswers(`redis://127.0.0.1:${port}`),
  );
}

export interface MailServerOptions {
  smtpPort: number;
  webPort: number;
  /** For tests: recipients matching this regex get 550. */
  rejectRecipients?: string;
  /** For tests: the first n messages get 451. */
  tempFailures?: number;
  /** For tests: each message waits this long before it is accepted. */
  holdMs?: number;
}

/** A local SMTP server with a web mail UI (`scripts/mail-server.ts`); `url` is its `smtp://` address. */
export function mailServer(options: MailServerOptions): ManagedService & { webUrl: string } {
  const webUrl = `http://127.0.0.1:${options.webPort}`;
  const args = ['--smtp-port', String(options.smtpPort), '--web-port', String(options.webPort)];
  if (options.rejectRecipients) args.push('--reject-recipients', options.rejectRecipients);
  if (options.tempFailures) args.push('--temp-failures', String(options.tempFailures));
  if (options.holdMs) args.push('--hold-ms', String(options.holdMs));
  const service = managed(
    'mail server',
    options.smtpPort,
    `smtp://127.0.0.1:${options.smtpPort}`,
    () =>
      spawn(process.execPath, ['--import', 'tsx', MAIL_SERVER_SCRIPT, ...args], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      }),
    async () => (await fetch(`${webUrl}/api/status`)).ok && (await portIsOpen(options.smtpPort)),
  );
  return { ...service, webUrl };
}

const MAIL_SERVER_SCRIPT = fileURLToPath(new URL('./mail-server.ts', import.meta.url));

/** True when a Redis answers PING at `url` within a second. */
export async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
