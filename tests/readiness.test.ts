import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferretDB, freePort, redisServer, type ManagedService } from '../scripts/embedded-services.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { eventually } from './helpers/processes.js';
import { ADMIN, startTestApi, testConfig, type TestApi } from './helpers/system.js';

// This file owns its data services, so it can stop and restart them.
let dir: string;
let mongo: ManagedService;
let redis: ManagedService;
let api: TestApi;
let http: HttpClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orders-readiness-'));
  mongo = ferretDB({ port: await freePort(), dataDir: join(dir, 'ferretdb') });
  redis = redisServer({ port: await freePort(), dataDir: join(dir, 'redis') });
  await Promise.all([mongo.start(), redis.start()]);
  api = await startTestApi(testConfig({ MONGODB_URI: mongo.url, REDIS_URL: redis.url }));
  http = httpClient(api.url);
});
afterAll(async () => {
  await api?.close();
  await Promise.all([mongo?.stop(), redis?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('health and readiness', () => {
  it('/healthz answers while the process runs; /readyz when both services answer', async () => {
    expect((await http.get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { mongodb: 'up', redis: 'up', startup: 'done' } });
  });

  it('a stopped database makes /readyz 503 naming it, and requests 503; it recovers without a restart', async () => {
    await mongo.stop();
    await eventually(async () => {
      const res = await http.get('/readyz');
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.checks).toEqual({ mongodb: 'down', redis: 'up', startup: 'done' });
      expect(res.body.detail).toContain('mongodb');
    });
    expect((await http.get('/healthz')).status).toBe(200);

    const login = await http.post('/api/auth/login', ADMIN);
    expect(login.status).toBe(503);
    expect(login.headers.get('retry-after')).toBe('5');

    await mongo.start();
    await eventually(async () => expect((await http.get('/readyz')).status).toBe(200));
    // The same API process serves database requests again.
    await eventually(async () => expect((await http.post('/api/auth/login', ADMIN)).status).toBe(200));
  });

  it('a stopped Redis makes /readyz 503 naming it; it recovers without a restart', async () => {
    await redis.stop();
    await eventually(async () => {
      const res = await http.get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body.checks).toEqual({ mongodb: 'up', redis: 'down', startup: 'done' });
      expect(res.body.detail).toContain('redis');
    });
    await redis.start();
    await eventually(async () => expect((await http.get('/readyz')).status).toBe(200));
  });
});
