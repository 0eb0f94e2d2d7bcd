import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/env.js';
import { SellerEmail, type SellerEmailDoc } from '../src/features/email/seller-email.model.js';
import { freePort, mailServer, redisServer, type ManagedService } from '../scripts/embedded-services.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { mailStatus, mailTo } from './helpers/mail.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { eventually, runEntry, type RunningProcess } from './helpers/processes.js';
import { startTestApi, testEnv, type TestApi } from './helpers/system.js';

/**
 * Seller emails through faults, with real processes: an SMTP server that is
 * down, then answers 451, while Redis restarts empty; and two worker
 * processes, one killed with SIGKILL while it is sending. Each time the
 * seller gets the email once. This file has its own Redis (restarted) and its
 * own mail server (stopped and started again on the same ports).
 */

const ports = { smtpPort: 0, webPort: 0 };
let dir: string;
let redis: ManagedService;
let mail: ManagedService & { webUrl: string };
let env: Record<string, string>;
let api: TestApi;
let http: HttpClient;
let admin: Actor;
let customer: Actor;
const workers: RunningProcess[] = [];

/** The mail server on the same ports as before, with other manners. */
async function restartMail(options: { tempFailures?: number; holdMs?: number } = {}) {
  await mail?.stop();
  mail = mailServer({ ...ports, ...options });
  await mail.start();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orders-email-'));
  redis = redisServer({ port: await freePort(), dataDir: dir });
  await redis.start();
  Object.assign(ports, { smtpPort: await freePort(), webPort: await freePort() });
  await restartMail();
  env = testEnv({
    REDIS_URL: redis.url,
    SMTP_URL: `smtp://127.0.0.1:${ports.smtpPort}`,
    LOG_LEVEL: 'warn',
    SELLER_EMAIL_AFTER_SECONDS: '1',
    SELLER_EMAIL_CHECK_INTERVAL_MS: '200',
    RECONCILE_GRACE_MS: '500',
    RECONCILE_INTERVAL_MS: '250',
  });
  // The API in this process (the test reads the database through its connection); workers as processes.
  api = await startTestApi(parseConfig(env));
  workers.push(runEntry('workers/index.ts', env), runEntry('workers/index.ts', env));
  http = httpClient(api.url);
  admin = await loginAdmin(http);
  customer = await registerCustomer(http);
}, 90_000);

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
  await api?.close();
  await mail?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function offlineSellerOrder() {
  const seller = await createActor(http, admin, 'seller');
  const product = await createProduct(http, seller);
  const res = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 1 }]), {
    token: customer.token,
  });
  expect(res.status).toBe(201);
  return { seller, order: res.body.orders[0] as { id: string; orderNumber: string } };
}

const emailOf = (seller: Actor) => SellerEmail.findOne({ sellerId: seller.id }).lean<SellerEmailDoc>();

describe('seller emails through faults', () => {
  it('SMTP down (and Redis restarted empty meanwhile), then 451: the email arrives once it answers, once', async () => {
    await mail.stop();
    const { seller, order } = await offlineSellerOrder();

    // The intent is recorded and sending is retried while nothing answers.
    await eventually(async () => {
      const email = await emailOf(seller);
      expect(email).toMatchObject({ state: 'sending', error: expect.stringContaining('ECONNREFUSED') });
      expect(email!.attempts).toBeGreaterThanOrEqual(2);
    }, 30_000);

    // Redis loses every job meanwhile: the sweep queues the email again from the database.
    await redis.stop();
    await redis.start();

    await restartMail({ tempFailures: 1 });
    const [received] = await eventually(async () => {
      const mails = await mailTo(mail.webUrl, seller.email);
      expect(mails).toHaveLength(1);
      return mails;
    }, 60_000);
    expect(received!.subject).toContain(order.orderNumber);
    expect((await mailStatus(mail.webUrl)).tempFailed).toBe(1);
    const email = await eventually(async () => {
      const recorded = await emailOf(seller);
      expect(recorded?.state).toBe('sent');
      return recorded!;
    });
    expect(received!.messageId).toBe(email.messageId);
    expect(email.attempts).toBeGreaterThanOrEqual(4);
    expect(email.error).toBeUndefined();

    // Later passes send nothing more: another seller's email comes and goes meanwhile.
    const later = await offlineSellerOrder();
    await eventually(async () => expect(await mailTo(mail.webUrl, later.seller.email)).toHaveLength(1), 30_000);
    expect(await mailTo(mail.webUrl, seller.email)).toHaveLength(1);
  }, 150_000);

  it('two workers, the sending one killed with SIGKILL mid-send: the other sends the same email, and it arrives once', async () => {
    // Each message waits 3 s before the server accepts it; one whose sender died meanwhile is never accepted.
    await restartMail({ holdMs: 3_000 });
    const { seller, order } = await offlineSellerOrder();

    await eventually(async () => expect((await mailStatus(mail.webUrl)).holding).toBe(1), 30_000);
    const sending = await emailOf(seller);
    expect(sending).toMatchObject({ state: 'sending', attempts: 1 });
    const senderPid = Number(sending!.lastSender!.split(':').at(-1));
    const victim = workers.find((worker) => worker.child.pid === senderPid);
    expect(victim, `the sender ${sending!.lastSender} is one of the two workers`).toBeDefined();
    await victim!.stop('SIGKILL');

    // The job stalls, the other worker takes it over and sends the same message again.
    const received = await eventually(async () => {
      const mails = await mailTo(mail.webUrl, seller.email);
      expect(mails).toHaveLength(1);
      return mails[0]!;
    }, 90_000);
    const email = await eventually(async () => {
      const recorded = await emailOf(seller);
      expect(recorded?.state).toBe('sent');
      return recorded!;
    });
    expect(received.messageId).toBe(email.messageId);
    expect(received.text).toContain(order.orderNumber);
    expect(email.attempts).toBe(2);
    expect(email.lastSender).not.toBe(sending!.lastSender);

    // Nothing more comes: a later seller's email arrives, this one's count stays at one.
    const later = await offlineSellerOrder();
    await eventually(async () => expect(await mailTo(mail.webUrl, later.seller.email)).toHaveLength(1), 30_000);
    expect(await mailTo(mail.webUrl, seller.email)).toHaveLength(1);
  }, 150_000);
});
