import { loadConfig } from '../src/env.js';
import { createLogger } from '../src/lib/logger.js';
import { connectMongo, disconnectMongo } from '../src/lib/mongo.js';
import { exitOnSignal } from '../src/lib/shutdown.js';
import { JOB_DEFINITIONS } from './jobs.js';
import { startWorkers } from './runtime.js';

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, 'worker');

// Jobs read and write MongoDB; taking one before the database answers would only fail it.
const stopConnecting = new AbortController();
let pool: ReturnType<typeof startWorkers> | undefined;
exitOnSignal(log, config.SHUTDOWN_TIMEOUT_MS, async () => {
  stopConnecting.abort();
  await pool?.close();
  await disconnectMongo();
});
await connectMongo(config, log, stopConnecting.signal);
pool = startWorkers(config, JOB_DEFINITIONS, log);
