import type { Deps } from '../../deps.js';
import { createRouter, requireAuth } from '../../lib/http.js';
import type { PublicUser } from '../users/user.model.js';
import { authenticate, changePassword, createUser, getUser, revokeSessions } from '../users/users.service.js';
import * as routes from './auth.routes.js';

export function authRouter({ config, tokens, redis, limits }: Deps) {
  const issue = async (user: PublicUser) => ({
    token: await tokens.sign({ id: user.id, role: user.role, name: user.name }),
    user,
  });

  const router = createRouter();
  router.use('/auth/me', requireAuth(tokens));
  router.use('/auth/logout', requireAuth(tokens));
  // A stolen token must not buy unlimited guesses at the current password.
  router.use('/auth/password', limits.authByIp, requireAuth(tokens));
  router.use('/auth/login', limits.authByIp, limits.loginByEmail);
  router.use('/auth/register', limits.authByIp);

  router.openapi(routes.register, async (c) => {
    const input = c.req.valid('json');
    const user = await createUser({ ...input, role: 'customer' }, config.PASSWORD_HASH_COST);
    return c.json(await issue(user), 201);
  });

  router.openapi(routes.login, async (c) => {
    const { email, password } = c.req.valid('json');
    const user = await authenticate(email, password, config.PASSWORD_HASH_COST);
    return c.json(await issue(user), 200);
  });

  router.openapi(routes.me, async (c) => c.json(await getUser(c.get('principal').id), 200));

  router.openapi(routes.logout, async (c) => {
    await revokeSessions(redis, c.get('principal').id);
    return c.body(null, 204);
  });

  router.openapi(routes.changePassword, async (c) => {
    const user = await changePassword(redis, c.get('principal').id, c.req.valid('json'), config.PASSWORD_HASH_COST);
    return c.json(await issue(user), 200);
  });

  return router;
}
