/**
 * What every benchmark starts from: its own FerretDB (SQLite, or the local
 * PostgreSQL) and redis-server in a temporary directory, one API and one
 * worker process as `npm start` runs them, an admin, a seller with a product,
 * and a customer. Never part of `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ferretDB, freePort, redisServer } from '../scripts/embedded-services.js';
import { eventually, runEntry } from '../tests/helpers/processes.js';

export const say = (message: string) => process.stderr.write(`[bench] ${message}\n`);

export interface BenchSystem {
  base: string;
  redisUrl: string;
  /** The database the API and worker use, for seeding and the raw-driver ceiling. */
  mongoUrl: string;
  backend: 'sqlite' | 'postgresql';
  /** Process ids, for CPU accounting per process. */
  pids: { ferretdb: number; redis: number; api: number; worker: number };
  tokens: { admin: string; seller: string; customer: string };
  ids: { seller: string; customer: string };
  productIds: string[];
  call(method: string, path: string, body?: unknown, token?: string): Promise<any>;
  stop(): Promise<void>;
}

export async function startBenchSystem(
  backend: 'sqlite' | 'postgresql' = 'sqlite',
  products = 3,
  /** When set, the API and worker write V8 CPU profiles of each load step there (see bench/run.ts). */
  profileDir?: string,
): Promise<BenchSystem> {
  const dir = mkdtempSync(join(tmpdir(), 'orders-bench-'));
  let postgresqlUrl: string | undefined;
  if (backend === 'postgresql') {
    const psql = (sql: string) => execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-qc', sql]);
    psql('DROP DATABASE IF EXISTS ferretdb_bench');
    psql('CREATE DATABASE ferretdb_bench');
    postgresqlUrl = 'postgres://postgres@127.0.0.1:5432/ferretdb_bench';
  }
  const mongo = ferretDB({
    port: await freePort(),
    dataDir: join(dir, 'ferretdb'),
    backend,
    ...(postgresqlUrl ? { postgresqlUrl } : {}),
  });
  const redis = redisServer({ port: await freePort(), dataDir: join(dir, 'redis') });
  await Promise.all([mongo.start(), redis.start()]);
  const port = await freePort();
  const env = {
    NODE_ENV: 'production',
    JWT_SECRET: 'bench-secret-bench-secret-bench-secret-1234',
    ADMIN_EMAIL: 'admin@bench.local',
    ADMIN_PASSWORD: 'bench-admin-password',
    PASSWORD_HASH_COST: '10',
    LOG_LEVEL: 'warn',
    MONGODB_URI: `${mongo.url.replace(/\/orders$/, '')}/bench`,
    REDIS_URL: redis.url,
    PORT: String(port),
    // A load test from one address and one customer is not abuse.
    RATE_LIMIT_PER_IP_PER_MINUTE: '100000000',
    RATE_LIMIT_AUTH_PER_MINUTE: '100000000',
    RATE_LIMIT_ORDERS_PER_MINUTE: '100000000',
  };
  // Profiles of the load steps only: the benchmark sends SIGUSR2 around each (bench/profile-window.mjs).
  const profiling = (role: string) => (profileDir ? { ...env, PROFILE_WINDOW_DIR: join(profileDir, role) } : env);
  const preload = profileDir ? ['--import', './bench/profile-window.mjs'] : [];
  const api = runEntry('src/index.ts', profiling('api'), preload);
  const worker = runEntry('workers/index.ts', profiling('worker'), preload);
  const base = `http://127.0.0.1:${port}`;

  async function call(method: string, path: string, body?: unknown, token?: string) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as any;
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(json)}`);
    return json;
  }

  // A bench stopped early (Ctrl-C, `timeout`) must not leave its servers running: FerretDB is
  // detached, and left over it (and Redis, the API, the worker) takes CPU from whatever runs
  // next, a CI run or the next bench.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  // At once and all together: a worker stuck on its jobs would hold up a graceful stop, and the
  // process that sent the signal may not wait for it.
  const onSignal = () => {
    api.child.kill('SIGKILL');
    worker.child.kill('SIGKILL');
    void Promise.all([mongo.stop(), redis.stop()]).finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  for (const signal of signals) process.once(signal, onSignal);

  async function stop() {
    for (const signal of signals) process.off(signal, onSignal);
    await Promise.all([api.stop(), worker.stop()]);
    await Promise.all([mongo.stop(), redis.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }

  try {
    await eventually(async () => {
      if (!(await fetch(`${base}/readyz`)).ok) throw new Error('not ready');
    }, 60_000);
    const admin = await call('POST', '/api/auth/login', { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD });
    const sellerUser = { name: 'Bench Seller', email: 's@bench.local', password: 'seller-password', role: 'seller' };
    await call('POST', '/api/users', sellerUser, admin.token);
    const seller = await call('POST', '/api/auth/login', { email: sellerUser.email, password: sellerUser.password });
    const customer = await call('POST', '/api/auth/register', {
      name: 'Bench Buyer',
      email: 'c@bench.local',
      password: 'buyer-password',
    });
    const created = await Promise.all(
      Array.from({ length: products }, (_, i) =>
        call(
          'POST',
          '/api/products',
          { name: `Bench product ${i + 1}`, sku: `B-${i + 1}`, price: 1999, stock: 10_000_000 },
          seller.token,
        ),
      ),
    );
    return {
      base,
      redisUrl: redis.url,
      mongoUrl: env.MONGODB_URI,
      backend,
      pids: { ferretdb: mongo.pid()!, redis: redis.pid()!, api: api.child.pid!, worker: worker.child.pid! },
      tokens: { admin: admin.token, seller: seller.token, customer: customer.token },
      ids: { seller: seller.user.id, customer: customer.user.id },
      productIds: created.map((p: { id: string }) => p.id),
      call,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
