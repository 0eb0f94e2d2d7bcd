import type { Deps } from '../../deps.js';
import { allowRoles, createRouter, requireAuth } from '../../lib/http.js';
import * as routes from './users.routes.js';
import { createUser } from './users.service.js';

export function usersRouter({ config, tokens }: Deps) {
  const router = createRouter();
  router.use('/users', requireAuth(tokens), allowRoles('admin'));

  router.openapi(routes.createUserRoute, async (c) => {
    const user = await createUser(c.req.valid('json'), config.PASSWORD_HASH_COST);
    return c.json(user, 201);
  });

  return router;
}
