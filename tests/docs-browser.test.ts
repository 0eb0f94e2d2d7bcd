import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from './helpers/browser.js';
import { startTestApi, type TestApi } from './helpers/system.js';

let api: TestApi;
let browser: BrowserContext | undefined;
let profile: string | undefined;

beforeAll(async () => {
  // Not a skip: CI installs chromium (.ci/run), and a docs page nobody rendered is not tested.
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run this test`);
  }
  api = await startTestApi();
  profile = await mkdtemp(join(tmpdir(), 'docs-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
});
afterAll(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await api?.close();
});

describe('/docs renders with no network beyond this host', () => {
  it('shows every operation of /openapi.json, asking nothing of any other host', async () => {
    const offHost: string[] = [];
    // Everything not addressed to this machine is refused and remembered.
    await browser!.route('**/*', (route) => {
      const url = new URL(route.request().url());
      const local = ['127.0.0.1', 'localhost'].includes(url.hostname);
      if (local || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
      offHost.push(route.request().url());
      return route.abort();
    });
    const page = await browser!.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));

    const response = await page.goto(`${api.url}/docs`);
    expect(response?.status()).toBe(200);

    const placeOrder = page.locator('.opblock.opblock-post', {
      has: page.locator('.opblock-summary-path[data-path="/api/orders"]'),
    });
    await placeOrder.first().waitFor({ state: 'visible', timeout: 20_000 });
    expect(await placeOrder.count()).toBe(1);

    const spec = (await (await fetch(`${api.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const methods = new Set(['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace']);
    const operations = Object.values(spec.paths).flatMap((item) => Object.keys(item).filter((k) => methods.has(k)));
    expect(await page.locator('.opblock').count()).toBe(operations.length);
    await expect.poll(() => page.title()).toBe('Order backend API');

    expect(offHost, 'requests to other hosts').toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('serves the Swagger UI files itself, with types and long cache lifetimes', async () => {
    const html = await (await fetch(`${api.url}/docs`)).text();
    const assets = [...html.matchAll(/(?:href|src)="([^"]+\.(?:css|js|png))"/g)].map((m) => m[1]!);
    expect(assets).toHaveLength(6);
    expect(assets.every((url) => url.startsWith('/docs/'))).toBe(true);
    const cssUrl = assets.find((url) => url.endsWith('/swagger-ui.css'))!;
    const css = await fetch(`${api.url}${cssUrl}`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
    expect(css.headers.get('cache-control')).toContain('immutable');
    const bundle = await fetch(`${api.url}${assets.find((url) => url.endsWith('/swagger-ui-bundle.js'))}`);
    expect(bundle.headers.get('content-type')).toContain('javascript');
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    // Only those files: nothing else of the package (or beyond it) is reachable.
    const folder = cssUrl.slice(0, cssUrl.lastIndexOf('/'));
    for (const other of ['package.json', 'index.html', '..%2Fpackage.json']) {
      expect((await fetch(`${api.url}${folder}/${other}`)).status, other).toBe(404);
    }
  });
});
