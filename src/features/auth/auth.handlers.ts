import type { Deps } from '../../deps.js';
import { createRouter, requireAuth } from '../../lib/http.js';
import type { PublicUser } from '../users/user.model.js';
import { authenticate, createUser, getUser } from '../users/users.service.js';
import * as routes from './auth.routes.js';

export function authRouter({ config, tokens, limits }: Deps) {
  const issue = async (user: PublicUser) => ({
    token: await tokens.sign({ id: user.id, role: user.role, name: user.name }),
    user,
  });

  const router = createRouter();
  router.use('/auth/me', requireAuth(tokens));
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

  return router;
}
