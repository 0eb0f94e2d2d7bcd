import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PendingSellerEmail } from '../src/features/email/pending-seller-email.model.js';
import { SellerEmail } from '../src/features/email/seller-email.model.js';
import type { WorkerSystem } from '../workers/system.js';
import type { ManagedService } from '../scripts/embedded-services.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { ackingDashboard, mailTo, startMailServer } from './helpers/mail.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { eventually } from './helpers/processes.js';
import { startTestApi, startTestWorkers, testConfig, type TestApi } from './helpers/system.js';

/**
 * Seller emails against a real SMTP server: the local mail server `npm start`
 * runs, as a process of its own, read back through its JSON API. A 1 s delay
 * and a sweep every 200 ms keep it quick; every "none" is checked after a
 * later order's email arrived and the sweep has dropped what it looked at.
 */

let mail: ManagedService & { webUrl: string };
let api: TestApi;
let workers: WorkerSystem;
let http: HttpClient;
let admin: Actor;
let customer: Actor;
const sockets: Socket[] = [];
const PUBLIC_URL = 'https://shop.example.test';

beforeAll(async () => {
  mail = await startMailServer({ rejectRecipients: '^refused-' });
  const config = testConfig({
    SMTP_URL: mail.url,
    MAIL_FROM: 'Shop <orders@shop.example.test>',
    PUBLIC_URL,
    SELLER_EMAIL_AFTER_SECONDS: '1',
    SELLER_EMAIL_CHECK_INTERVAL_MS: '200',
  });
  api = await startTestApi(config);
  workers = startTestWorkers(config);
  http = httpClient(api.url);
  admin = await loginAdmin(http);
  customer = await registerCustomer(http, 'Zoya <script>alert(1)</script> & Co');
});

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await workers?.close();
  await api?.close();
  await mail?.stop();
});

async function sellerWithProduct(email?: string) {
  let seller: Actor;
  if (email) {
    const password = 'seller-pass-123';
    const created = await http.post(
      '/api/users',
      { name: 'Refused Shop', email, password, role: 'seller' },
      { token: admin.token },
    );
    expect(created.status).toBe(201);
    const login = await http.post('/api/auth/login', { email, password });
    seller = { id: created.body.id, token: login.body.token, email, role: 'seller', name: 'Refused Shop' };
  } else {
    seller = await createActor(http, admin, 'seller');
  }
  return { seller, product: await createProduct(http, seller) };
}

async function placeOrder(productId: string) {
  const res = await http.post('/api/orders', orderBody([{ productId, quantity: 2 }]), { token: customer.token });
  expect(res.status).toBe(201);
  return res.body.orders[0] as { id: string; orderNumber: string; totalAmount: number };
}

const pendingOf = (sellerId: string) => PendingSellerEmail.countDocuments({ sellerId });
const setPreferences = (seller: Actor, body: unknown) =>
  http.request('PUT', '/api/notifications/email-preferences', { token: seller.token, body });

/** Waits until the seller's notification of `orderId` is stored and its email entry is pending. */
async function waitUntilPending(seller: Actor, count: number) {
  await eventually(async () => expect(await pendingOf(seller.id)).toBe(count));
}

/**
 * A later order to another seller, whose email arrives: by then the sweep has
 * passed over everything older more than once.
 */
async function barrier() {
  const { seller, product } = await sellerWithProduct();
  await placeOrder(product.id);
  await eventually(async () => expect(await mailTo(mail.webUrl, seller.email)).toHaveLength(1));
}

describe('emails to sellers who stay offline', { timeout: 60_000 }, () => {
  it('an offline seller gets exactly one email after the delay, naming the order, with text and escaped HTML', async () => {
    const { seller, product } = await sellerWithProduct();
    const order = await placeOrder(product.id);

    const [email] = await eventually(async () => {
      const received = await mailTo(mail.webUrl, seller.email);
      expect(received).toHaveLength(1);
      return received;
    });
    expect(email!.subject).toBe(`1 new order waiting for you: ${order.orderNumber}`);
    expect(email!.from).toContain('orders@shop.example.test');
    expect(email!.messageId).toMatch(/^<[0-9a-f]{24}\.seller-orders@shop\.example\.test>$/);
    expect(email!.text).toContain(order.orderNumber);
    expect(email!.text).toContain(`${PUBLIC_URL}/app/orders/${order.id}`);
    expect(email!.text).toContain('Deliver to: Bengaluru 560001');
    expect(email!.text).toContain('Zoya <script>alert(1)</script> & Co');
    expect(email!.text).toMatch(/2 × Product SKU-/);
    expect(email!.html).toContain(order.orderNumber);
    expect(email!.html).toContain(`href="${PUBLIC_URL}/app/orders/${order.id}"`);
    expect(email!.html).toContain('Zoya &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co');
    expect(email!.html).not.toContain('<script>');

    // Recorded as sent, nothing left pending, and still one after later passes.
    await eventually(async () => expect(await pendingOf(seller.id)).toBe(0));
    const [record] = await SellerEmail.find({ sellerId: seller.id }).lean();
    expect(record).toMatchObject({ state: 'sent', attempts: 1, orderNumbers: [order.orderNumber] });
    expect(email!.messageId).toBe(record!.messageId);
    await barrier();
    expect(await mailTo(mail.webUrl, seller.email)).toHaveLength(1);
  });

  it('lists every unacknowledged order in one email whose subject says how many', async () => {
    const { seller, product } = await sellerWithProduct();
    // Held back until all three are waiting, so they are in the same email however the machine is loaded.
    expect((await setPreferences(seller, { delaySeconds: 3600 })).status).toBe(200);
    const orders = [await placeOrder(product.id), await placeOrder(product.id), await placeOrder(product.id)];
    await waitUntilPending(seller, 3);
    expect((await setPreferences(seller, { delaySeconds: null })).body.delaySeconds).toBe(1);

    const [email] = await eventually(async () => {
      const received = await mailTo(mail.webUrl, seller.email);
      expect(received).toHaveLength(1);
      return received;
    });
    expect(email!.subject).toBe('3 new orders waiting for you');
    for (const order of orders) {
      expect(email!.text).toContain(order.orderNumber);
      expect(email!.html).toContain(`${PUBLIC_URL}/app/orders/${order.id}`);
    }
    await barrier();
    expect(await mailTo(mail.webUrl, seller.email)).toHaveLength(1);
  });

  it('a seller who acknowledges (or reads) in time gets none', async () => {
    const acking = await sellerWithProduct();
    const reading = await sellerWithProduct();
    for (const { seller } of [acking, reading]) await setPreferences(seller, { delaySeconds: 3600 });
    await placeOrder(acking.product.id);
    const readOrder = await placeOrder(reading.product.id);
    await waitUntilPending(acking.seller, 1);
    await waitUntilPending(reading.seller, 1);

    // One connects and acknowledges the replayed notification; the other reads it over REST.
    const dashboard = await ackingDashboard(api.url, acking.seller.token);
    sockets.push(dashboard.socket);
    await eventually(async () => expect(dashboard.acked).toHaveLength(1));
    const notices = await http.get('/api/notifications', { token: reading.seller.token });
    const notice = notices.body.data.find((n: { orderId: string }) => n.orderId === readOrder.id);
    expect(
      (await http.post(`/api/notifications/${notice.id}/read`, undefined, { token: reading.seller.token })).status,
    ).toBe(200);
    await eventually(async () => {
      const list = await http.get('/api/notifications', { token: acking.seller.token });
      expect(list.body.data[0].deliveredAt).toEqual(expect.any(String));
    });

    // Now due at once: the sweep finds them seen and drops them.
    for (const { seller } of [acking, reading]) await setPreferences(seller, { delaySeconds: 0 });
    await eventually(async () => expect(await pendingOf(acking.seller.id)).toBe(0));
    await eventually(async () => expect(await pendingOf(reading.seller.id)).toBe(0));
    await barrier();
    expect(await mailTo(mail.webUrl, acking.seller.email)).toEqual([]);
    expect(await mailTo(mail.webUrl, reading.seller.email)).toEqual([]);
  });

  it('a seller online throughout gets none', async () => {
    const { seller, product } = await sellerWithProduct();
    const dashboard = await ackingDashboard(api.url, seller.token);
    sockets.push(dashboard.socket);
    await placeOrder(product.id);
    await placeOrder(product.id);
    await eventually(async () => expect(dashboard.acked).toHaveLength(2));

    await eventually(async () => expect(await pendingOf(seller.id)).toBe(0));
    await barrier();
    expect(await mailTo(mail.webUrl, seller.email)).toEqual([]);
    expect(await SellerEmail.countDocuments({ sellerId: seller.id })).toBe(0);
  });
});

describe('per-seller preferences', { timeout: 60_000 }, () => {
  it('shows the configured defaults, takes changes, and refuses bad ones', async () => {
    const { seller } = await sellerWithProduct();
    const initial = await http.get('/api/notifications/email-preferences', { token: seller.token });
    expect(initial.status).toBe(200);
    expect(initial.body).toEqual({
      enabled: true,
      delaySeconds: 1,
      chosen: {},
      defaults: { enabled: true, delaySeconds: 1 },
    });
    const changed = await setPreferences(seller, { enabled: false, delaySeconds: 600 });
    expect(changed.body).toMatchObject({
      enabled: false,
      delaySeconds: 600,
      chosen: { enabled: false, delaySeconds: 600 },
    });
    const back = await setPreferences(seller, { enabled: null });
    expect(back.body).toMatchObject({ enabled: true, delaySeconds: 600, chosen: { delaySeconds: 600 } });

    expect((await setPreferences(seller, { delaySeconds: -1 })).status).toBe(400);
    expect((await setPreferences(seller, { delaySeconds: 1.5 })).status).toBe(400);
    expect((await setPreferences(seller, {})).status).toBe(400);
    expect((await setPreferences(seller, { enabled: 'yes' })).status).toBe(400);
    expect((await setPreferences(seller, { enabled: true, other: 1 })).status).toBe(400);
    expect((await http.get('/api/notifications/email-preferences', { token: customer.token })).status).toBe(403);
    expect((await http.get('/api/notifications/email-preferences')).status).toBe(401);
  });

  it('a seller who turned emails off gets none; one with a longer delay gets it only once it has passed', async () => {
    const off = await sellerWithProduct();
    const later = await sellerWithProduct();
    await setPreferences(off.seller, { enabled: false });
    await setPreferences(later.seller, { delaySeconds: 3600 });
    await placeOrder(off.product.id);
    const laterOrder = await placeOrder(later.product.id);
    await waitUntilPending(later.seller, 1);

    // Off: its entry is dropped and nothing is sent. Later: still waiting after others' emails went.
    await eventually(async () => expect(await pendingOf(off.seller.id)).toBe(0));
    await barrier();
    expect(await mailTo(mail.webUrl, off.seller.email)).toEqual([]);
    expect(await mailTo(mail.webUrl, later.seller.email)).toEqual([]);
    expect(await pendingOf(later.seller.id)).toBe(1);

    await setPreferences(later.seller, { delaySeconds: 0 });
    await eventually(async () => {
      const received = await mailTo(mail.webUrl, later.seller.email);
      expect(received.map((m) => m.subject)).toEqual([`1 new order waiting for you: ${laterOrder.orderNumber}`]);
    });
  });
});

describe('refused emails', { timeout: 60_000 }, () => {
  it('a 5xx answer is recorded as failed, not retried, and admins see why', async () => {
    const { seller, product } = await sellerWithProduct(`refused-${Date.now()}@test.local`);
    const order = await placeOrder(product.id);

    const failed = await eventually(async () => {
      const res = await http.get(`/api/emails?state=failed&sellerId=${seller.id}`, { token: admin.token });
      expect(res.status).toBe(200);
      expect(res.body.data).toHaveLength(1);
      return res.body.data[0];
    });
    expect(failed).toMatchObject({
      sellerId: seller.id,
      to: seller.email,
      state: 'failed',
      attempts: 1,
      orderNumbers: [order.orderNumber],
      error: expect.stringContaining('550'),
      failedAt: expect.any(String),
    });
    await eventually(async () => expect(await pendingOf(seller.id)).toBe(0));
    await barrier();
    expect((await SellerEmail.findById(failed.id).lean())?.attempts).toBe(1);
    expect(await mailTo(mail.webUrl, seller.email)).toEqual([]);

    expect((await http.get('/api/emails', { token: seller.token })).status).toBe(403);
    const sent = await http.get('/api/emails?state=sent&limit=1', { token: admin.token });
    expect(sent.body).toMatchObject({ page: 1, limit: 1, total: expect.any(Number) });
    expect(sent.body.data[0].state).toBe('sent');
    expect((await http.get('/api/emails?state=lost', { token: admin.token })).status).toBe(400);
  });
});
