import { swaggerUI } from '@hono/swagger-ui';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { bullBoardConfig, createQueueBoard } from '../../../bull-board.config.js';
import type { Deps } from '../../deps.js';
import { AppError } from '../../lib/errors.js';
import { createRouter, type AppEnv } from '../../lib/http.js';
import { authenticate } from '../users/users.service.js';

/**
 * The operators' pages: Bull Board at /admin/queues (admins only) and the API
 * reference at /docs. A browser cannot send an Authorization header to Bull
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

export function adminConsole({ config, tokens, queues }: Deps) {
  const router = createRouter();

  const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
    const bearer = c.req.header('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
    const token = bearer ?? getCookie(c, COOKIE);
    if (!token) {
      if (c.req.header('accept')?.includes('text/html')) return c.redirect('/admin/login', 302);
      throw new AppError('unauthorized', 'sign in at /admin/login, or send an admin Bearer token');
    }
    const principal = await tokens.verify(token);
    if (principal.role !== 'admin') throw new AppError('forbidden', 'the queues are for admins only');
    c.set('principal', principal);
    await next();
  };

  router.get('/admin/login', (c) => c.html(loginPage()));
  router.post('/admin/login', async (c) => {
    const form = await c.req.parseBody();
    const email = typeof form.email === 'string' ? form.email : '';
    const password = typeof form.password === 'string' ? form.password : '';
    try {
      const user = await authenticate(email, password, config.PASSWORD_HASH_COST);
      if (user.role !== 'admin') return c.html(loginPage('Only admins can open the operations pages.'), 403);
      setCookie(c, COOKIE, await tokens.sign({ id: user.id, role: user.role, name: user.name }), {
        httpOnly: true,
        sameSite: 'Strict',
        path: '/admin',
        secure: config.NODE_ENV === 'production',
      });
      return c.redirect(bullBoardConfig.basePath, 303);
    } catch (error) {
      if (error instanceof AppError && error.code === 'unauthorized') {
        return c.html(loginPage('Email or password is incorrect.'), 401);
      }
      throw error;
    }
  });

  router.use(bullBoardConfig.basePath, requireAdmin);
  router.use(`${bullBoardConfig.basePath}/*`, requireAdmin);
  router.route(bullBoardConfig.basePath, createQueueBoard(queues));

  router.get('/docs', swaggerUI({ url: '/openapi.json', title: 'Order backend API' }));
  return router;
}
