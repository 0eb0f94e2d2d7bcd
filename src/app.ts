import type { OpenAPIHono } from '@hono/zod-openapi';
import { requestId } from 'hono/request-id';
import { timingSafeEqual } from 'node:crypto';
import { matchedRoutes } from 'hono/route';
import type { Deps } from './deps.js';
import { authRouter } from './features/auth/auth.handlers.js';
import { catalogRouter } from './features/catalog/catalog.handlers.js';
import { deliveriesRouter } from './features/deliveries/deliveries.handlers.js';
import { emailRouter } from './features/email/email.handlers.js';
import { healthRouter } from './features/health/health.handlers.js';
import { adminConsole } from './features/operations/admin-console.js';
import { docsRouter } from './features/operations/docs.js';
import { invoicesRouter } from './features/invoices/invoices.handlers.js';
import { jobsRouter } from './features/jobs/jobs.handlers.js';
import { notificationsRouter } from './features/notifications/notifications.handlers.js';
import { ordersRouter } from './features/orders/orders.handlers.js';
import { usersRouter } from './features/users/users.handlers.js';
import { webAppRouter } from './features/webapp/webapp.js';
import { declaredBodyLimit } from './lib/body-limit.js';
import { AppError } from './lib/errors.js';
import {
  createRouter,
  handleError,
  problemResponse,
  secureResponseHeaders,
  setResponseHeaders,
  type AppEnv,
} from './lib/http.js';
import { httpDuration, registry } from './lib/metrics.js';

/** The feature routers mounted under `/api`, in one list so docs and tests can walk it. */
export const API_ROUTERS = [
  authRouter,
  usersRouter,
  catalogRouter,
  deliveriesRouter,
  invoicesRouter,
  ordersRouter,
  notificationsRouter,
  emailRouter,
  jobsRouter,
] as const;

export function createApp(deps: Deps): OpenAPIHono<AppEnv> {
  const app = createRouter();

  // A client's own id is kept only when short and of letters, digits, `-`, `_` and `=`; else one is made.
  app.use(requestId({ headerName: 'X-Request-Id', limitLength: 64 }));
  // nosniff, frame only from this origin, no referrer, and the rest of Hono's `secureHeaders` defaults.
  app.use(secureResponseHeaders());
  app.use(async (c, next) => {
    c.set('baseLog', deps.log);
    const started = performance.now();
    await next();
    const ms = performance.now() - started;
    // The route pattern, not the path, so ids do not explode the label set.
    const route = matchedRoutes(c).findLast((r) => r.method !== 'ALL')?.path ?? 'unmatched';
    httpDuration.observe({ method: c.req.method, route, status: String(c.res.status) }, ms / 1000);
    deps.log.info(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(ms),
      },
      'request',
    );
  });

  app.route('/', healthRouter(deps));
  app.get('/metrics', async (c) => {
    const token = deps.config.METRICS_TOKEN;
    if (token && !bearerMatches(c.req.header('authorization'), token)) {
      throw new AppError('unauthorized', 'the metrics need `Authorization: Bearer <METRICS_TOKEN>`', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    }
    return c.text(await registry.metrics(), 200, { 'Content-Type': registry.contentType });
  });

  // Everything under /api is someone's data (or depends on who asks): no shared or browser cache keeps it.
  // Set before the handler (`setResponseHeaders`), so every response carries it unless the
  // handler sends its own; under `app.request()` only a Response a handler built itself gets it
  // afterwards. Hono's `c.header` on a finished response copies the whole response into a new
  // one (with @hono/node-server, a web Response and a body stream): that was 13% of the API's
  // CPU under cached reads.
  app.use('/api/*', async (c, next) => {
    setResponseHeaders(c, NO_STORE);
    await next();
    if (!c.env?.outgoing && !c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
  });

  app.use(
    '/api/*',
    declaredBodyLimit(deps.config.BODY_LIMIT_BYTES, () => {
      // The rest of the body is not read, so this connection cannot carry another request: say so.
      throw new AppError('payload_too_large', `request bodies are limited to ${deps.config.BODY_LIMIT_BYTES} bytes`, {
        headers: { Connection: 'close' },
      });
    }),
  );
  app.use('/api/*', deps.limits.general);
  for (const router of API_ROUTERS) app.route('/api', router(deps));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Order backend API',
      version: '0.1.0',
      description:
        'Orders, partial deliveries, invoices and seller notifications. Errors are RFC 9457 problem details. ' +
        'Every `/api` request is rate-limited per client IP (sign-ins, registrations and orders more tightly): ' +
        'a 429 says when to retry in `Retry-After`, and `RateLimit-*` headers tell where the caller stands.',
    },
    // Relative, so "Try it out" calls whichever host serves this document.
    servers: [{ url: '/', description: 'The server that serves this document' }],
    tags: [
      { name: 'auth', description: 'Register, sign in for a Bearer token, sign out, change the password' },
      { name: 'users', description: 'Accounts of every role, managed by admins' },
      { name: 'catalog', description: "Sellers' products: price in minor units and stock" },
      { name: 'orders', description: 'Checkouts (one order per seller), their status, progress and counters' },
      { name: 'deliveries', description: 'Partial deliveries of an order and their status' },
      { name: 'invoices', description: 'One invoice per delivery, payments and advances, printable PDFs' },
      { name: 'notifications', description: 'What happened to your orders, also pushed over Socket.IO' },
      { name: 'jobs', description: 'The state of background work a request queued (the `Location` of a 202)' },
      { name: 'operations', description: 'Liveness and readiness probes for load balancers and orchestrators' },
    ],
  });

  app.route('/', adminConsole(deps));
  app.route('/', docsRouter());
  // The browser app at /app/ (web/), with its own Content-Security-Policy.
  app.route('/', webAppRouter());

  app.notFound((c) => problemResponse(c, new AppError('not_found', `no route for ${c.req.method} ${c.req.path}`)));
  app.onError(handleError);
  return app;
}

const NO_STORE = [['Cache-Control', 'no-store']] as const;

/** A constant-time comparison of a Bearer header with the expected token. */
function bearerMatches(header: string | undefined, expected: string): boolean {
  const given = Buffer.from(header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? '');
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
