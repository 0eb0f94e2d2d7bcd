import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { expectNoProblems, launchBrowser, online, signIn, type AppPage } from './helpers/browser.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { eventually } from './helpers/processes.js';
import { startTestApi, startTestWorkers, type TestApi } from './helpers/system.js';
import type { WorkerSystem } from '../workers/system.js';

/**
 * A seller manages an order from its page in the browser while the customer
 * watches the same order in another: every step shows on both pages live.
 */

let api: TestApi;
let workers: WorkerSystem;
let browser: Browser;
let http: HttpClient;
let seller: Actor;
let customer: Actor;
const opened: AppPage[] = [];

beforeAll(async () => {
  api = await startTestApi();
  workers = startTestWorkers(api.config);
  browser = await launchBrowser();
  http = httpClient(api.url);
  const admin = await loginAdmin(http);
  seller = await createActor(http, admin, 'seller', 'Tea House');
  customer = await registerCustomer(http, 'Asha Rao');
}, 90_000);

afterAll(async () => {
  for (const app of opened) await app.context.close().catch(() => undefined);
  await browser?.close();
  await workers?.close();
  await api?.close();
});

async function open(email: string, password: string, path: string) {
  const app = await signIn(browser, api.url, email, password);
  opened.push(app);
  await app.page.goto(`${api.url}${path}`);
  await online(app.page);
  return app;
}

const status = (page: Page) => page.getByTestId('order-status');
const cell = (page: Page, productId: string, name: 'remaining' | 'delivered') =>
  page.locator(`tr[data-product-id="${productId}"]`).getByTestId(name);
const progress = (page: Page) => page.locator('.facts').getByTestId('progress');

async function expectText(read: () => Promise<string | null>, wanted: string) {
  await eventually(async () => expect((await read())?.trim()).toBe(wanted), 10_000);
}

describe('the seller works an order; the customer watches it', () => {
  it('confirm, a partial delivery, delivered, ship: status, remaining and progress change on both pages', async () => {
    const product = await createProduct(http, seller, { name: 'Assam tea', price: 25000, stock: 50 });
    const placed = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 4 }]), {
      token: customer.token,
    });
    expect(placed.status).toBe(201);
    const orderId: string = placed.body.orders[0].id;
    const path = `/app/orders/${orderId}`;

    const sellerApp = await open(seller.email, 'seller-pass-123', path);
    const customerApp = await open(customer.email, 'customer-pass-1', path);
    const pages = [sellerApp.page, customerApp.page];
    const s = sellerApp.page;
    for (const page of pages) await expectText(() => status(page).textContent(), 'Pending');
    // The customer may not manage the order.
    expect(await customerApp.page.getByRole('button', { name: 'Confirm order' }).count()).toBe(0);

    // Confirm with an estimated delivery date.
    const inThreeDays = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    await s.getByLabel('Estimated delivery date').fill(inThreeDays);
    await s.getByRole('button', { name: 'Confirm order' }).click();
    for (const page of pages) await expectText(() => status(page).textContent(), 'Confirmed');
    await customerApp.page.getByTestId('estimated-delivery').waitFor();
    await customerApp.page
      .getByTestId('order-alert')
      .getByText(/is now confirmed/)
      .waitFor();

    // A partial delivery of 1 of 4: remaining 3 on both pages.
    await s.getByLabel(/^Assam tea \(4 remaining\)/).fill('1');
    await s.getByRole('button', { name: 'Create delivery' }).click();
    for (const page of pages) await expectText(() => cell(page, product.id, 'remaining').textContent(), '3');
    await customerApp.page.locator('.delivery').first().waitFor();

    // Delivered: progress 25 %, delivered 1.
    await s.getByRole('button', { name: /^Mark delivered: / }).click();
    for (const page of pages) {
      await expectText(() => progress(page).textContent(), '25%');
      await expectText(() => cell(page, product.id, 'delivered').textContent(), '1');
      await expectText(() => status(page).textContent(), 'Partly delivered');
    }

    // Ship the rest: everything remaining is out for delivery.
    await s.getByRole('button', { name: 'Ship everything remaining' }).click();
    for (const page of pages) {
      await expectText(() => status(page).textContent(), 'Shipped');
      await expectText(() => cell(page, product.id, 'remaining').textContent(), '0');
    }
    expectNoProblems(sellerApp, customerApp);
  });

  it('the invoice of a delivered delivery downloads as a PDF, and a payment lowers what is due', async () => {
    const product = await createProduct(http, seller, { name: 'Darjeeling', price: 40000, stock: 50 });
    const placed = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 2 }]), {
      token: customer.token,
    });
    const orderId: string = placed.body.orders[0].id;
    const sellerApp = await open(seller.email, 'seller-pass-123', `/app/orders/${orderId}`);
    const s = sellerApp.page;
    await s.getByRole('button', { name: 'Confirm order' }).click();
    await s.getByRole('button', { name: 'Ship everything remaining' }).click();
    await s.getByRole('button', { name: /^Mark delivered: / }).click();
    // Delivering queues the invoice; "Generate invoice" asks for it (or it is there already).
    const generate = s.getByRole('button', { name: 'Generate invoice' });
    // The invoice may arrive between the look and the click, replacing the button: a click then
    // waits for a button that never comes back, so it waits briefly.
    if (await generate.isVisible()) await generate.click({ timeout: 2_000 }).catch(() => undefined);
    const download = s.getByRole('button', { name: 'Download PDF' });
    await download.waitFor({ timeout: 20_000 });
    const [file] = await Promise.all([s.waitForEvent('download'), download.click()]);
    expect(file.suggestedFilename()).toMatch(/\.pdf$/);
    const bytes = await readFile((await file.path())!);
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');

    const due = s.getByTestId('amount-due');
    const before = await due.textContent();
    await s.getByLabel(/^Amount/).fill('300');
    await s.getByRole('button', { name: 'Record payment' }).click();
    await eventually(async () => expect(await due.textContent()).not.toBe(before), 10_000);
    const invoices = await http.get(`/api/orders/${orderId}/invoices`, { token: seller.token });
    expect(invoices.body.data[0]).toMatchObject({ total: 80000, amountPaid: 30000, amountDue: 50000 });
    expectNoProblems(sellerApp);
  });
});
