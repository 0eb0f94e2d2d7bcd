import { loadConfig } from './env.js';
import { createLogger, wantsPrettyLogs } from './lib/logger.js';
import { exitOnSignal } from './lib/shutdown.js';
import { startApiServer } from './server.js';

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, 'api', { pretty: wantsPrettyLogs(config.NODE_ENV) });
const api = await startApiServer(config, log);
exitOnSignal(log, config.SHUTDOWN_TIMEOUT_MS, () => api.close());
