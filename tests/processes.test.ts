import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferretDB, freePort, type ManagedService } from '../scripts/embedded-services.js';
import { httpClient } from './helpers/http.js';
import { eventually, runEntry } from './helpers/processes.js';
import { ADMIN, testEnv } from './helpers/system.js';

let dir: string;
let mongo: ManagedService;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orders-processes-'));
  mongo = ferretDB({ port: await freePort(), dataDir: join(dir, 'ferretdb') });
});
afterAll(async () => {
  await mongo?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('configuration errors stop the process with one line naming the variable', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['PORT=abc', { PORT: 'abc' }, /^Invalid configuration: PORT: expected a port number \(0-65535\), got "abc"$/m],
    [
      'a short JWT_SECRET in production',
      { NODE_ENV: 'production', JWT_SECRET: 'short', ADMIN_PASSWORD: 'a-strong-password' },
      /^Invalid configuration: JWT_SECRET: expected a secret of at least 32 characters in production .*got \(hidden\)$/m,
    ],
    [
      'a malformed MONGODB_URI',
      { MONGODB_URI: 'http://db:27017/orders' },
      /^Invalid configuration: MONGODB_URI: expected a mongodb:\/\/ or mongodb\+srv:\/\/ URI/m,
    ],
    [
      'a malformed REDIS_URL',
      { REDIS_URL: 'localhost:6379' },
      /^Invalid configuration: REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL, got "localhost:6379"$/m,
    ],
  ];
  for (const [label, env, expected] of cases) {
    it(label, async () => {
      const api = runEntry('src/index.ts', { ...testEnv(), ...env });
      expect(await api.exited).toBe(1);
      expect(api.output()).toMatch(expected);
      expect(api.output().trim().split('\n')).toHaveLength(1);
    });
  }
});

describe('the api process', () => {
  it('starts before its database, turns ready when it appears, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const api = runEntry('src/index.ts', testEnv({ PORT: String(port), MONGODB_URI: mongo.url, LOG_LEVEL: 'info' }));
    const http = httpClient(`http://127.0.0.1:${port}`);
    try {
      await eventually(async () => expect((await http.get('/healthz')).status).toBe(200));
      expect((await http.get('/readyz')).body.checks).toMatchObject({ mongodb: 'down', startup: 'pending' });

      await mongo.start();
      await eventually(async () => expect((await http.get('/readyz')).status).toBe(200));
      // Ready means start-up work is done: the admin can sign in at once.
      expect((await http.post('/api/auth/login', ADMIN)).status).toBe(200);
    } finally {
      expect(await api.stop('SIGTERM')).toBe(0);
    }
    expect(api.output()).toContain('shut down cleanly');
    // Readiness failing while the database was away is expected: logged at info, never an error with a stack.
    const lines = api
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string; status?: number });
    const notReady = lines.filter((line) => line.msg === 'request answered unavailable');
    expect(notReady.length).toBeGreaterThan(0);
    expect(notReady.every((line) => line.level === 30 && line.status === 503)).toBe(true);
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  });
});

describe('the worker process', () => {
  it('fails a job no handler knows at once, without retries, and exits 0 on SIGTERM', async () => {
    await mongo.start();
    const env = testEnv({ MONGODB_URI: mongo.url });
    const worker = runEntry('workers/index.ts', env);
    const queue = new Queue('maintenance', { connection: { url: env.REDIS_URL }, prefix: env.QUEUE_PREFIX });
    try {
      const job = await queue.add('no-such-job', { x: 1 }, { attempts: 5 });
      const failed = await eventually(async () => {
        const state = await queue.getJobState(job.id!);
        expect(state).toBe('failed');
        return queue.getJob(job.id!);
      });
      expect(failed?.failedReason).toBe('no handler for job maintenance:no-such-job');
      expect(failed?.attemptsMade).toBe(1);
    } finally {
      await queue.close();
      expect(await worker.stop('SIGTERM')).toBe(0);
    }
  });
});

describe('the worker metrics endpoint', () => {
  it('counts jobs by queue, name and outcome, and answers /healthz and /readyz', async () => {
    await mongo.start();
    const port = await freePort();
    const env = testEnv({ MONGODB_URI: mongo.url, WORKER_METRICS_PORT: String(port) });
    const worker = runEntry('workers/index.ts', env);
    const queue = new Queue('maintenance', { connection: { url: env.REDIS_URL }, prefix: env.QUEUE_PREFIX });
    try {
      await queue.add('purge-idempotency-keys', {});
      await queue.add('no-such-job', {});
      await eventually(async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(text).toMatch(
          /jobs_total\{queue="maintenance",job="purge-idempotency-keys",outcome="completed"\} [1-9]/,
        );
        expect(text).toMatch(/jobs_total\{queue="maintenance",job="no-such-job",outcome="failed"\} [1-9]/);
        expect(text).toContain('job_duration_seconds_bucket');
      });
      // The same port answers health and readiness.
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { mongodb: 'up', redis: 'up' } });
      await mongo.stop();
      const notReady = await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        expect(res.status).toBe(503);
        return res.json();
      });
      expect(notReady).toMatchObject({ status: 'not ready', checks: { mongodb: 'down' } });
      await mongo.start();
    } finally {
      await queue.close();
      expect(await worker.stop('SIGTERM')).toBe(0);
    }
  });
});
