import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Browser tests of the web app (tests/web-*.test.ts): Debian's chromium, headless, driven by playwright-core. */

export const CHROMIUM = '/usr/bin/chromium';
// Without these Debian's chromium keeps trying the (closed) network: see PLATFORM.md.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];
const WEB = fileURLToPath(new URL('../../web', import.meta.url));

/** The tests exercise web/dist as built: stale assets would test old code, so they refuse to run on them. */
function assertWebAppBuilt() {
  const built = join(WEB, 'dist', 'index.html');
  const newest = (path: string): number =>
    statSync(path).isDirectory()
      ? Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))))
      : statSync(path).mtimeMs;
  const sources = ['src', 'public', 'index.html', 'vite.config.ts'].map((f) => join(WEB, f)).filter(existsSync);
  if (!existsSync(built) || statSync(built).mtimeMs < Math.max(...sources.map(newest))) {
    throw new Error('web/dist is missing or older than web/: run `npm run build:web` (npm test does it by itself)');
  }
}

export async function launchBrowser(): Promise<Browser> {
  // Not a skip: CI installs chromium (.ci/run), and an app nobody rendered is not tested.
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run this test`);
  }
  assertWebAppBuilt();
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export interface AppPage {
  context: BrowserContext;
  page: Page;
  /** Page errors, console errors (CSP violations among them) and requests to other hosts. */
  problems: string[];
}

export const PHONE = { width: 390, height: 844 };

/** A new browser context (one person's browser) on the app; nothing may leave this host. */
export async function openApp(
  browser: Browser,
  url: string,
  path = '/app/',
  viewport = { width: 1280, height: 860 },
): Promise<AppPage> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const problems: string[] = [];
  await context.route('**/*', (route) => {
    const target = new URL(route.request().url());
    if (['127.0.0.1', 'localhost'].includes(target.hostname) || ['data:', 'blob:'].includes(target.protocol)) {
      return route.continue();
    }
    problems.push(`request to another host: ${target.href}`);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.goto(`${url}${path}`);
  return { context, page, problems };
}

/** Signs in through the form and waits for the role's start page. */
export async function signIn(browser: Browser, url: string, email: string, password: string, viewport?: typeof PHONE) {
  const app = await openApp(browser, url, '/app/sign-in', viewport);
  await app.page.getByLabel('Email').fill(email);
  await app.page.getByLabel('Password').fill(password);
  await app.page.getByRole('button', { name: 'Sign in' }).click();
  await app.page.waitForURL((u) => !u.pathname.endsWith('/sign-in'), { timeout: 15_000 });
  return app;
}

/** Waits until the page's live connection is up. */
export async function online(page: Page) {
  await page.locator('.connection[data-state="online"]').waitFor({ timeout: 15_000 });
}

/** The text of the error shown under the field with this label. */
export function fieldError(page: Page, label: string) {
  return page.locator('.field', { has: page.getByText(label, { exact: true }) }).locator('.field__error');
}

export function expectNoProblems(...apps: AppPage[]) {
  expect(apps.flatMap((app) => app.problems)).toEqual([]);
}
