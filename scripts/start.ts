/**
 * `npm start`: the whole system on one machine. Brings up the data services
 * that are not configured (FerretDB on SQLite under .data/, the local Redis or
 * a redis-server of its own, a local mail server with a web inbox), then one
 * API and one worker process, and stops them all on Ctrl-C / SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ConfigError, defaults, parseConfig, readEnvironment } from '../src/env.js';
import { seedDevelopmentData, type DemoAccount } from './dev-seed.js';
import {
  ferretDB,
  freePort,
  mailServer,
  portIsOpen,
  redisAnswers,
  redisServer,
  type ManagedService,
} from './embedded-services.js';

const say = (message: string) => process.stderr.write(`[start] ${message}\n`);
const DATA_DIR = join(process.cwd(), '.data');
const LOCAL_REDIS = 'redis://127.0.0.1:6379';

const raw = readEnvironment();
let config;
try {
  config = parseConfig(raw);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  for (const line of error.lines) say(`Invalid configuration: ${line}`);
  process.exit(1);
}

const services: ManagedService[] = [];
const children: ChildProcess[] = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  say('stopping…');
  // Children first, so they can finish in-flight work against live data services.
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  for (const service of services.reverse()) await service.stop();
  say('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

async function bringUpMongo(): Promise<string> {
  if (raw.MONGODB_URI) {
    say(`MongoDB: using MONGODB_URI`);
    return raw.MONGODB_URI;
  }
  const port = (await portIsOpen(27017)) ? await freePort() : 27017;
  const service = ferretDB({ port, dataDir: join(DATA_DIR, 'ferretdb') });
  say(`MongoDB: MONGODB_URI is unset, starting FerretDB (SQLite under .data/ferretdb) on port ${port}…`);
  await service.start();
  services.push(service);
  return service.url;
}

async function bringUpRedis(): Promise<string> {
  if (raw.REDIS_URL) {
    say('Redis: using REDIS_URL');
    return raw.REDIS_URL;
  }
  if (await redisAnswers(LOCAL_REDIS)) {
    say(`Redis: REDIS_URL is unset, using the local Redis at ${LOCAL_REDIS}`);
    return LOCAL_REDIS;
  }
  const port = (await portIsOpen(6380)) ? await freePort() : 6380;
  say(`Redis: nothing answers at ${LOCAL_REDIS}; starting redis-server (data under .data/redis) on port ${port}…`);
  const service = redisServer({ port, dataDir: join(DATA_DIR, 'redis'), persist: true });
  await service.start();
  services.push(service);
  return service.url;
}

/** SMTP_URL, or a local mail server whose web UI shows what sellers are sent; its UI address, if ours. */
async function bringUpMail(): Promise<{ smtpUrl: string; webUrl?: string }> {
  if (raw.SMTP_URL) {
    say('Email: using SMTP_URL');
    return { smtpUrl: raw.SMTP_URL };
  }
  const smtpPort = (await portIsOpen(1025)) ? await freePort() : 1025;
  const webPort = (await portIsOpen(1080)) ? await freePort() : 1080;
  say(`Email: SMTP_URL is unset, starting a local mail server (SMTP on port ${smtpPort}, web UI on ${webPort})…`);
  const service = mailServer({ smtpPort, webPort });
  await service.start();
  services.push(service);
  return { smtpUrl: service.url, webUrl: service.webUrl.replace('127.0.0.1', 'localhost') };
}

function launch(role: 'api' | 'worker', entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  // Own process group: a terminal Ctrl-C must not reach it besides our SIGTERM, or
  // it would count as a second signal and force an exit mid-shutdown.
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env, stdio: 'inherit', detached: true });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    say(`${role} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything`);
    void stopAll(1);
  });
  children.push(child);
  return child;
}

async function waitForReady(url: string, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    const response = await fetch(`${url}/readyz`).catch(() => undefined);
    if (response?.ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

/** Development only: demo sellers, products and a customer in an empty catalog (scripts/dev-seed.ts). */
async function demoAccounts(
  url: string,
  settings: { NODE_ENV: string; ADMIN_EMAIL: string; ADMIN_PASSWORD?: string | undefined },
): Promise<readonly DemoAccount[]> {
  if (settings.NODE_ENV !== 'development' || !settings.ADMIN_PASSWORD) return [];
  try {
    const { seeded, accounts } = await seedDevelopmentData(url, {
      email: settings.ADMIN_EMAIL,
      password: settings.ADMIN_PASSWORD,
    });
    if (seeded) say('the catalog was empty: added demo sellers, products and a customer (development only)');
    return accounts;
  } catch (error) {
    say(`could not add the demo data: ${(error as Error).message}`);
    return [];
  }
}

try {
  const MONGODB_URI = await bringUpMongo();
  const REDIS_URL = await bringUpRedis();
  const mail = await bringUpMail();
  const env = { ...process.env, MONGODB_URI, REDIS_URL, SMTP_URL: mail.smtpUrl };
  launch('api', 'src/index.ts', env);
  launch('worker', 'workers/index.ts', env);

  const url = `http://localhost:${config.PORT}`;
  if (await waitForReady(url)) {
    const password = raw.ADMIN_PASSWORD ? '(ADMIN_PASSWORD)' : defaults.DEV_ADMIN_PASSWORD;
    const demo = await demoAccounts(url, config);
    say(`ready: ${url}`);
    say(`  web app        ${url}/app/`);
    say(`  API reference  ${url}/docs  (the document: ${url}/openapi.json)`);
    say(`  queues         ${url}/admin/queues  (sign in at ${url}/admin/login)`);
    say(`  metrics        ${url}/metrics`);
    if (mail.webUrl) say(`  seller emails  ${mail.webUrl}/  (the local mail server's inbox)`);
    if (config.ADMIN_PASSWORD) say(`admin sign-in: ${config.ADMIN_EMAIL} / ${password}`);
    for (const account of demo)
      say(`${account.role} sign-in: ${account.email} / ${account.password}  (${account.name})`);
    say('press Ctrl-C to stop');
  } else if (!stopping) {
    say(`${url}/readyz did not turn ready within 60 s; see the logs above`);
  }
} catch (error) {
  say(`ERROR: ${(error as Error).message}`);
  await stopAll(1);
}
