import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Invoice } from '../src/features/invoices/invoice.model.js';
import { issueInvoice } from '../src/features/invoices/invoices.service.js';
import type { Queues } from '../src/jobs/queues.js';
import { closeRedis, createRedis } from '../src/lib/redis.js';
import type { WorkerSystem } from '../workers/system.js';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { listenForEvents } from './helpers/events.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { eventually } from './helpers/processes.js';
import { startTestApi, startTestWorkers, type TestApi } from './helpers/system.js';

let api: TestApi;
let workers: WorkerSystem;
let http: HttpClient;
let admin: Actor;
let staff: Actor;
let customer: Actor;

beforeAll(async () => {
  api = await startTestApi();
  workers = startTestWorkers(api.config);
  http = httpClient(api.url);
  admin = await loginAdmin(http);
  [staff, customer] = await Promise.all([createActor(http, admin, 'staff'), registerCustomer(http)]);
});
afterAll(async () => {
  await workers?.close();
  await api?.close();
});

async function confirmedOrder(seller: Actor, quantities: number[], price = 1_000) {
  const products = await Promise.all(quantities.map(() => createProduct(http, seller, { price })));
  const res = await http.post(
    '/api/orders',
    orderBody(products.map((p, i) => ({ productId: p.id, quantity: quantities[i]! }))),
    {
      token: customer.token,
    },
  );
  const orderId = res.body.orders[0].id as string;
  expect((await http.request('PUT', `/api/orders/${orderId}/confirm`, { token: seller.token })).status).toBe(200);
  return { orderId, products };
}

const deliver = async (seller: Actor, orderId: string, productId: string, quantity: number) => {
  const res = await http.post(
    `/api/orders/${orderId}/deliveries`,
    { items: [{ productId, quantity }] },
    { token: seller.token },
  );
  expect(res.status).toBe(201);
  return res.body.delivery.id as string;
};
const markDelivered = (seller: Actor, deliveryId: string) =>
  http.request('PATCH', `/api/orders/deliveries/${deliveryId}/status`, {
    body: { status: 'delivered' },
    token: seller.token,
  });
const invoiceOf = async (token: string, deliveryId: string) =>
  eventually(async () => {
    const res = await http.get(`/api/orders/deliveries/${deliveryId}/invoice`, { token });
    expect(res.status).toBe(200);
    return res.body;
  });

describe('invoices: one per delivery', () => {
  it('a delivered delivery gets its invoice by itself, with lines and total', async () => {
    const seller = await createActor(http, admin, 'seller');
    const { orderId, products } = await confirmedOrder(seller, [5], 2_500);
    const deliveryId = await deliver(seller, orderId, products[0]!.id, 2);
    expect((await markDelivered(seller, deliveryId)).status).toBe(200);
    const invoice = await invoiceOf(customer.token, deliveryId);
    expect(invoice).toMatchObject({
      invoiceNumber: `INV-${new Date().getUTCFullYear()}-000001`,
      orderId,
      deliveryId,
      total: 5_000,
      amountPaid: 0,
      amountDue: 5_000,
      paymentStatus: 'unpaid',
    });
    expect(invoice.lines).toEqual([
      expect.objectContaining({ productId: products[0]!.id, quantity: 2, price: 2_500, amount: 5_000 }),
    ]);
  });

  it('asking for an invoice queues it (202), then answers with it (200)', async () => {
    const seller = await createActor(http, admin, 'seller');
    const { orderId, products } = await confirmedOrder(seller, [3]);
    const deliveryId = await deliver(seller, orderId, products[0]!.id, 1);
    const queued = await http.post(`/api/orders/deliveries/${deliveryId}/invoice`, undefined, { token: staff.token });
    expect(queued.status).toBe(202);
    expect(queued.body.jobId).toBe(`create-invoice_${orderId}_${deliveryId}`);
    const invoice = await invoiceOf(staff.token, deliveryId);
    const again = await http.post(`/api/orders/deliveries/${deliveryId}/invoice`, undefined, { token: staff.token });
    expect(again.status).toBe(200);
    expect(again.body.invoice.id).toBe(invoice.id);
    expect(
      (await http.post(`/api/orders/deliveries/${deliveryId}/invoice`, undefined, { token: customer.token })).status,
    ).toBe(403);
  });

  it('the invoice job run twice and five times at once makes one invoice', async () => {
    const seller = await createActor(http, admin, 'seller');
    const { orderId, products } = await confirmedOrder(seller, [3]);
    const deliveryId = await deliver(seller, orderId, products[0]!.id, 3);
    // issueInvoice needs Redis only for the numbering lock.
    const redis = createRedis(api.config.REDIS_URL, 'command', api.server.log);
    await new Promise((resolve) => redis.once('ready', resolve));
    const writer = { queues: {} as Queues, log: api.server.log, redis };
    try {
      const first = await issueInvoice(writer, orderId, deliveryId);
      const second = await issueInvoice(writer, orderId, deliveryId);
      const concurrent = await Promise.all(Array.from({ length: 5 }, () => issueInvoice(writer, orderId, deliveryId)));
      expect(new Set([first, second, ...concurrent].map((inv) => inv._id.toHexString())).size).toBe(1);
      expect(await Invoice.countDocuments({ deliveryId })).toBe(1);
    } finally {
      await closeRedis(redis);
    }
  });

  it('numbers run 1, 2, 3… per seller and year with no gaps, even when issued at once', async () => {
    const seller = await createActor(http, admin, 'seller');
    const { orderId, products } = await confirmedOrder(seller, [6]);
    const deliveries = [];
    for (let i = 0; i < 6; i++) deliveries.push(await deliver(seller, orderId, products[0]!.id, 1));
    await Promise.all(deliveries.map((d) => markDelivered(seller, d)));
    const numbers = await Promise.all(
      deliveries.map(async (d) => (await invoiceOf(seller.token, d)).invoiceNumber as string),
    );
    const year = new Date().getUTCFullYear();
    expect(numbers.sort()).toEqual([1, 2, 3, 4, 5, 6].map((n) => `INV-${year}-${String(n).padStart(6, '0')}`));
  });
});

describe('the invoice PDF', () => {
  it('opens, and its text holds the invoice number, the total and the customer', async () => {
    const seller = await createActor(http, admin, 'seller', 'Chai Point');
    const { orderId, products } = await confirmedOrder(seller, [3], 123_456);
    const deliveryId = await deliver(seller, orderId, products[0]!.id, 2);
    await markDelivered(seller, deliveryId);
    const invoice = await invoiceOf(customer.token, deliveryId);
    await http.post(
      `/api/invoices/${invoice.id}/payments`,
      { amount: 100_000, method: 'upi', reference: 'UTR-42' },
      { token: staff.token },
    );

    const res = await fetch(`${api.url}/api/invoices/${invoice.id}/pdf`, {
      headers: { authorization: `Bearer ${customer.token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(Buffer.from(bytes.slice(0, 5)).toString()).toBe('%PDF-');

    const standardFontDataUrl = fileURLToPath(new URL('../node_modules/pdfjs-dist/standard_fonts/', import.meta.url));
    // Kept for a look (pdftoppm renders it); pdfjs takes over the buffer it reads, so it gets a copy.
    await writeFile(join(tmpdir(), 'invoice-test.pdf'), bytes);
    const pdf = await getDocument({ data: bytes.slice(), standardFontDataUrl }).promise;
    expect(pdf.numPages).toBe(1);
    const content = await (await pdf.getPage(1)).getTextContent();
    const text = content.items.map((item) => ('str' in item ? item.str : '')).join(' ');
    expect(text).toContain(invoice.invoiceNumber);
    expect(text).toContain('INR 2,469.12'); // 2 × 1,234.56
    expect(text).toContain('Chai Point');
    expect(text).toContain('UTR-42');
    expect(text).toContain('Amount due: INR 1,469.12');
    await pdf.destroy();

    expect((await fetch(`${api.url}/api/invoices/${invoice.id}/pdf`)).status).toBe(401);
  });
});

describe('delivery, invoice and payment events', () => {
  it('go through Redis to the order’s seller, customer, room and admins', async () => {
    const listener = await listenForEvents(api.config.REDIS_URL);
    try {
      const seller = await createActor(http, admin, 'seller');
      const { orderId, products } = await confirmedOrder(seller, [4], 500);
      const deliveryId = await deliver(seller, orderId, products[0]!.id, 2);
      await markDelivered(seller, deliveryId);
      const invoice = await invoiceOf(staff.token, deliveryId);
      await http.post(
        `/api/invoices/${invoice.id}/payments`,
        { amount: 1_000, method: 'cash' },
        { token: staff.token },
      );
      const audience = [`seller:${seller.id}`, `user:${customer.id}`, `order:${orderId}`, 'admin'].sort();
      await eventually(async () => {
        const about = (event: string) =>
          listener
            .of(event)
            .filter((e) => JSON.stringify(e.payload).includes(orderId) || e.payload.deliveryId === deliveryId);
        expect(about('delivery:created').map((e) => e.payload.delivery.id)).toEqual([deliveryId]);
        expect(about('delivery:status-updated').map((e) => e.payload.status)).toEqual(['delivered']);
        expect(about('invoice:generated').map((e) => e.payload.invoice.id)).toEqual([invoice.id]);
        expect(about('order:payment-updated').map((e) => e.payload.order.paidAmount)).toEqual([1_000]);
        expect(about('order:progress-updated').map((e) => e.payload.progress)).toContain(50);
        for (const event of ['delivery:created', 'invoice:generated', 'order:payment-updated']) {
          expect(about(event)[0]!.rooms.sort(), event).toEqual(audience);
          expect(about(event)[0]!.payload.eventId, event).toEqual(expect.any(String));
        }
      });
    } finally {
      await listener.close();
    }
  });
});

describe('payments', () => {
  it('payments that sum to the total mark the invoice paid; one more unit → 409', async () => {
    const seller = await createActor(http, admin, 'seller');
    const { orderId, products } = await confirmedOrder(seller, [2], 1_000);
    const deliveryId = await deliver(seller, orderId, products[0]!.id, 2);
    await markDelivered(seller, deliveryId);
    const invoice = await invoiceOf(staff.token, deliveryId);
    const pay = (amount: number) =>
      http.post(`/api/invoices/${invoice.id}/payments`, { amount, method: 'cash' }, { token: staff.token });
    expect((await pay(1_500)).body.invoice).toMatchObject({
      amountPaid: 1_500,
      amountDue: 500,
      paymentStatus: 'partially_paid',
    });
    const last = await pay(500);
    expect(last.status).toBe(201);
    expect(last.body.invoice).toMatchObject({ amountPaid: 2_000, amountDue: 0, paymentStatus: 'paid' });
    // Delivered and fully paid: completed.
    expect(last.body.order).toMatchObject({ paidAmount: 2_000, paymentStatus: 'paid', status: 'completed' });
    const over = await pay(1);
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({ owed: 0, offered: 1 });
    expect(
      (
        await http.post(
          `/api/invoices/${invoice.id}/payments`,
          { amount: 10, method: 'cash' },
          { token: customer.token },
        )
      ).status,
    ).toBe(403);
  });

  it('money adds up exactly: three deliveries, an advance and two payments', async () => {
    const seller = await createActor(http, admin, 'seller');
    const { orderId, products } = await confirmedOrder(seller, [9], 3_333);
    const total = 9 * 3_333;
    // An advance before any invoice exists.
    const advance = await http.post(
      `/api/orders/${orderId}/payments`,
      { amount: 12_000, method: 'upi' },
      { token: staff.token },
    );
    expect(advance.status).toBe(201);
    expect(advance.body.order).toMatchObject({ paidAmount: 12_000, paymentStatus: 'partially_paid' });

    const ids: string[] = [];
    for (const quantity of [2, 3, 4]) {
      const id = await deliver(seller, orderId, products[0]!.id, quantity);
      await markDelivered(seller, id);
      ids.push(id);
    }
    const invoices = [];
    for (const id of ids) invoices.push(await invoiceOf(seller.token, id));
    // The advance pays invoices in the order they were issued.
    const list = (await http.get(`/api/orders/${orderId}/invoices`, { token: customer.token })).body.data;
    expect(list.map((i: { total: number }) => i.total).sort((a: number, b: number) => a - b)).toEqual([
      6_666, 9_999, 13_332,
    ]);
    const applied = list.reduce((sum: number, i: { advanceApplied: number }) => sum + i.advanceApplied, 0);
    expect(applied).toBe(12_000);

    const unpaid = list.filter((i: { amountDue: number }) => i.amountDue > 0);
    for (const invoice of unpaid) {
      const res = await http.post(
        `/api/invoices/${invoice.id}/payments`,
        { amount: invoice.amountDue, method: 'card' },
        { token: staff.token },
      );
      expect(res.status).toBe(201);
    }
    const order = (await http.get(`/api/orders/${orderId}`, { token: customer.token })).body;
    expect(order).toMatchObject({ paidAmount: total, paymentStatus: 'paid', status: 'completed', progress: 100 });
    const final = (await http.get(`/api/orders/${orderId}/invoices`, { token: customer.token })).body.data;
    expect(final.every((i: { paymentStatus: string }) => i.paymentStatus === 'paid')).toBe(true);
    expect(final.reduce((sum: number, i: { amountPaid: number }) => sum + i.amountPaid, 0)).toBe(total);
    expect(
      (await http.post(`/api/orders/${orderId}/payments`, { amount: 1, method: 'cash' }, { token: staff.token }))
        .status,
    ).toBe(409);
  });

  it('refuses bad amounts: zero, fractions, negative', async () => {
    const seller = await createActor(http, admin, 'seller');
    const { orderId } = await confirmedOrder(seller, [1]);
    for (const amount of [0, 1.5, -5]) {
      expect(
        (await http.post(`/api/orders/${orderId}/payments`, { amount, method: 'cash' }, { token: staff.token })).status,
      ).toBe(400);
    }
  });

  it("paying another seller's invoice answers 404 naming the invoice, never the order behind it", async () => {
    const [owner, other] = await Promise.all([createActor(http, admin, 'seller'), createActor(http, admin, 'seller')]);
    const { orderId, products } = await confirmedOrder(owner, [2], 1_000);
    const deliveryId = await deliver(owner, orderId, products[0]!.id, 2);
    await markDelivered(owner, deliveryId);
    const invoice = await invoiceOf(staff.token, deliveryId);
    const res = await http.post(
      `/api/invoices/${invoice.id}/payments`,
      { amount: 100, method: 'cash' },
      { token: other.token },
    );
    expect(res.status).toBe(404);
    expect(res.body.detail).toBe(`invoice ${invoice.id} does not exist`);
    expect(JSON.stringify(res.body)).not.toContain(orderId);
  });
});
