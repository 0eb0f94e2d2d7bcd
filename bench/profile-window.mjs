/**
 * Preloaded into the API and the worker by `npm run bench -- --profile`
 * (`node --import ./bench/profile-window.mjs`): SIGUSR2 starts a V8 CPU
 * profile, the next SIGUSR2 writes it to $PROFILE_WINDOW_DIR. The benchmark
 * brackets one load step with the two signals, so the profile shows that step
 * only (`--cpu-prof` covered the whole process, where start-up and module
 * loading drowned the request path).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

const dir = process.env.PROFILE_WINDOW_DIR;
if (dir) {
  let session = null;
  let windows = 0;
  process.on('SIGUSR2', async () => {
    if (!session) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      return;
    }
    const running = session;
    session = null;
    const { profile } = await running.post('Profiler.stop');
    running.disconnect();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${process.pid}-${++windows}.cpuprofile`), JSON.stringify(profile));
  });
}
