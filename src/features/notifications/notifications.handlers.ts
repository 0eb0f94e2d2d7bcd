import type { Deps } from '../../deps.js';
import { createRouter, requireAuth } from '../../lib/http.js';
import * as routes from './notifications.routes.js';
import { listNotifications, markAllRead, markRead, unreadCount } from './notifications.service.js';

export function notificationsRouter({ tokens }: Deps) {
  const router = createRouter();
  router.use('/notifications', requireAuth(tokens));
  router.use('/notifications/*', requireAuth(tokens));

  // Static paths before `{id}` ones, so "read-all" is never taken for an id.
  router.openapi(routes.unreadCountRoute, async (c) =>
    c.json({ count: await unreadCount(c.get('principal').id) }, 200),
  );
  router.openapi(routes.markAllReadRoute, async (c) =>
    c.json({ updated: await markAllRead(c.get('principal').id) }, 200),
  );
  router.openapi(routes.listNotificationsRoute, async (c) =>
    c.json(await listNotifications(c.get('principal').id, c.req.valid('query')), 200),
  );
  router.openapi(routes.markReadRoute, async (c) =>
    c.json(await markRead(c.get('principal').id, c.req.valid('param').id), 200),
  );
  return router;
}
