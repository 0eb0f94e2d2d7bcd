import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNTS, seedDevelopmentData } from '../scripts/dev-seed.js';
import { loginAdmin, registerCustomer } from './helpers/actors.js';
import { expectNoProblems, launchBrowser, online, openApp, PHONE, signIn, type AppPage } from './helpers/browser.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { ADMIN, startTestApi, type TestApi } from './helpers/system.js';

/**
 * The web app as served by the API at /app/: its files and headers, signing
 * in and out, a session that ends elsewhere, the staff view, and the demo
 * accounts the README names.
 */

let api: TestApi;
let browser: Browser;
let http: HttpClient;
const opened: AppPage[] = [];

beforeAll(async () => {
  api = await startTestApi();
  browser = await launchBrowser();
  http = httpClient(api.url);
}, 60_000);

afterAll(async () => {
  for (const app of opened) await app.context.close().catch(() => undefined);
  await browser?.close();
  await api?.close();
});

const track = (app: AppPage) => (opened.push(app), app);

describe('serving /app/', () => {
  it('answers index.html for any page, never cached, under a strict Content-Security-Policy', async () => {
    for (const path of ['/app/', '/app/orders/665f1c2e8b3f4a0012345678', '/app/dashboard']) {
      const res = await fetch(`${api.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toContain('unsafe');
      expect(await res.text()).toContain('<div id="root">');
    }
    const bare = await fetch(`${api.url}/app`, { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/app/');
  });

  it('serves its hashed assets itself with their types, cached for good; nothing else of the disk', async () => {
    const html = await (await fetch(`${api.url}/app/`)).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/app\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      const res = await fetch(`${api.url}${asset}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.status, asset).toBe(200);
      expect(res.headers.get('content-type')).toMatch(asset.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    expect((await fetch(`${api.url}/app/favicon.svg`)).headers.get('content-type')).toBe('image/svg+xml');
    for (const path of ['/app/assets/nope.js', '/app/assets/..%2F..%2Fpackage.json', '/app/..%2Fpackage.json']) {
      const res = await fetch(`${api.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  });
});

describe('signing in and out', () => {
  it('a customer registers, is signed in, and signs out', async () => {
    const app = track(await openApp(browser, api.url, '/app/'));
    const { page } = app;
    await page.waitForURL(/\/app\/sign-in$/);
    await page.getByRole('link', { name: 'Create a customer account' }).click();
    await page.getByLabel('Name').fill('Ravi Kumar');
    await page.getByLabel('Email').fill(`ravi-${Date.now()}@test.local`);
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('at least 8 characters', { exact: true }).last().waitFor();
    await page.getByLabel('Password').fill('a-good-password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(/\/app\/shop$/);
    await page.getByText('Ravi Kumar').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/app\/sign-in$/);
    await page.getByText('You are signed out.').waitFor();
    // The refused short password is a 400 in the console; nothing else may be.
    expect(app.problems.filter((p) => !p.includes('status of 400'))).toEqual([]);
  });

  it('a session revoked elsewhere ends with a message, not a broken page', async () => {
    const customer = await registerCustomer(http);
    const app = track(await signIn(browser, api.url, customer.email, 'customer-pass-1'));
    // Connected first: a handshake after the revocation would end the session by itself (also right).
    await online(app.page);
    const admin = await loginAdmin(http);
    const revoked = await http.post(`/api/users/${customer.id}/sessions/revoke`, undefined, { token: admin.token });
    expect(revoked.status).toBeLessThan(300);
    await app.page.getByRole('link', { name: 'My orders' }).click();
    await app.page.waitForURL(/\/app\/sign-in$/, { timeout: 10_000 });
    await app.page.getByText(/Your session has ended/).waitFor();
    // The refused request is a 401 in the console; nothing else may be.
    expect(app.problems.filter((p) => !p.includes('status of 401'))).toEqual([]);
  });

  it('staff and admins see every order with the counters, and the links to /docs and /admin/queues', async () => {
    const app = track(await signIn(browser, api.url, ADMIN.email, ADMIN.password));
    await app.page.waitForURL(/\/app\/staff$/);
    await app.page.getByRole('heading', { name: 'All orders' }).waitFor();
    await app.page.getByText("Today's deliveries").waitFor();
    expect(await app.page.getByRole('link', { name: 'API reference' }).getAttribute('href')).toBe('/docs');
    expect(await app.page.getByRole('link', { name: 'Queues' }).getAttribute('href')).toBe('/admin/queues');
    expectNoProblems(app);
  });
});

describe('the accounts the README names', () => {
  it('are what the development seed creates; they sign in, and the customer sees their products, on a phone too', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain('/app/');
    for (const account of DEMO_ACCOUNTS) expect(readme).toContain(`${account.email} / ${account.password}`);

    const admin = { email: ADMIN.email, password: ADMIN.password };
    expect(await seedDevelopmentData(api.url, admin)).toMatchObject({ seeded: true });
    // Running it again (the next `npm start`) changes nothing and still names the accounts.
    expect(await seedDevelopmentData(api.url, admin)).toEqual({ seeded: false, accounts: DEMO_ACCOUNTS });

    const seller = DEMO_ACCOUNTS.find((a) => a.role === 'seller')!;
    const sellerApp = track(await signIn(browser, api.url, seller.email, seller.password));
    await sellerApp.page.waitForURL(/\/app\/dashboard$/);
    const customer = DEMO_ACCOUNTS.find((a) => a.role === 'customer')!;
    const phone = track(await signIn(browser, api.url, customer.email, customer.password, PHONE));
    await phone.page.waitForURL(/\/app\/shop$/);
    await phone.page
      .getByRole('button', { name: /^Add .* to cart$/ })
      .first()
      .waitFor();
    expect(await phone.page.getByRole('button', { name: /^Add .* to cart$/ }).count()).toBe(6);
    // Nothing wider than the phone's screen.
    expect(
      await phone.page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number),
    ).toBeLessThanOrEqual(PHONE.width);
    expectNoProblems(sellerApp, phone);
  });
});
