import type { Context } from 'hono';
import type { Deps } from '../../deps.js';
import { allowRoles, createRouter, requestLog, requireAuth, type AppEnv } from '../../lib/http.js';
import { deliveriesToday } from './deliveries-today.js';
import { createDelivery, listDeliveries, setDeliveryStatus } from './deliveries.service.js';
import * as routes from './deliveries.routes.js';

export function deliveriesRouter({ tokens, queues, redis, log }: Deps) {
  const ctx = { queues, redis, log };
  // Per request: its logger, and its id for the jobs its changes owe.
  const ctxOf = (c: Context<AppEnv>) => ({ ...ctx, log: requestLog(c), requestId: c.get('requestId') });
  const router = createRouter();
  // Per-route guards: these paths sit under /orders, whose router has guards of its own.
  const auth = requireAuth(tokens);
  const managers = allowRoles('seller', 'staff', 'admin');

  router.openapi({ ...routes.createDeliveryRoute, middleware: [auth, managers] }, async (c) =>
    c.json(await createDelivery(ctxOf(c), c.get('principal'), c.req.valid('param').id, c.req.valid('json')), 201),
  );
  router.openapi({ ...routes.shipRoute, middleware: [auth, allowRoles('seller')] }, async (c) =>
    c.json(
      await createDelivery(ctxOf(c), c.get('principal'), c.req.valid('param').id, 'everything-remaining', 'dispatched'),
      201,
    ),
  );
  router.openapi({ ...routes.listDeliveriesRoute, middleware: [auth] }, async (c) =>
    c.json({ data: await listDeliveries(c.get('principal'), c.req.valid('param').id) }, 200),
  );
  router.openapi({ ...routes.deliveryStatusRoute, middleware: [auth, managers] }, async (c) =>
    c.json(
      await setDeliveryStatus(
        ctxOf(c),
        c.get('principal'),
        c.req.valid('param').deliveryId,
        c.req.valid('json').status,
      ),
      200,
    ),
  );
  router.openapi({ ...routes.deliveriesTodayRoute, middleware: [auth, managers] }, async (c) =>
    c.json(await deliveriesToday(redis, c.get('principal')), 200),
  );
  return router;
}
