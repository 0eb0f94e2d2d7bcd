import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { parseConfig, type Config } from '../../src/env.js';
import { createLogger } from '../../src/lib/logger.js';
import { startApiServer, type ApiServer } from '../../src/server.js';
import { startWorkerSystem, type WorkerSystem } from '../../workers/system.js';

export const ADMIN = { email: 'admin@test.local', password: 'admin-password-1' };

const uniqueName = () => randomBytes(5).toString('hex');

/** Environment for one test file: its own database and queue prefix on the shared test services. */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const id = uniqueName();
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MONGODB_URI: `${inject('mongoServer')}/t_${id}`,
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: `t_${id}`,
    // Cheap hashing keeps the suite fast; production uses the default cost.
    PASSWORD_HASH_COST: '10',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    MONGO_SERVER_SELECTION_TIMEOUT_MS: '2000',
    // Every test file logs in and orders from 127.0.0.1; the limits are tested on their own.
    RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
    RATE_LIMIT_AUTH_PER_MINUTE: '1000000',
    RATE_LIMIT_ORDERS_PER_MINUTE: '1000000',
    ...overrides,
  };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return parseConfig(testEnv(overrides));
}

export interface TestApi {
  url: string;
  config: Config;
  server: ApiServer;
  close(): Promise<void>;
}

/** A real API on a free port, ready (connected, indexed, admin created). */
export async function startTestApi(config = testConfig()): Promise<TestApi> {
  const server = await startApiServer(config);
  await server.ready;
  return { url: `http://127.0.0.1:${server.port}`, config, server, close: () => server.close() };
}

/** Worker queues and relay in this process (against the same database as an in-process API). */
export function startTestWorkers(config: Config): WorkerSystem {
  return startWorkerSystem(config, createLogger(config.LOG_LEVEL, 'worker'));
}
