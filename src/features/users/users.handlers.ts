import type { Deps } from '../../deps.js';
import { allowRoles, createRouter, requireAuth } from '../../lib/http.js';
import * as routes from './users.routes.js';
import { createUser, deleteUser, revokeSessions, updateUser } from './users.service.js';

export function usersRouter({ config, tokens, redis }: Deps) {
  const router = createRouter();
  // `/users/*` matches `/users` too.
  router.use('/users/*', requireAuth(tokens), allowRoles('admin'));

  router.openapi(routes.createUserRoute, async (c) => {
    const user = await createUser(c.req.valid('json'), config.PASSWORD_HASH_COST);
    return c.json(user, 201);
  });

  router.openapi(routes.updateUserRoute, async (c) =>
    c.json(await updateUser(redis, c.get('principal'), c.req.valid('param').id, c.req.valid('json')), 200),
  );

  router.openapi(routes.deleteUserRoute, async (c) => {
    await deleteUser(redis, c.get('principal'), c.req.valid('param').id);
    return c.body(null, 204);
  });

  router.openapi(routes.revokeSessionsRoute, async (c) => {
    await revokeSessions(redis, c.req.valid('param').id);
    return c.body(null, 204);
  });

  return router;
}
