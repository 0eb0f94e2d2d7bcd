import type { Context } from 'hono';
import type { Deps } from '../../deps.js';
import { allowRoles, createRouter, requestLog, jsonText, requireAuth, type AppEnv } from '../../lib/http.js';
import { placeOrder } from './order-placement.js';
import * as routes from './orders.routes.js';
import {
  cancelOrder,
  confirmOrder,
  getOrderJson,
  getProgress,
  getRemaining,
  listOrders,
  setOrderStatus,
  statsFor,
} from './orders.service.js';

export function ordersRouter({ config, tokens, redis, queues, log, limits }: Deps) {
  const ctx = { queues, redis, log };
  // Per request: its logger, and its id for the jobs its changes owe.
  const ctxOf = (c: Context<AppEnv>) => ({ ...ctx, log: requestLog(c), requestId: c.get('requestId') });
  const settings = { currency: config.CURRENCY, leadTimeDays: config.ORDER_LEAD_TIME_DAYS };
  const router = createRouter();
  router.use('/orders', requireAuth(tokens));
  router.use('/orders/*', requireAuth(tokens));

  router.openapi(
    { ...routes.placeOrderRoute, middleware: [allowRoles('customer'), limits.ordersByCustomer] },
    async (c) => {
      const result = await placeOrder(
        ctxOf(c),
        settings,
        c.get('principal'),
        c.req.valid('json'),
        c.req.valid('header')['idempotency-key'],
      );
      return c.json(result.body, 201);
    },
  );
  router.openapi(routes.listOrdersRoute, async (c) =>
    c.json(await listOrders(redis, c.get('principal'), c.req.valid('query')), 200),
  );
  router.openapi({ ...routes.sellerOrdersRoute, middleware: [allowRoles('seller')] }, async (c) =>
    c.json(await listOrders(redis, c.get('principal'), c.req.valid('query')), 200),
  );
  router.openapi(routes.orderStatsRoute, async (c) => c.json(await statsFor(redis, c.get('principal')), 200));
  router.openapi(routes.getOrderRoute, async (c) =>
    jsonText(c, await getOrderJson(redis, c.get('principal'), c.req.valid('param').id)),
  );
  router.openapi(routes.remainingRoute, async (c) =>
    c.json(await getRemaining(redis, c.get('principal'), c.req.valid('param').id), 200),
  );
  router.openapi(routes.progressRoute, async (c) =>
    c.json(await getProgress(redis, c.get('principal'), c.req.valid('param').id), 200),
  );
  router.openapi({ ...routes.confirmRoute, middleware: [allowRoles('seller')] }, async (c) => {
    const body = c.req.valid('json') as { estimatedDelivery?: string } | undefined;
    return c.json(
      await confirmOrder(ctxOf(c), c.get('principal'), c.req.valid('param').id, body?.estimatedDelivery),
      200,
    );
  });
  router.openapi({ ...routes.setStatusRoute, middleware: [allowRoles('seller', 'staff', 'admin')] }, async (c) =>
    c.json(
      await setOrderStatus(ctxOf(c), c.get('principal'), c.req.valid('param').id, c.req.valid('json').status),
      200,
    ),
  );
  router.openapi({ ...routes.cancelRoute, middleware: [allowRoles('admin')] }, async (c) => {
    const body = c.req.valid('json') as { reason?: string } | undefined;
    return c.json(await cancelOrder(ctxOf(c), c.get('principal'), c.req.valid('param').id, body?.reason), 200);
  });
  router.openapi({ ...routes.deleteRoute, middleware: [allowRoles('customer', 'seller', 'admin')] }, async (c) =>
    c.json(await cancelOrder(ctxOf(c), c.get('principal'), c.req.valid('param').id), 200),
  );

  return router;
}
