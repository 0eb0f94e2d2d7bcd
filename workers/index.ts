import { loadConfig } from '../src/env.js';
import { createLogger, wantsPrettyLogs } from '../src/lib/logger.js';
import { connectMongo, disconnectMongo } from '../src/lib/mongo.js';
import { exitOnSignal } from '../src/lib/shutdown.js';
import { startWorkerSystem, type WorkerSystem } from './system.js';

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, 'worker', { pretty: wantsPrettyLogs(config.NODE_ENV) });
const stopConnecting = new AbortController();
const running: { system?: WorkerSystem } = {};

exitOnSignal(log, config.SHUTDOWN_TIMEOUT_MS, async () => {
  stopConnecting.abort();
  // Waits for active jobs; unfinished ones are picked up by another worker.
  await running.system?.close();
  await disconnectMongo();
});

// Jobs read and write MongoDB; taking one before the database answers would only fail it.
connectMongo(config, log, stopConnecting.signal).then(
  () => {
    if (!stopConnecting.signal.aborted) running.system = startWorkerSystem(config, log);
  },
  (error: unknown) => {
    if (!stopConnecting.signal.aborted) {
      log.fatal({ err: error }, 'worker could not start');
      process.exit(1);
    }
  },
);
