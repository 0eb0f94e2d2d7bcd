import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { bullBoardConfig, createQueueBoard } from '../../../bull-board.config.js';
import type { Deps } from '../../deps.js';
import { AppError } from '../../lib/errors.js';
import { createRouter, type AppEnv } from '../../lib/http.js';
import { authenticate } from '../users/users.service.js';

/**
 * The operators' pages: Bull Board at /admin/queues (admins only); the API
 * reference at /docs is `docs.ts`. A browser cannot send an Authorization header to Bull
 * Board's own requests, so an admin signs in at /admin/login and gets the
 * same JWT as an HttpOnly, SameSite=Strict cookie scoped to /admin.
 */

const COOKIE = 'admin_session';

const loginPage = (message = '') => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in: order backend operations</title>
<style>body{font:16px system-ui;max-width:22rem;margin:4rem auto}label,input,button{display:block;width:100%;margin:.4rem 0}input{padding:.4rem}p{color:#a00}</style>
</head><body><h1>Operations sign-in</h1>${message ? `<p>${message}</p>` : ''}
<form method="post" action="/admin/login">
<label>Email <input name="email" type="email" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></body></html>`;

/**
 * Whether the request reached us over HTTPS: its own URL, or, behind a proxy
 * we trust (`TRUST_PROXY`), the proxy's `X-Forwarded-Proto`.
 */
function cameOverHttps(c: Context, trustProxy: boolean): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  return trustProxy && c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https';
}

export function adminConsole({ config, tokens, queues, limits }: Deps) {
  const router = createRouter();
  const secureCookie = (c: Context) =>
    config.ADMIN_COOKIE_SECURE === 'always' ||
    (config.ADMIN_COOKIE_SECURE === 'auto' && cameOverHttps(c, config.TRUST_PROXY));

  const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
    const bearer = c.req.header('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
    const token = bearer ?? getCookie(c, COOKIE);
    if (!token) {
      if (c.req.header('accept')?.includes('text/html')) return c.redirect('/admin/login', 302);
      throw new AppError('unauthorized', 'sign in at /admin/login, or send an admin Bearer token');
    }
    const principal = await tokens.authenticate(token);
    if (principal.role !== 'admin') throw new AppError('forbidden', 'the queues are for admins only');
    c.set('principal', principal);
    await next();
  };

  router.get('/admin/login', (c) => c.html(loginPage()));
  // Each wrong password costs a full scrypt: the same limits as the API's login, answered as a page.
  router.post('/admin/login', async (c, next) => {
    try {
      await limits.authByIp(c, async () => {
        await limits.loginByEmail(c, async () => {});
      });
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'rate_limited') throw error;
      for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
      return c.html(
        loginPage(`Too many sign-in attempts; try again in ${error.headers?.['Retry-After'] ?? 60} s.`),
        429,
      );
    }
    await next();
  });
  router.post('/admin/login', async (c) => {
    const form = await c.req.parseBody();
    const email = typeof form.email === 'string' ? form.email : '';
    const password = typeof form.password === 'string' ? form.password : '';
    try {
      const user = await authenticate(email, password, config.PASSWORD_HASH_COST);
      if (user.role !== 'admin') return c.html(loginPage('Only admins can open the operations pages.'), 403);
      const secure = secureCookie(c);
      if (secure && !cameOverHttps(c, config.TRUST_PROXY)) {
        // A browser drops a Secure cookie set over plain HTTP: say so instead of returning to the form.
        return c.html(
          loginPage(
            'Signed in, but this page was served over plain HTTP and the session cookie is Secure (ADMIN_COOKIE_SECURE=always), ' +
              'so your browser would not keep it. Open the operations pages over HTTPS.',
          ),
          400,
        );
      }
      setCookie(c, COOKIE, await tokens.sign({ id: user.id, role: user.role, name: user.name }), {
        httpOnly: true,
        sameSite: 'Strict',
        path: '/admin',
        secure,
      });
      // Through a check that the browser kept the cookie, rather than straight to the board.
      return c.redirect('/admin/login/check', 303);
    } catch (error) {
      if (error instanceof AppError && error.code === 'unauthorized') {
        return c.html(loginPage('Email or password is incorrect.'), 401);
      }
      throw error;
    }
  });

  router.get('/admin/login/check', (c) =>
    getCookie(c, COOKIE)
      ? c.redirect(bullBoardConfig.basePath, 303)
      : c.html(
          loginPage(
            'Your browser did not keep the session cookie (cookies blocked, or a Secure cookie over plain HTTP). ' +
              'Allow cookies for this site, or open it over HTTPS.',
          ),
          400,
        ),
  );
  // Sign-out: a link (GET) or a form (POST); either drops the cookie. Bull Board's page has no
  // button of its own, so /admin/logout is the address to open.
  const signOut = (c: Context) => {
    deleteCookie(c, COOKIE, { path: '/admin', httpOnly: true, sameSite: 'Strict', secure: secureCookie(c) });
    return c.html(loginPage('Signed out.'));
  };
  router.get('/admin/logout', signOut);
  router.post('/admin/logout', signOut);

  router.use(bullBoardConfig.basePath, requireAdmin);
  router.use(`${bullBoardConfig.basePath}/*`, requireAdmin);
  router.route(bullBoardConfig.basePath, createQueueBoard(queues));

  return router;
}
