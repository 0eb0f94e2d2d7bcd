import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { Context } from 'hono';
import { AppError } from '../../lib/errors.js';
import { createRouter } from '../../lib/http.js';

/**
 * The web app at /app/: the files `vite build` wrote to web/dist, served by
 * the API itself (no CDN, nothing from another host). Hashed assets are
 * cached for good; index.html never is, and answers every other path under
 * /app/ so deep links (/app/orders/<id>) open the right page.
 */

const APP = '/app';

/** The repository (or image) root: the nearest folder above this module with a package.json. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

export const WEB_DIST = join(projectRoot(), 'web', 'dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.map']);

/**
 * The app's own origin only. The socket is same-origin (`connect-src 'self'`
 * covers ws: to this host); the invoice PDF is saved from a `blob:` URL,
 * which is a download, not something the page loads.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** A safe file name: no separators, no leading dot. */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

interface Asset {
  body: Buffer;
  gzipped?: Buffer;
}

const gzipAsync = promisify(gzip);
/** Hashed assets never change under their name: read and compressed once per process. */
const immutable = new Map<string, Promise<Asset | undefined>>();

async function readAsset(path: string): Promise<Asset | undefined> {
  const body = await readFile(path).catch(() => undefined);
  if (!body) return undefined;
  return COMPRESSIBLE.has(extname(path)) && body.length > 1024 ? { body, gzipped: await gzipAsync(body) } : { body };
}

function send(c: Context, name: string, asset: Asset, headers: Record<string, string>) {
  const gzipOk = asset.gzipped && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
  return c.body(new Uint8Array(gzipOk ? asset.gzipped! : asset.body), 200, {
    'Content-Type': TYPES[extname(name)] ?? 'application/octet-stream',
    Vary: 'Accept-Encoding',
    ...(gzipOk ? { 'Content-Encoding': 'gzip' } : {}),
    ...headers,
  });
}

const notBuilt = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Web app not built</title>
<p>The web app has not been built. Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it), then reload.</p></html>`;

export function webAppRouter(dist = WEB_DIST) {
  const router = createRouter();

  router.get(APP, (c) => c.redirect(`${APP}/`, 308));

  router.get(`${APP}/assets/:name`, async (c) => {
    const name = c.req.param('name');
    if (!FILE_NAME.test(name)) throw new AppError('not_found', `no file ${c.req.path}`);
    let asset = immutable.get(name);
    if (!asset) {
      asset = readAsset(join(dist, 'assets', name));
      immutable.set(name, asset);
      // A missing file is not remembered: a build may add it.
      void asset.then((found) => found || immutable.delete(name));
    }
    const found = await asset;
    if (!found) throw new AppError('not_found', `no file ${c.req.path}`);
    return send(c, name, found, { 'Cache-Control': 'public, max-age=31536000, immutable' });
  });

  router.get(`${APP}/*`, async (c) => {
    const rest = c.req.path.slice(APP.length + 1);
    // A file at the top of the build (the icon): served if it exists, briefly cached. Pages have no extension.
    if (extname(rest)) {
      const found = FILE_NAME.test(rest) && rest !== 'index.html' ? await readAsset(join(dist, rest)) : undefined;
      if (!found) throw new AppError('not_found', `no file ${c.req.path}`);
      return send(c, rest, found, { 'Cache-Control': 'public, max-age=3600' });
    }
    // Any other path is a page of the app: index.html, read each time so a new build shows at once.
    const page = await readAsset(join(dist, 'index.html'));
    if (!page) return c.html(notBuilt, 503, { 'Cache-Control': 'no-store', 'Retry-After': '10' });
    return send(c, 'index.html', page, { 'Cache-Control': 'no-store', 'Content-Security-Policy': CSP });
  });

  return router;
}
