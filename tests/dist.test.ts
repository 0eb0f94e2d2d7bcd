import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/embedded-services.js';
import { eventually, runEntry } from './helpers/processes.js';
import { testEnv } from './helpers/system.js';

// What the Dockerfile and `npm run start:prod:*` run: the compiled output, with plain node (no tsx).
// Compiled into .data/ (not dist/, a developer's own build) so node_modules resolve from the repository.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = '.data/dist-test';

beforeAll(() => {
  rmSync(join(ROOT, OUT), { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', OUT],
    { cwd: ROOT, stdio: 'inherit' },
  );
}, 180_000);
afterAll(() => rmSync(join(ROOT, OUT), { recursive: true, force: true }));

describe('the compiled build', () => {
  it('starts the API and a worker with plain node against real services: both ready, docs served, clean exit', async () => {
    const [port, workerPort] = await Promise.all([freePort(), freePort()]);
    const env = testEnv({ PORT: String(port), WORKER_METRICS_PORT: String(workerPort) });
    const api = runEntry(`${OUT}/src/index.js`, env);
    const worker = runEntry(`${OUT}/workers/index.js`, env);
    try {
      await eventually(async () => expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200), 60_000);
      await eventually(
        async () => expect((await fetch(`http://127.0.0.1:${workerPort}/readyz`)).status).toBe(200),
        60_000,
      );
      expect((await fetch(`http://127.0.0.1:${port}/docs`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/openapi.json`)).status).toBe(200);
    } finally {
      const [apiExit, workerExit] = await Promise.all([api.stop('SIGTERM'), worker.stop('SIGTERM')]);
      expect({ apiExit, workerExit }, api.output() + worker.output()).toEqual({ apiExit: 0, workerExit: 0 });
    }
  }, 120_000);
});
