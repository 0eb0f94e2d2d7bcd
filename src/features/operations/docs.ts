import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { AppError } from '../../lib/errors.js';
import { createRouter } from '../../lib/http.js';

/**
 * The API reference at /docs: Swagger UI served entirely from our own
 * `swagger-ui-dist`, so it renders where no CDN is reachable (and loads
 * nothing we did not ship). The page has no inline script, so it runs under
 * the strict Content-Security-Policy it is sent with.
 */

const require = createRequire(import.meta.url);
const DIST = dirname(require.resolve('swagger-ui-dist/package.json'));
const VERSION = (require('swagger-ui-dist/package.json') as { version: string }).version;
/** Versioned, so a new swagger-ui-dist gets new URLs and the assets can be cached for good. */
const ASSETS = `/docs/assets/${VERSION}`;

/** The only files of the package we serve, with their types. */
const ASSET_TYPES = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
  ['swagger-ui-standalone-preset.js', 'text/javascript; charset=utf-8'],
  ['favicon-32x32.png', 'image/png'],
  ['favicon-16x16.png', 'image/png'],
]);

// Our own start-up script, instead of the dist's swagger-initializer.js (which points at the petstore).
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Order backend API</title>
<link rel="stylesheet" href="${ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="${ASSETS}/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="${ASSETS}/favicon-16x16.png" sizes="16x16">
</head>
<body>
<div id="swagger-ui"></div>
<noscript>The API reference needs JavaScript; the document it shows is <a href="/openapi.json">/openapi.json</a>.</noscript>
<script src="${ASSETS}/swagger-ui-bundle.js"></script>
<script src="${ASSETS}/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

/**
 * Same-origin everything. Swagger UI sets style attributes and shows data: images
 * (its CSS icons), so those two are allowed; scripts only from files we serve.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

interface Asset {
  body: Buffer;
  gzipped: Buffer;
}

const gzipAsync = promisify(gzip);
const assets = new Map<string, Promise<Asset>>();

/** Read and compressed once per process, on first request. */
function loadAsset(name: string): Promise<Asset> {
  let asset = assets.get(name);
  if (!asset) {
    asset = readFile(join(DIST, name)).then(async (body) => ({ body, gzipped: await gzipAsync(body) }));
    // A failed read is not remembered, so the next request tries again.
    asset.catch(() => assets.delete(name));
    assets.set(name, asset);
  }
  return asset;
}

export function docsRouter() {
  const router = createRouter();

  router.get('/docs', (c) => c.html(PAGE, 200, { 'Content-Security-Policy': CSP, 'Cache-Control': 'no-cache' }));
  router.get('/docs/init.js', (c) =>
    c.body(INIT_SCRIPT, 200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'no-cache',
    }),
  );
  router.get(`${ASSETS}/:name`, async (c) => {
    const name = c.req.param('name');
    const type = ASSET_TYPES.get(name);
    if (!type) throw new AppError('not_found', `no route for ${c.req.method} ${c.req.path}`);
    const asset = await loadAsset(name);
    const gzipOk = /\bgzip\b/.test(c.req.header('accept-encoding') ?? '') && !type.startsWith('image/');
    return c.body(new Uint8Array(gzipOk ? asset.gzipped : asset.body), 200, {
      'Content-Type': type,
      'Cache-Control': 'public, max-age=31536000, immutable',
      Vary: 'Accept-Encoding',
      ...(gzipOk ? { 'Content-Encoding': 'gzip' } : {}),
    });
  });
  return router;
}
