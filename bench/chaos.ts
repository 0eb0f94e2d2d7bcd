/**
 * `npm run chaos`: a bounded fault run on this machine only (loopback
 * addresses), as a tester ran it against an earlier version. Starts its own
 * FerretDB (SQLite) and redis-server (no persistence) in a temporary
 * directory, 2 API and 2 worker processes, seeds 3 sellers, 6 products (two of
 * them short of stock) and 20 customers over HTTP, then places checkouts with
 * an Idempotency-Key at a steady pace (some over two sellers, ~10% cancelled a
 * little later), retrying a failed POST with the same key on the other API,
 * while every 2.5–5 s a random API or worker is killed with SIGKILL and
 * restarted 1–3 s later, and once, in the middle, Redis is stopped for 10 s and
 * started again without its data. Then it stops the faults, keeps 1 API and 2
 * workers, waits up to 120 s for everything to settle and writes a markdown
 * report of what did not (stuck orders, missing or repeated notifications,
 * stock that disagrees with its ledger, duplicate orders, latencies, stalls).
 *
 *   npm run chaos -- [--quick] [--orders 1000] [--seconds 240] [--out FILE] [--keep-logs] [--code worktree|head]
 *
 * --quick is 200 orders over 60 s. --keep-logs copies the process logs next to the report.
 *
 * The processes run a copy of src/ and workers/ taken at the start (node_modules
 * linked), so every restart runs the same code even while the tree is edited:
 * the working tree as it is (`--code worktree`, the default) or the last commit
 * (`--code head`).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
import { ferretDB, freePort, redisServer, type ManagedService } from '../scripts/embedded-services.js';
import { ms, summarize } from './measure.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const say = (message: string) => process.stderr.write(`[chaos] ${message}\n`);
const sleep = (millis: number) => new Promise<void>((done) => setTimeout(done, Math.max(0, millis)));
const between = (low: number, high: number) => low + Math.random() * (high - low);
const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    orders: { type: 'string' },
    seconds: { type: 'string' },
    out: { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
    // worktree: the files as they are now (default); head: the last commit (`git archive`, read-only).
    code: { type: 'string', default: 'worktree' },
  },
});
const quick = values.quick;
const settings = {
  checkouts: Number(values.orders ?? (quick ? 200 : 1000)),
  seconds: Number(values.seconds ?? (quick ? 60 : 240)),
  customers: 20,
  cancelShare: 0.1,
  /** Share of checkouts that add a line from a second seller (two orders). */
  multiSellerShare: 0.4,
  killEveryMs: [2_500, 5_000] as const,
  restartAfterMs: [1_000, 3_000] as const,
  redisOutageMs: 10_000,
  settleMs: 120_000,
  /** One checkout (or cancel) gives up after this many attempts or this long since its first send. */
  maxAttempts: 60,
  maxRetryMs: 120_000,
  attemptTimeoutMs: 30_000,
};
if (!(settings.checkouts > 0 && settings.seconds > 0) || !['worktree', 'head'].includes(values.code)) {
  say('--orders and --seconds must be positive numbers, --code worktree or head');
  process.exit(2);
}
const today = new Date().toISOString().slice(0, 10);
const out = resolve(ROOT, values.out ?? `.data/bench/chaos-${today}${quick ? '-quick' : ''}.md`);

// ---------------------------------------------------------------------------
// Processes: data services, APIs, workers; cleaned up on every way out.

const dir = mkdtempSync(join(tmpdir(), 'orders-chaos-'));
const logDir = join(dir, 'logs');
mkdirSync(logDir, { recursive: true });
const codeDir = join(dir, 'code');

/** The code under test, as it is now: restarts during the run must not pick up edits made meanwhile. */
function snapshotCode(): string {
  const entries = ['src', 'workers', 'bull-board.config.ts', 'package.json', 'tsconfig.json'];
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  mkdirSync(codeDir, { recursive: true });
  if (values.code === 'head') {
    execFileSync('sh', ['-c', `git archive --format=tar HEAD ${entries.join(' ')} | tar -x -C "${codeDir}"`], {
      cwd: ROOT,
    });
    symlinkSync(join(ROOT, 'node_modules'), join(codeDir, 'node_modules'), 'dir');
    return `commit ${git('rev-parse', '--short', 'HEAD')} (${git('log', '-1', '--format=%s')}), as committed`;
  }
  for (const entry of entries) cpSync(join(ROOT, entry), join(codeDir, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(codeDir, 'node_modules'), 'dir');
  // Read-only: which commit, and which files differ from it, for the report.
  try {
    const changed = git('status', '--short', '--', 'src', 'workers')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.trim());
    return `commit ${git('rev-parse', '--short', 'HEAD')}${changed.length ? ` plus uncommitted changes (${changed.join(', ')})` : ''}`;
  } catch {
    return 'not a git checkout';
  }
}
let codeVersion = '';
let mongo: ManagedService | undefined;
let redis: ManagedService | undefined;
let shuttingDown = false;

type Role = 'api' | 'worker';
interface Slot {
  role: Role;
  n: number;
  name: string;
  entry: string;
  port?: number;
  logFile: string;
  child?: ChildProcess;
  /** Set while a planned kill or stop is under way, so its exit is not counted as a crash. */
  expectingExit: boolean;
  restartPending: boolean;
  /** Stopped for good (the second API during the settle phase). */
  retired: boolean;
  starts: number;
  kills: number;
  crashes: Array<{ at: number; code: number | null; signal: string | null }>;
}

const slots: Slot[] = [];
let env: Record<string, string> = {};
const restarts = new Set<Promise<void>>();

function spawnSlot(slot: Slot) {
  const fd = openSync(slot.logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', slot.entry], {
    cwd: codeDir,
    env: {
      PATH: process.env.PATH ?? '',
      ...env,
      ...(slot.port ? { PORT: String(slot.port) } : {}),
      // APIs log warnings and errors; workers also info, for the reconciler's lines.
      LOG_LEVEL: slot.role === 'api' ? 'warn' : 'info',
    },
    stdio: ['ignore', fd, fd],
    // Its own process group: a Ctrl-C reaches only this script, which stops everything in order.
    detached: true,
  });
  closeSync(fd);
  slot.child = child;
  slot.starts++;
  slot.expectingExit = false;
  child.on('error', (error) => say(`${slot.name}: ${error.message}`));
  child.on('exit', (code, signal) => {
    if (slot.child === child) slot.child = undefined;
    if (slot.expectingExit || shuttingDown || slot.retired) return;
    // Died on its own: counted, and restarted as a supervisor would.
    slot.crashes.push({ at: Date.now(), code, signal });
    say(`${slot.name} exited on its own (code ${code}, signal ${signal}); restarting it in 1 s`);
    scheduleRestart(slot, 1_000);
  });
}

function scheduleRestart(slot: Slot, afterMs: number) {
  slot.restartPending = true;
  const restart = sleep(afterMs).then(() => {
    slot.restartPending = false;
    if (!shuttingDown && !slot.retired && !slot.child) spawnSlot(slot);
  });
  restarts.add(restart);
  void restart.finally(() => restarts.delete(restart));
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => child.once('exit', () => done()));
}

async function killSlot(slot: Slot) {
  const child = slot.child;
  if (!child) return;
  slot.expectingExit = true;
  slot.kills++;
  child.kill('SIGKILL');
  await exitOf(child);
}

async function stopSlot(slot: Slot) {
  slot.retired = true;
  const child = slot.child;
  if (!child) return;
  slot.expectingExit = true;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exitOf(child);
  clearTimeout(timer);
}

let cleanedUp: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleanedUp ??= (async () => {
    shuttingDown = true;
    const children = slots.flatMap((s) => (s.child ? [s.child] : []));
    for (const child of children) child.kill('SIGKILL');
    await Promise.race([Promise.all(children.map(exitOf)), sleep(5_000)]);
    await Promise.all([redis?.stop().catch(() => {}), mongo?.stop().catch(() => {})]);
    rmSync(dir, { recursive: true, force: true });
  })();
  return cleanedUp;
}

/** Last resort (a second Ctrl-C, an exit without cleanup): synchronous kills and removal. */
function cleanupNow() {
  shuttingDown = true;
  for (const pid of [...slots.map((s) => s.child?.pid), redis?.pid(), mongo?.pid()]) {
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

let firstSignalAt: number | undefined;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    // tsx relays the terminal's Ctrl-C, so one press can arrive twice: only a later one forces.
    if (firstSignalAt !== undefined) {
      if (Date.now() - firstSignalAt < 2_000) return;
      cleanupNow();
      process.exit(130);
    }
    firstSignalAt = Date.now();
    say(`${signal}: stopping every process and removing ${dir}…`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.on('exit', () => {
  if (!cleanedUp) cleanupNow();
});

// ---------------------------------------------------------------------------
// HTTP

type Answer = { status: number; retryAfter?: number; body: any } | { error: string };

async function request(
  base: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  key?: string,
  timeoutMs = settings.attemptTimeoutMs,
) {
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: kept as text.
    }
    const retryAfter = Number(res.headers.get('retry-after'));
    return {
      status: res.status,
      body: parsed,
      ...(res.headers.has('retry-after') && Number.isFinite(retryAfter) ? { retryAfter } : {}),
    } as Answer;
  } catch (error) {
    const err = error as Error & { cause?: { code?: string } };
    const code = err.name === 'TimeoutError' ? 'timeout' : (err.cause?.code ?? err.name ?? 'error');
    return { error: code } as Answer;
  }
}

const apiBase = (slot: Slot) => `http://127.0.0.1:${slot.port}`;
const apis = () => slots.filter((s) => s.role === 'api');

/** For the seeding, before any fault: retries until the API answers as expected. */
async function seedCall(method: string, path: string, body: unknown, token?: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const answer = await request(apiBase(apis()[0]!), method, path, token, body);
    if ('status' in answer && answer.status < 300) return answer.body;
    if (Date.now() > deadline) throw new Error(`${method} ${path}: ${JSON.stringify(answer)}`);
    await sleep(500);
  }
}

// ---------------------------------------------------------------------------
// The run's record

const attemptCounts = new Map<string, number>();
const countAttempt = (what: string) => attemptCounts.set(what, (attemptCounts.get(what) ?? 0) + 1);

type Outcome = 'placed' | 'refused' | 'rejected' | 'gave-up';
interface Attempt {
  api: string;
  /** Wall-clock time it was sent. */
  at: number;
  ms: number;
  answer: string;
}
interface Checkout {
  i: number;
  key: string;
  customer: number;
  body: { items: Array<{ productId: string; quantity: number }>; deliveryAddress: string };
  sellers: number;
  attempts: number;
  sentAt?: number;
  answeredAt?: number;
  outcome?: Outcome;
  status?: number;
  detail?: string;
  orderIds: string[];
  trail: Attempt[];
}
interface Cancel {
  orderId: string;
  outcome?: 'cancelled' | 'refused' | 'rejected' | 'gave-up';
  status?: number;
  detail?: string;
  attempts: number;
}

const checkouts: Checkout[] = [];
const cancels: Cancel[] = [];
const pendingWork = new Set<Promise<void>>();
const track = (work: Promise<void>) => {
  pendingWork.add(work);
  void work.finally(() => pendingWork.delete(work));
};
const faultLog: Array<{ at: number; what: string }> = [];
const redisOutage: { stoppedAt?: number; returnedAt?: number; keysBefore?: number; keysAfter?: number } = {};

const describe = (answer: Answer) => ('error' in answer ? `error:${answer.error}` : String(answer.status));
const detailOf = (answer: Answer) =>
  'status' in answer && answer.body && typeof answer.body === 'object'
    ? String((answer.body as { detail?: unknown }).detail ?? '')
    : '';

/**
 * One request until a final answer, alternating between the APIs: a lost
 * connection, a timeout, a 5xx, a 429 or a 409 that says "retry" (Retry-After)
 * is sent again to the other API, honouring Retry-After.
 */
async function untilFinal(
  firstApi: number,
  send: (base: string) => Promise<Answer>,
  onAttempt: (answer: Answer) => void,
  trail?: Attempt[],
): Promise<{ answer: Answer; attempts: number }> {
  const started = Date.now();
  let answer: Answer = { error: 'not sent' };
  let attempt = 0;
  while (attempt < settings.maxAttempts && Date.now() - started < settings.maxRetryMs) {
    const slot = apis()[(firstApi + attempt) % 2]!;
    attempt++;
    const sentAt = Date.now();
    answer = await send(apiBase(slot));
    onAttempt(answer);
    trail?.push({ api: slot.name, at: sentAt, ms: Date.now() - sentAt, answer: describe(answer) });
    if ('status' in answer) {
      const retry =
        answer.status >= 500 || answer.status === 429 || (answer.status === 409 && answer.retryAfter !== undefined);
      if (!retry) break;
      await sleep(Math.min(10_000, (answer.retryAfter ?? 0.5) * 1000));
    } else {
      await sleep(Math.min(2_000, 100 * attempt));
    }
  }
  return { answer, attempts: attempt };
}

// ---------------------------------------------------------------------------
// Seeding

interface Seeded {
  adminToken: string;
  sellers: Array<{ id: string; name: string }>;
  products: Array<{ id: string; sku: string; seller: number; stock: number; scarce: boolean; weight: number }>;
  customers: Array<{ id: string; token: string }>;
}

async function seed(): Promise<Seeded> {
  const admin = await seedCall('POST', '/api/auth/login', { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD });
  const sellers = await Promise.all(
    ['Tea House', 'Spice Route', 'Paper Works'].map(async (shopName, i) => {
      const user = await seedCall(
        'POST',
        '/api/users',
        {
          name: `Seller ${i + 1}`,
          email: `seller${i + 1}@chaos.local`,
          password: 'seller-password-1',
          role: 'seller',
          shopName,
        },
        admin.token,
      );
      return { id: String(user.id ?? user.user?.id), name: shopName };
    }),
  );
  // Two products short of stock: demanded several times over, so checkouts are refused (409)
  // once it visibly runs out, and orders accepted on a stock that jobs have not reduced yet end
  // `short`. One runs out early, the other around the Redis outage.
  const n = settings.checkouts;
  const plan = [
    { seller: 0, stock: 5_000_000, scarce: false, weight: 0.7 },
    { seller: 0, stock: Math.max(5, Math.round(0.2 * n)), scarce: true, weight: 0.3 },
    { seller: 1, stock: 5_000_000, scarce: false, weight: 0.7 },
    { seller: 1, stock: Math.max(3, Math.round(0.06 * n)), scarce: true, weight: 0.3 },
    { seller: 2, stock: 5_000_000, scarce: false, weight: 0.5 },
    { seller: 2, stock: 5_000_000, scarce: false, weight: 0.5 },
  ];
  const products = await Promise.all(
    plan.map(async (p, i) => {
      const sku = `CH-${i + 1}`;
      const created = await seedCall(
        'POST',
        '/api/products',
        {
          name: `Chaos product ${i + 1}`,
          sku,
          price: 1_000 + 250 * i,
          stock: p.stock,
          sellerId: sellers[p.seller]!.id,
        },
        admin.token,
      );
      return { id: String(created.id), sku, ...p };
    }),
  );
  const customers: Seeded['customers'] = [];
  for (let i = 0; i < settings.customers; i++) {
    const registered = await seedCall('POST', '/api/auth/register', {
      name: `Customer ${i + 1}`,
      email: `customer${i + 1}@chaos.local`,
      password: 'customer-password-1',
    });
    customers.push({ id: String(registered.user.id), token: String(registered.token) });
  }
  return { adminToken: admin.token, sellers, products, customers };
}

function weightedProduct(products: Seeded['products'], seller: number) {
  const own = products.filter((p) => p.seller === seller);
  let roll = Math.random() * own.reduce((sum, p) => sum + p.weight, 0);
  for (const product of own) {
    roll -= product.weight;
    if (roll <= 0) return product;
  }
  return own.at(-1)!;
}

function checkoutBody(products: Seeded['products']) {
  const first = Math.floor(Math.random() * 3);
  const lines = new Map<string, number>();
  const add = (seller: number) => {
    const product = weightedProduct(products, seller);
    lines.set(product.id, (lines.get(product.id) ?? 0) + 1 + Math.floor(Math.random() * 3));
  };
  add(first);
  if (Math.random() < 0.4) add(first);
  let sellers = 1;
  if (Math.random() < settings.multiSellerShare) {
    add((first + 1 + Math.floor(Math.random() * 2)) % 3);
    sellers = 2;
  }
  return {
    body: {
      items: [...lines].map(([productId, quantity]) => ({ productId, quantity })),
      deliveryAddress: '12 MG Road, Bengaluru 560001',
    },
    sellers,
  };
}

// ---------------------------------------------------------------------------
// Load

async function runCheckout(checkout: Checkout, seeded: Seeded) {
  const customer = seeded.customers[checkout.customer]!;
  checkout.sentAt = performance.now();
  const { answer, attempts } = await untilFinal(
    checkout.i % 2,
    (base) => request(base, 'POST', '/api/orders', customer.token, checkout.body, checkout.key),
    (a) =>
      countAttempt(
        `POST ${describe(a)}${'status' in a && a.status === 409 && a.retryAfter !== undefined ? ' (busy)' : ''}`,
      ),
    checkout.trail,
  );
  checkout.answeredAt = performance.now();
  checkout.attempts = attempts;
  if ('error' in answer) {
    checkout.outcome = 'gave-up';
    checkout.detail = answer.error;
    return;
  }
  checkout.status = answer.status;
  checkout.detail = detailOf(answer);
  if (answer.status === 201) {
    checkout.outcome = 'placed';
    checkout.orderIds = (answer.body.orders as Array<{ id: string }>).map((o) => o.id);
    for (const orderId of checkout.orderIds) {
      if (Math.random() < settings.cancelShare) {
        track(sleep(between(500, 3_000)).then(() => runCancel(orderId, customer.token, checkout.i)));
      }
    }
  } else if (answer.status === 409 && answer.retryAfter === undefined) checkout.outcome = 'refused';
  else if (answer.status < 500 && answer.status !== 429) checkout.outcome = 'rejected';
  else checkout.outcome = 'gave-up';
}

async function runCancel(orderId: string, token: string, i: number) {
  const cancel: Cancel = { orderId, attempts: 0 };
  cancels.push(cancel);
  const { answer, attempts } = await untilFinal(
    (i + 1) % 2,
    (base) => request(base, 'DELETE', `/api/orders/${orderId}`, token),
    (a) => countAttempt(`DELETE ${describe(a)}`),
  );
  cancel.attempts = attempts;
  if ('error' in answer) {
    cancel.outcome = 'gave-up';
    cancel.detail = answer.error;
    return;
  }
  cancel.status = answer.status;
  cancel.detail = detailOf(answer);
  if (answer.status === 200) cancel.outcome = 'cancelled';
  else if (answer.status === 409 && answer.retryAfter === undefined) cancel.outcome = 'refused';
  else if (answer.status < 500 && answer.status !== 429) cancel.outcome = 'rejected';
  else cancel.outcome = 'gave-up';
}

// ---------------------------------------------------------------------------
// Faults

let loadStartedWall = 0;
const since = (wall: number) => ((wall - loadStartedWall) / 1000).toFixed(1);

async function redisKeys(): Promise<number | undefined> {
  const client = new Redis(redis!.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.dbsize();
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

async function faults(until: number) {
  const outageAt = loadStartedWall + (settings.seconds * 1000) / 2 - settings.redisOutageMs / 2;
  const outage = (async () => {
    await sleep(outageAt - Date.now());
    if (shuttingDown) return;
    redisOutage.keysBefore = await redisKeys();
    redisOutage.stoppedAt = Date.now();
    await redis!.stop();
    // No persistence is configured; remove anything a shutdown might have written all the same.
    for (const file of readdirSync(join(dir, 'redis')))
      rmSync(join(dir, 'redis', file), { recursive: true, force: true });
    faultLog.push({ at: redisOutage.stoppedAt, what: 'redis stopped' });
    say(`t=${since(redisOutage.stoppedAt)}s Redis stopped`);
    await sleep(settings.redisOutageMs - (Date.now() - redisOutage.stoppedAt));
    await redis!.start();
    redisOutage.returnedAt = Date.now();
    redisOutage.keysAfter = await redisKeys();
    faultLog.push({ at: redisOutage.returnedAt, what: 'redis back (empty)' });
    say(
      `t=${since(redisOutage.returnedAt)}s Redis back after ${((redisOutage.returnedAt - redisOutage.stoppedAt) / 1000).toFixed(1)} s ` +
        `(${redisOutage.keysBefore ?? '?'} keys before, ${redisOutage.keysAfter ?? '?'} right after)`,
    );
  })();

  for (;;) {
    await sleep(between(...settings.killEveryMs));
    if (Date.now() >= until || shuttingDown) break;
    const candidates = slots.filter((s) => s.child && !s.restartPending && !s.retired);
    if (!candidates.length) continue;
    const victim = pick(candidates);
    await killSlot(victim);
    faultLog.push({ at: Date.now(), what: `kill -9 ${victim.name}` });
    scheduleRestart(victim, between(...settings.restartAfterMs));
  }
  await outage;
}

// ---------------------------------------------------------------------------
// The timeline: every 10 s, where the load is and how the processes are doing

interface Sample {
  at: number;
  sent: number;
  answered: number;
  placed: number;
  refused: number;
  gaveUp: number;
  owed: number | string;
  pingMs: number | string;
  /** CPU over the last interval, one core = 100, per role. */
  cpu: Record<'ferretdb' | 'redis' | 'apis' | 'workers' | 'chaos', number>;
  ready: string;
  events: string;
}
const timeline: Sample[] = [];

/** CPU time of a process in clock ticks (utime + stime), from /proc. */
function cpuTicks(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

const within = <T>(promise: Promise<T>, millis: number, fallback: T) =>
  Promise.race([promise.catch(() => fallback), sleep(millis).then(() => fallback)]);

function sampler(db: Db) {
  let stop = false;
  let lastTicks = new Map<number, number>();
  let lastAt = performance.now();
  let lastSelf = process.cpuUsage();
  let lastFault = 0;
  const done = (async () => {
    while (!stop) {
      await sleep(10_000);
      if (stop) break;
      const [owed, pingMs, ready] = await Promise.all([
        within<number | string>(db.collection('owedjobs').countDocuments({}), 8_000, 'timeout'),
        within<number | string>(
          (async () => {
            const started = performance.now();
            await db.command({ ping: 1 });
            return Math.round(performance.now() - started);
          })(),
          8_000,
          '>8000',
        ),
        Promise.all(
          apis().map(async (slot) => {
            if (!slot.child) return `${slot.name} down`;
            const answer = await request(apiBase(slot), 'GET', '/readyz', undefined, undefined, undefined, 8_000);
            return `${slot.name} ${describe(answer)}`;
          }),
        ),
      ]);
      const elapsed = (performance.now() - lastAt) / 1000;
      const ticks = new Map<number, number>();
      const share = (pids: Array<number | undefined>) => {
        let sum = 0;
        for (const pid of pids) {
          const now = cpuTicks(pid);
          if (pid === undefined || now === undefined) continue;
          ticks.set(pid, now);
          sum += now - (lastTicks.get(pid) ?? 0);
        }
        return Math.round(sum / elapsed);
      };
      const self = process.cpuUsage(lastSelf);
      const cpu = {
        ferretdb: share([mongo?.pid()]),
        redis: share([redis?.pid()]),
        apis: share(apis().map((s) => s.child?.pid)),
        workers: share(slots.filter((s) => s.role === 'worker').map((s) => s.child?.pid)),
        chaos: Math.round((self.user + self.system) / 1e4 / elapsed),
      };
      lastTicks = ticks;
      lastAt = performance.now();
      lastSelf = process.cpuUsage();
      const events = faultLog.slice(lastFault).map((f) => f.what.replace('kill -9 ', 'kill '));
      lastFault = faultLog.length;
      const answered = checkouts.filter((c) => c.outcome);
      const n = (o: Outcome) => answered.filter((c) => c.outcome === o).length;
      const sample: Sample = {
        at: Date.now(),
        sent: checkouts.filter((c) => c.sentAt !== undefined).length,
        answered: answered.length,
        placed: n('placed'),
        refused: n('refused'),
        gaveUp: n('gave-up'),
        owed,
        pingMs,
        cpu,
        ready: ready.join(', '),
        events: events.join(', '),
      };
      timeline.push(sample);
      say(
        `t=${since(sample.at)}s checkouts sent ${sample.sent}/${settings.checkouts}, answered ${sample.answered} ` +
          `(placed ${sample.placed}, refused ${sample.refused}, gave up ${sample.gaveUp}), in flight ${sample.sent - sample.answered}; ` +
          `cancels ${cancels.filter((c) => c.outcome === 'cancelled').length}/${cancels.length}; ` +
          `kills ${slots.map((s) => `${s.name}:${s.kills}`).join(' ')}; ` +
          `Redis ${redisOutage.stoppedAt && !redisOutage.returnedAt ? 'DOWN' : 'up'}; owed jobs ${owed}; ` +
          `FerretDB ping ${pingMs} ms; CPU % ${Object.entries(cpu)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}; readyz ${sample.ready}`,
      );
    }
  })();
  return async () => {
    stop = true;
    await done;
  };
}

// ---------------------------------------------------------------------------
// Settling and the report

const ORDER_FIELDS = {
  checkoutId: 1,
  'customer.id': 1,
  'seller.id': 1,
  idempotencyKey: 1,
  items: 1,
  shortItems: 1,
  status: 1,
  inventoryStatus: 1,
  createdAt: 1,
} as const;

/**
 * The orders with their inventory outcomes merged in: the worker records a
 * reduction's outcome in `inventoryoutcomes` (order-flow/inventory-outcome.ts),
 * and the order says `pending` until its next write.
 */
async function ordersWithOutcomes(db: Db, projection: Record<string, 1>) {
  const [orders, outcomes] = await Promise.all([
    db.collection('orders').find({}, { projection }).toArray(),
    db.collection('inventoryoutcomes').find({}).toArray(),
  ]);
  const byOrder = new Map(outcomes.map((o) => [idOf(o._id), o]));
  return orders.map((order) => {
    const outcome = byOrder.get(idOf(order._id));
    return order.inventoryStatus === 'pending' && outcome
      ? { ...order, inventoryStatus: outcome.status, shortItems: outcome.shortItems }
      : order;
  });
}

async function unsettled(db: Db) {
  const owed = await db.collection('owedjobs').find({}).toArray();
  const orders = await ordersWithOutcomes(db, { status: 1, inventoryStatus: 1 });
  const pending = orders.filter((o) => o.inventoryStatus === 'pending');
  const notRestored = orders.filter((o) => o.status === 'cancelled' && o.inventoryStatus !== 'restored');
  return { owed, orders: orders.length, pending, notRestored };
}

async function settle(db: Db) {
  const started = Date.now();
  let last = await unsettled(db).catch(() => undefined);
  while (Date.now() - started < settings.settleMs) {
    if (last && !last.owed.length && !last.pending.length && !last.notRestored.length) {
      return { settledAfterMs: Date.now() - started, state: last };
    }
    say(
      `settling ${((Date.now() - started) / 1000).toFixed(0)} s: ${last?.owed.length ?? '?'} owed jobs, ` +
        `${last?.pending.length ?? '?'} orders pending inventory, ${last?.notRestored.length ?? '?'} cancelled not restored`,
    );
    await sleep(3_000);
    last = await unsettled(db).catch(() => last);
  }
  return { settledAfterMs: undefined, state: last ?? (await unsettled(db)) };
}

interface LogSummary {
  stalled: number;
  reconcilerLines: number;
  reconciled: { added: number; retried: number; abandoned: number };
  byLevel: Map<string, Map<string, { count: number; example: string }>>;
  nonJson: Map<string, { count: number; example: string }>;
}

function readLogs(): LogSummary {
  const summary: LogSummary = {
    stalled: 0,
    reconcilerLines: 0,
    reconciled: { added: 0, retried: 0, abandoned: 0 },
    byLevel: new Map(),
    nonJson: new Map(),
  };
  const levels: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };
  for (const slot of slots) {
    let text = '';
    try {
      text = readFileSync(slot.logFile, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      if (line.includes('stalled more than allowable limit')) summary.stalled++;
      let entry: Record<string, any>;
      try {
        entry = JSON.parse(line);
      } catch {
        const key = `${slot.role}: ${line.slice(0, 160)}`;
        const seen = summary.nonJson.get(key) ?? { count: 0, example: line.slice(0, 400) };
        seen.count++;
        summary.nonJson.set(key, seen);
        continue;
      }
      if (entry.msg === 'reconciler re-sent owed work') {
        summary.reconcilerLines++;
        summary.reconciled.added += Number(entry.added ?? 0);
        summary.reconciled.retried += Number(entry.retried ?? 0);
        summary.reconciled.abandoned += Number(entry.abandoned ?? 0);
      }
      const level = levels[Number(entry.level)];
      if (!level) continue;
      const err = String(entry.err?.message ?? entry.err ?? '').replace(/[0-9a-f]{24}/g, '<id>');
      const key = `${slot.role}: ${entry.msg}${err ? ` — ${err.slice(0, 140)}` : ''}${entry.queue ? ` [${entry.queue}${entry.job ? `:${entry.job}` : ''}]` : ''}`;
      const perLevel = summary.byLevel.get(level) ?? new Map();
      const seen = perLevel.get(key) ?? { count: 0, example: line.slice(0, 600) };
      seen.count++;
      perLevel.set(key, seen);
      summary.byLevel.set(level, perLevel);
    }
  }
  return summary;
}

/** The log lines that name an order (job ids carry it), as `t=…s role: message [job]`, for the slow-notification table. */
function logLinesAbout(orderId: string): string {
  const found: string[] = [];
  for (const slot of slots) {
    let text = '';
    try {
      text = readFileSync(slot.logFile, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.includes(orderId)) continue;
      try {
        const entry = JSON.parse(line) as Record<string, any>;
        found.push(`t=${since(Number(entry.time))}s ${slot.name}: ${entry.msg}${entry.job ? ` [${entry.job}]` : ''}`);
      } catch {
        found.push(`${slot.name}: ${line.slice(0, 80)}`);
      }
    }
  }
  return found.slice(0, 6).join('; ').replace(/\|/g, '\\|') || '–';
}

const table = (head: Array<string | number>, rows: Array<Array<string | number>>) =>
  [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
const latencyRow = (name: string, samples: number[]) => {
  const l = summarize(samples);
  return [name, l.count, ms(l.p50), ms(l.p95), ms(l.max)];
};
const idOf = (value: unknown) => String(value);

async function buildReport(
  db: Db,
  seeded: Seeded,
  settled: Awaited<ReturnType<typeof settle>>,
  timing: { loadMs: number; drainMs: number; runMs: number },
): Promise<{ markdown: string; problems: string[] }> {
  const problems: string[] = [];
  const orders = await ordersWithOutcomes(db, ORDER_FIELDS);
  const notifications = await db
    .collection('notifications')
    .find({ type: 'order_notification' }, { projection: { orderId: 1, recipientId: 1, createdAt: 1 } })
    .toArray();
  const moves = await db.collection('inventorymoves').find({}).toArray();
  const products = await db.collection('products').find({}).toArray();
  const keysLeft = await db.collection('idempotencyrecords').countDocuments({ status: 'processing' });

  // Checkouts and cancels, as the client saw them.
  const answered = checkouts.filter((c) => c.outcome);
  const by = (outcome: Outcome) => checkouts.filter((c) => c.outcome === outcome);
  const placed = by('placed');
  const clientOrderIds = new Set(placed.flatMap((c) => c.orderIds));
  const cancelled = cancels.filter((c) => c.outcome === 'cancelled');
  const retried = answered.filter((c) => c.attempts > 1);

  // Orders as stored.
  const orderById = new Map(orders.map((o) => [idOf(o._id), o]));
  const dbCancelled = orders.filter((o) => o.status === 'cancelled');
  const lost = [...clientOrderIds].filter((id) => !orderById.has(id));
  if (lost.length)
    problems.push(`${lost.length} orders answered 201 are not in the database: ${lost.slice(0, 5).join(', ')}`);
  const notCancelled = cancelled.filter((c) => orderById.get(c.orderId)?.status !== 'cancelled');
  if (notCancelled.length) problems.push(`${notCancelled.length} orders whose cancel got 200 are not cancelled`);

  // Duplicates per idempotency key: more orders (or checkouts) stored for a key than the one checkout it names.
  const checkoutByKey = new Map(checkouts.map((c) => [c.key, c]));
  const perKey = new Map<string, typeof orders>();
  for (const order of orders) {
    const key = `${idOf(order.customer?.id)}|${order.idempotencyKey ?? '(none)'}`;
    perKey.set(key, [...(perKey.get(key) ?? []), order]);
  }
  let duplicateOrders = 0;
  const duplicateKeys: string[] = [];
  const duplicateStories: string[] = [];
  const storedAnyway = { keys: 0, orders: 0 };
  const orphans: Array<{ key: string; outcome: string; orders: number }> = [];
  for (const [key, group] of perKey) {
    const idempotencyKey = key.split('|')[1]!;
    const checkout = checkoutByKey.get(idempotencyKey);
    const byCheckout = new Map<string, typeof orders>();
    for (const o of group) byCheckout.set(String(o.checkoutId), [...(byCheckout.get(String(o.checkoutId)) ?? []), o]);
    const sellers = new Set(group.map((o) => idOf(o.seller?.id)));
    const extra = group.length - (checkout?.sellers ?? sellers.size);
    if (extra > 0 || byCheckout.size > 1) {
      duplicateOrders += Math.max(extra, 0);
      duplicateKeys.push(`${idempotencyKey}: ${group.length} orders in ${byCheckout.size} checkouts`);
      if (duplicateStories.length < 6) {
        const stored = [...byCheckout]
          .map(
            ([id, list]) =>
              `checkout ${id.slice(0, 8)}: ${list.length} orders created at ` +
              list.map((o) => `t=${since(new Date(o.createdAt).getTime())}s`).join('/'),
          )
          .join('; ');
        const trail = (checkout?.trail ?? [])
          .map((a) => `${a.api} t=${since(a.at)}s → ${a.answer} after ${(a.ms / 1000).toFixed(1)} s`)
          .join(', ');
        duplicateStories.push(
          `- \`${idempotencyKey}\` (client: ${checkout?.outcome ?? 'unknown'}): stored ${stored}. Attempts: ${trail || '–'}`,
        );
      }
    }
    if (!checkout) orphans.push({ key: idempotencyKey, outcome: 'unknown key', orders: group.length });
    else if (checkout.outcome === 'gave-up') {
      // Ambiguous by nature: the client stopped asking, the system may well have finished it.
      storedAnyway.keys++;
      storedAnyway.orders += group.length;
    } else if (checkout.outcome !== 'placed')
      orphans.push({
        key: idempotencyKey,
        outcome: `${checkout.outcome} ${checkout.status ?? checkout.detail ?? ''}`,
        orders: group.length,
      });
    else {
      const answeredIds = new Set(checkout.orderIds);
      const unanswered = group.filter((o) => !answeredIds.has(idOf(o._id)));
      if (unanswered.length)
        orphans.push({ key: idempotencyKey, outcome: 'placed, and more orders', orders: unanswered.length });
    }
  }
  if (duplicateOrders || duplicateKeys.length)
    problems.push(`${duplicateOrders} duplicate orders over ${duplicateKeys.length} idempotency keys`);
  if (orphans.length) problems.push(`${orphans.length} keys with stored orders other than the answer the client got`);

  // Stuck after the settle wait.
  const stuckPending = settled.state.pending.map((o) => idOf(o._id));
  const stuckCancelled = settled.state.notRestored.map((o) => idOf(o._id));
  const owedLeft = settled.state.owed;
  if (stuckPending.length) problems.push(`${stuckPending.length} orders still pending inventory`);
  if (stuckCancelled.length) problems.push(`${stuckCancelled.length} cancelled orders not restored`);
  if (owedLeft.length) problems.push(`${owedLeft.length} owed jobs left`);

  // Seller notifications: exactly one per order, to its seller.
  const notesByOrder = new Map<string, typeof notifications>();
  for (const note of notifications) {
    const id = idOf(note.orderId);
    notesByOrder.set(id, [...(notesByOrder.get(id) ?? []), note]);
  }
  const noNote = orders.filter((o) => !notesByOrder.has(idOf(o._id)));
  const manyNotes = orders.filter((o) => (notesByOrder.get(idOf(o._id))?.length ?? 0) > 1);
  const wrongRecipient = orders.filter((o) =>
    (notesByOrder.get(idOf(o._id)) ?? []).some((n) => idOf(n.recipientId) !== idOf(o.seller?.id)),
  );
  const strayNotes = notifications.filter((n) => !orderById.has(idOf(n.orderId)));
  if (noNote.length) problems.push(`${noNote.length} orders without an order_notification`);
  if (manyNotes.length) problems.push(`${manyNotes.length} orders with more than one order_notification`);
  if (wrongRecipient.length)
    problems.push(`${wrongRecipient.length} orders notified to someone else than their seller`);

  // Notification lateness: first notification − order creation.
  const lateness = (list: typeof orders) =>
    list.flatMap((o) => {
      const notes = notesByOrder.get(idOf(o._id));
      if (!notes?.length) return [];
      const first = Math.min(...notes.map((n) => new Date(n.createdAt).getTime()));
      return [first - new Date(o.createdAt).getTime()];
    });
  const returnedAt = redisOutage.returnedAt;
  const beforeReturn = returnedAt
    ? orders.filter((o) => {
        const t = new Date(o.createdAt).getTime();
        return t >= returnedAt - 30_000 && t < returnedAt;
      })
    : [];
  const duringOutage =
    returnedAt && redisOutage.stoppedAt
      ? orders.filter((o) => {
          const t = new Date(o.createdAt).getTime();
          return t >= redisOutage.stoppedAt! && t < returnedAt;
        })
      : [];
  // Of those, the ones whose seller was told only after Redis came back: how long after.
  const afterReturnNotified = returnedAt
    ? beforeReturn.flatMap((o) => {
        const notes = notesByOrder.get(idOf(o._id));
        const first = notes?.length ? Math.min(...notes.map((n) => new Date(n.createdAt).getTime())) : undefined;
        return first !== undefined && first >= returnedAt ? [first - returnedAt] : [];
      })
    : [];

  // Stock: initial − Σ reduce + Σ restore, and never below zero; and each order's own ledger lines.
  const stockRows = seeded.products.map((p) => {
    const stored = products.find((x) => idOf(x._id) === p.id);
    const mine = moves.filter((m) => idOf(m.productId) === p.id);
    const reduced = mine.filter((m) => m.kind === 'reduce').reduce((s, m) => s + Number(m.quantity), 0);
    const restored = mine.filter((m) => m.kind === 'restore').reduce((s, m) => s + Number(m.quantity), 0);
    const expected = p.stock - reduced + restored;
    const actual = Number(stored?.stock);
    // A batch left half done (`intendedMoves`, `pendingMove`) would be finished by the next writer; at the end there must be none.
    const leftover = stored?.pendingMove ?? stored?.intendedMoves;
    const ok = actual === expected && actual >= 0 && !leftover;
    if (!ok) {
      problems.push(
        `stock of ${p.sku}: ${actual}, ledger says ${expected}${leftover ? ` (left half done: ${JSON.stringify(leftover)})` : ''}`,
      );
    }
    return [
      p.sku + (p.scarce ? ' (short)' : ''),
      seeded.sellers[p.seller]!.name,
      p.stock,
      reduced,
      restored,
      expected,
      actual,
      stored?.pendingMove ? 'set' : '–',
      ok ? 'ok' : '**MISMATCH**',
    ];
  });
  const ledgerMismatches: string[] = [];
  for (const order of orders) {
    const id = idOf(order._id);
    const mine = moves.filter((m) => idOf(m.orderId) === id);
    const reducedLines = mine.filter((m) => m.kind === 'reduce');
    const restoredLines = mine.filter((m) => m.kind === 'restore');
    const short = new Set((order.shortItems ?? []).map((s: { productId: unknown }) => idOf(s.productId)));
    const taken = (order.items as Array<{ productId: unknown; quantity: number }>).filter(
      (it) => !short.has(idOf(it.productId)),
    );
    // A short line a retry took after a restock is given back at once (inventory.service.ts).
    const givenBack = new Set(restoredLines.map((m) => idOf(m.productId)).filter((p) => short.has(p)));
    const expectReduced =
      order.inventoryStatus === 'pending' ? [] : taken.map((it) => `${idOf(it.productId)}:${it.quantity}`).sort();
    const gotReduced = reducedLines
      .filter((m) => !givenBack.has(idOf(m.productId)))
      .map((m) => `${idOf(m.productId)}:${m.quantity}`)
      .sort();
    const restoreOk =
      order.inventoryStatus === 'restored'
        ? restoredLines.length === reducedLines.length
        : restoredLines.length === givenBack.size;
    if (order.inventoryStatus !== 'pending' && (expectReduced.join() !== gotReduced.join() || !restoreOk)) {
      ledgerMismatches.push(
        `${id} (${order.status}/${order.inventoryStatus}): reduced ${gotReduced.join(' ')}, restored ${restoredLines.length}`,
      );
    }
  }
  if (ledgerMismatches.length)
    problems.push(`${ledgerMismatches.length} orders whose ledger lines disagree with their items`);
  if (keysLeft) problems.push(`${keysLeft} idempotency keys still 'processing'`);

  const logs = readLogs();
  const crashes = slots.flatMap((s) =>
    s.crashes.map((c) => `${s.name} at t=${since(c.at)}s (code ${c.code}, signal ${c.signal})`),
  );
  if (crashes.length) problems.push(`${crashes.length} processes exited on their own`);
  const kills = (role: Role) => slots.filter((s) => s.role === role).reduce((sum, s) => sum + s.kills, 0);
  const count = (status: string) => orders.filter((o) => o.inventoryStatus === status).length;
  const checkoutLatency = answered.map((c) => c.answeredAt! - c.sentAt!);
  const logRows = (level: string) =>
    [...(logs.byLevel.get(level) ?? new Map<string, { count: number; example: string }>())]
      .sort((a, b) => b[1].count - a[1].count)
      .slice(0, 25)
      .map(([key, { count: n }]) => [n, `\`${key.replace(/\|/g, '\\|').replace(/`/g, "'")}\``]);
  const outcomeDetails = (list: Array<{ outcome?: string; status?: number; detail?: string }>, outcome: string) => {
    const counts = new Map<string, number>();
    for (const c of list.filter((x) => x.outcome === outcome)) {
      const key = `${c.status ?? ''} ${(c.detail ?? '').replace(/\d+ left, \d+ ordered/, 'n left, m ordered')}`.trim();
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].map(([k, n]) => `${n}× ${k}`).join('; ') || '–';
  };

  const md = [
    `# Chaos run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC${quick ? ' (quick)' : ''}`,
    '',
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; FerretDB (SQLite), ` +
      'redis-server without persistence, 2 API and 2 worker processes and this load generator all share it. ' +
      `Settings: ${settings.checkouts} checkouts over ${settings.seconds} s, ${settings.customers} customers, 3 sellers, 6 products; ` +
      `a random API or worker killed with SIGKILL every ${settings.killEveryMs.join('–')} ms and restarted after ${settings.restartAfterMs.join('–')} ms; ` +
      `Redis stopped once for ${settings.redisOutageMs / 1000} s. Load ${(timing.loadMs / 1000).toFixed(0)} s, last answers ${(timing.drainMs / 1000).toFixed(0)} s later; ` +
      `settle wait with 1 API and 2 workers: ${settled.settledAfterMs === undefined ? `**not settled within ${settings.settleMs / 1000} s**` : `${(settled.settledAfterMs / 1000).toFixed(0)} s`}; whole run ${(timing.runMs / 1000).toFixed(0)} s.`,
    '',
    `Code under test (copied at the start): ${codeVersion}.`,
    '',
    '## Verdict',
    '',
    problems.length
      ? problems.map((p) => `- **${p}**`).join('\n')
      : '- Nothing wrong found: every order settled, once.',
    '',
    '## Load and faults',
    '',
    table(
      ['what', 'count', 'detail'],
      [
        [
          'checkouts attempted',
          checkouts.length,
          `${checkouts.filter((c) => c.sellers === 2).length} over two sellers`,
        ],
        [
          'checkouts placed (201)',
          placed.length,
          `${retried.filter((c) => c.outcome === 'placed').length} of them needed more than one attempt`,
        ],
        ['checkouts refused (409, final)', by('refused').length, outcomeDetails(checkouts, 'refused')],
        ['checkouts rejected (other 4xx)', by('rejected').length, outcomeDetails(checkouts, 'rejected')],
        ['checkouts given up (retries exhausted)', by('gave-up').length, outcomeDetails(checkouts, 'gave-up')],
        ['checkouts unanswered at the end', checkouts.length - answered.length, ''],
        [
          'attempts per checkout',
          `max ${Math.max(0, ...answered.map((c) => c.attempts))}`,
          `${retried.length} checkouts retried`,
        ],
        ['orders answered (201 bodies)', clientOrderIds.size, `${orders.length} in the database`],
        [
          'orders by inventoryStatus',
          orders.length,
          `${count('reduced')} reduced, ${count('short')} short, ${count('restored')} restored, ${count('pending')} pending`,
        ],
        [
          'cancels sent',
          cancels.length,
          `${cancelled.length} cancelled (200); refused: ${outcomeDetails(cancels, 'refused')}; rejected: ${outcomeDetails(cancels, 'rejected')}; given up: ${outcomeDetails(cancels, 'gave-up')}`,
        ],
        ['orders cancelled in the database', dbCancelled.length, ''],
        ['kills (SIGKILL)', kills('api') + kills('worker'), `${kills('api')} APIs, ${kills('worker')} workers`],
        ['processes that exited on their own', crashes.length, crashes.join('; ') || '–'],
        [
          'Redis outage',
          redisOutage.returnedAt ? 1 : 0,
          redisOutage.returnedAt
            ? `stopped at t=${since(redisOutage.stoppedAt!)}s, back at t=${since(redisOutage.returnedAt)}s (${((redisOutage.returnedAt - redisOutage.stoppedAt!) / 1000).toFixed(1)} s); ` +
              `${redisOutage.keysBefore ?? '?'} keys before, ${redisOutage.keysAfter ?? '?'} right after its return`
            : 'did not happen',
        ],
      ],
    ),
    '',
    'Every attempt, by answer (a kill shows as a lost connection; `busy` is a 409 with Retry-After):',
    '',
    table(
      ['request → answer', 'count'],
      [...attemptCounts].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, n]),
    ),
    '',
    '## After the settle wait',
    '',
    table(
      ['check', 'count', 'detail'],
      [
        ['orders still pending inventory (STUCK)', stuckPending.length, stuckPending.slice(0, 10).join(', ') || '–'],
        ['cancelled orders not restored (STUCK)', stuckCancelled.length, stuckCancelled.slice(0, 10).join(', ') || '–'],
        [
          'owed work left (`owedjobs`)',
          owedLeft.length,
          (() => {
            // Work owed for an order that was never written (its writer died between the two
            // writes) is dropped by the reconciler only after RECONCILE_ABANDON_MS (10 min).
            const missing = new Set(
              owedLeft.filter((o) => !orderById.has(idOf(o.orderId))).map((o) => idOf(o.orderId)),
            );
            const owedOrders = new Set(owedLeft.map((o) => idOf(o.orderId)));
            return (
              `${owedOrders.size} orders, ${missing.size} of them not in the database: ` +
              (owedLeft
                .slice(0, 10)
                .map((o) => `${o._id} (resends ${o.resends})`)
                .join(', ') || '–')
            );
          })(),
        ],
        ['idempotency keys still processing', keysLeft, ''],
        [
          'orders without an `order_notification`',
          noNote.length,
          noNote
            .slice(0, 10)
            .map((o) => idOf(o._id))
            .join(', ') || '–',
        ],
        [
          'orders with more than one `order_notification`',
          manyNotes.length,
          manyNotes
            .slice(0, 10)
            .map((o) => idOf(o._id))
            .join(', ') || '–',
        ],
        ['notifications to someone other than the seller', wrongRecipient.length, ''],
        ['`order_notification`s of unknown orders', strayNotes.length, ''],
        ['duplicate orders per idempotency key', duplicateOrders, duplicateKeys.slice(0, 10).join('; ') || '–'],
        [
          'keys with stored orders other than the answer the client got',
          orphans.length,
          orphans
            .slice(0, 10)
            .map((o) => `${o.key} (${o.outcome}, ${o.orders} orders)`)
            .join('; ') || '–',
        ],
        [
          'checkouts the client gave up on whose orders were stored anyway',
          storedAnyway.keys,
          `${storedAnyway.orders} orders (the client cannot tell; listed, not counted as a problem)`,
        ],
        ['orders answered 201 but not stored', lost.length, lost.slice(0, 10).join(', ') || '–'],
        [
          'orders whose ledger lines disagree with their items',
          ledgerMismatches.length,
          ledgerMismatches.slice(0, 5).join('; ') || '–',
        ],
      ],
    ),
    '',
    ...(duplicateStories.length
      ? [
          'Duplicate checkouts, the first few (times from the start of the load; attempts as the client made them):',
          '',
          ...duplicateStories,
          '',
        ]
      : []),
    '### Stock per product: initial − Σ reduce + Σ restore (`inventorymoves`)',
    '',
    table(['product', 'seller', 'initial', 'Σ reduce', 'Σ restore', 'expected', 'stock', 'pendingMove', ''], stockRows),
    '',
    '## Latencies (ms)',
    '',
    "Seller notification lateness is the first `order_notification`'s `createdAt` minus the order's `createdAt`.",
    '',
    table(
      ['what', 'n', 'p50', 'p95', 'max'],
      [
        latencyRow('seller notification, every order', lateness(orders)),
        latencyRow('seller notification, orders placed in the 30 s before Redis returned', lateness(beforeReturn)),
        latencyRow('seller notification, orders placed while Redis was down', lateness(duringOutage)),
        latencyRow('those 30 s, notified only after Redis returned: time after its return', afterReturnNotified),
        latencyRow('checkout, first send to final answer (all)', checkoutLatency),
        latencyRow(
          'checkout, placed',
          placed.map((c) => c.answeredAt! - c.sentAt!),
        ),
        latencyRow(
          'checkout, placed at the first attempt',
          placed.filter((c) => c.attempts === 1).map((c) => c.answeredAt! - c.sentAt!),
        ),
        latencyRow(
          'checkout, placed after retries',
          placed.filter((c) => c.attempts > 1).map((c) => c.answeredAt! - c.sentAt!),
        ),
      ],
    ),
    '',
    'The 10 latest seller notifications (times from the start of the load; compare with the faults below):',
    '',
    table(
      ['order', 'placed at', 'notified at', 'late by ms', 'status/inventory', 'log lines naming the order'],
      orders
        .flatMap((o) => {
          const notes = notesByOrder.get(idOf(o._id));
          if (!notes?.length) return [];
          const notified = Math.min(...notes.map((n) => new Date(n.createdAt).getTime()));
          return [{ o, notified, late: notified - new Date(o.createdAt).getTime() }];
        })
        .sort((a, b) => b.late - a.late)
        .slice(0, 10)
        .map(({ o, notified, late }) => [
          idOf(o._id),
          `t=${since(new Date(o.createdAt).getTime())}s`,
          `t=${since(notified)}s`,
          late,
          `${o.status}/${o.inventoryStatus}`,
          logLinesAbout(idOf(o._id)),
        ]),
    ),
    '',
    '## Worker and API logs',
    '',
    `- Jobs failed with "stalled more than allowable limit": **${logs.stalled}** log lines.`,
    `- Reconciler passes that re-sent work ('reconciler re-sent owed work'): **${logs.reconcilerLines}** lines; ` +
      `${logs.reconciled.added} jobs added again, ${logs.reconciled.retried} retried, ${logs.reconciled.abandoned} abandoned.`,
    '',
    ...(['fatal', 'error', 'warn'] as const).flatMap((level) => {
      const rows = logRows(level);
      return rows.length
        ? [`${level} lines (up to 25 kinds):`, '', table(['count', 'role: message — error [queue:job]'], rows), '']
        : [`No ${level} lines.`, ''];
    }),
    ...(logs.nonJson.size
      ? [
          'Output that is not a JSON log line:',
          '',
          table(
            ['count', 'line'],
            [...logs.nonJson]
              .sort((a, b) => b[1].count - a[1].count)
              .slice(0, 15)
              .map(([k, v]) => [v.count, `\`${k.replace(/\|/g, '\\|').replace(/`/g, "'")}\``]),
          ),
          '',
        ]
      : []),
    '## Timeline (every 10 s)',
    '',
    'CPU in % of one core over the interval; FerretDB ping and `/readyz` as seen from this script.',
    '',
    table(
      [
        't (s)',
        'faults',
        'sent',
        'answered',
        'placed',
        'refused',
        'gave up',
        'owed',
        'ping ms',
        'CPU FerretDB',
        'APIs',
        'workers',
        'Redis',
        'chaos',
        'readyz',
      ],
      timeline.map((x) => [
        since(x.at),
        x.events || '–',
        x.sent,
        x.answered,
        x.placed,
        x.refused,
        x.gaveUp,
        x.owed,
        x.pingMs,
        x.cpu.ferretdb,
        x.cpu.apis,
        x.cpu.workers,
        x.cpu.redis,
        x.cpu.chaos,
        x.ready,
      ]),
    ),
    '',
    '## Faults, in order',
    '',
    faultLog.map((f) => `t=${since(f.at)}s ${f.what}`).join(' · '),
    '',
  ].join('\n');
  return { markdown: md, problems };
}

// ---------------------------------------------------------------------------
// The run

async function main() {
  const runStarted = Date.now();
  say(`temporary directory ${dir}`);
  codeVersion = snapshotCode();
  say(`code under test: ${codeVersion}`);
  mongo = ferretDB({ port: await freePort(), dataDir: join(dir, 'ferretdb') });
  redis = redisServer({ port: await freePort(), dataDir: join(dir, 'redis') });
  await Promise.all([mongo.start(), redis.start()]);
  const mongoUrl = `${mongo.url.replace(/\/orders$/, '')}/chaos`;
  env = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    JWT_SECRET: 'chaos-secret-chaos-secret-chaos-secret-1234',
    ADMIN_EMAIL: 'admin@chaos.local',
    ADMIN_PASSWORD: 'chaos-admin-password',
    PASSWORD_HASH_COST: '10',
    MONGODB_URI: mongoUrl,
    REDIS_URL: redis.url,
    RATE_LIMIT_PER_IP_PER_MINUTE: '100000000',
    RATE_LIMIT_AUTH_PER_MINUTE: '100000000',
    RATE_LIMIT_ORDERS_PER_MINUTE: '100000000',
  };
  for (const n of [1, 2]) {
    slots.push({
      role: 'api',
      n,
      name: `api-${n}`,
      entry: 'src/index.ts',
      port: await freePort(),
      logFile: join(logDir, `api-${n}.log`),
      expectingExit: false,
      restartPending: false,
      retired: false,
      starts: 0,
      kills: 0,
      crashes: [],
    });
  }
  for (const n of [1, 2]) {
    slots.push({
      role: 'worker',
      n,
      name: `worker-${n}`,
      entry: 'workers/index.ts',
      logFile: join(logDir, `worker-${n}.log`),
      expectingExit: false,
      restartPending: false,
      retired: false,
      starts: 0,
      kills: 0,
      crashes: [],
    });
  }
  // The first API creates the indexes and the admin; the rest join once it is ready.
  spawnSlot(apis()[0]!);
  const ready = async (slot: Slot) => {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const answer = await request(apiBase(slot), 'GET', '/readyz');
      if ('status' in answer && answer.status === 200) return;
      await sleep(250);
    }
    throw new Error(`${slot.name} not ready within 90 s; see ${slot.logFile}`);
  };
  await ready(apis()[0]!);
  for (const slot of slots.slice(1)) spawnSlot(slot);
  await ready(apis()[1]!);
  say(`FerretDB ${mongo.url}, Redis ${redis.url}, APIs ${apis().map(apiBase).join(' ')}, 2 workers`);

  const seeded = await seed();
  say(
    `seeded 3 sellers, ${seeded.products.length} products (short: ${seeded.products
      .filter((p) => p.scarce)
      .map((p) => `${p.sku}=${p.stock}`)
      .join(', ')}), ${seeded.customers.length} customers`,
  );

  let stopSampling: (() => Promise<void>) | undefined;
  const client = new MongoClient(mongoUrl, { directConnection: true, serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  const db = client.db();
  try {
    for (let i = 0; i < settings.checkouts; i++) {
      const { body, sellers } = checkoutBody(seeded.products);
      checkouts.push({
        i,
        key: randomUUID(),
        customer: i % seeded.customers.length,
        body,
        sellers,
        attempts: 0,
        orderIds: [],
        trail: [],
      });
    }
    loadStartedWall = Date.now();
    const loadStarted = performance.now();
    const loadEnds = loadStartedWall + settings.seconds * 1000;
    const interval = (settings.seconds * 1000) / settings.checkouts;
    say(`load: ${settings.checkouts} checkouts over ${settings.seconds} s, with faults`);
    const faultRun = faults(loadEnds);

    stopSampling = sampler(db);

    for (const checkout of checkouts) {
      if (shuttingDown) return;
      await sleep(loadStartedWall + (checkout.i + Math.random()) * interval - Date.now());
      track(runCheckout(checkout, seeded));
    }
    await faultRun;
    const loadMs = performance.now() - loadStarted;
    say(`faults stopped at t=${since(Date.now())}s; waiting for restarts and the last answers…`);
    while (restarts.size) await Promise.all([...restarts]);
    while (pendingWork.size) await Promise.all([...pendingWork]);
    const drainMs = performance.now() - loadStarted - loadMs;
    if (shuttingDown) return;

    // Settle with 1 API and 2 workers.
    await stopSlot(apis()[1]!);
    for (const slot of slots) {
      if (!slot.retired && !slot.child) spawnSlot(slot);
    }
    await ready(apis()[0]!);
    say(
      `load done at t=${since(Date.now())}s; api-2 stopped; waiting up to ${settings.settleMs / 1000} s for everything to settle…`,
    );
    const settled = await settle(db);
    await stopSampling();
    say(
      settled.settledAfterMs === undefined
        ? 'NOT settled within the wait'
        : `settled ${(settled.settledAfterMs / 1000).toFixed(0)} s after the load`,
    );
    // A few seconds more, so a notification or move that lags its owed entry is counted.
    await sleep(3_000);
    const { markdown, problems } = await buildReport(db, seeded, settled, {
      loadMs,
      drainMs,
      runMs: Date.now() - runStarted,
    });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, markdown);
    if (values['keep-logs']) {
      const kept = out.replace(/\.md$/, '-logs');
      rmSync(kept, { recursive: true, force: true });
      cpSync(logDir, kept, { recursive: true });
      say(`logs copied to ${kept}`);
    }
    process.stdout.write(`${markdown}\n`);
    say(`report written to ${out}`);
    say(problems.length ? `${problems.length} problems found` : 'no problems found');
  } finally {
    void stopSampling?.();
    await client.close().catch(() => {});
  }
}

// Bounded whatever happens: the load, the settle wait and the report, with room to spare.
const hardLimitMs = (settings.seconds + settings.settleMs / 1000 + settings.maxRetryMs / 1000 + 300) * 1000;
const hardLimit = setTimeout(() => {
  say(`still running after ${hardLimitMs / 1000} s: giving up`);
  void cleanup().finally(() => process.exit(1));
}, hardLimitMs);
hardLimit.unref();

try {
  await main();
  await cleanup();
  process.exit(0);
} catch (error) {
  say(`failed: ${(error as Error).stack ?? String(error)}`);
  await cleanup();
  process.exit(1);
}
