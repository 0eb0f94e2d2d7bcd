import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ferretDB, freePort, redisServer } from '../../scripts/embedded-services.js';

/**
 * One FerretDB and one redis-server for the whole run, on free ports and in a
 * temporary directory: tests never see a developer's data, and can run while
 * `npm start` does. Each test file then uses a database of its own.
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'orders-test-'));
  const mongo = ferretDB({ port: await freePort(), dataDir: join(dir, 'ferretdb') });
  const redis = redisServer({ port: await freePort(), dataDir: join(dir, 'redis') });
  await Promise.all([mongo.start(), redis.start()]);

  project.provide('mongoServer', `mongodb://127.0.0.1:${mongo.port}`);
  project.provide('redisUrl', redis.url);

  return async () => {
    await Promise.all([mongo.stop(), redis.stop()]);
    rmSync(dir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    mongoServer: string;
    redisUrl: string;
  }
}
