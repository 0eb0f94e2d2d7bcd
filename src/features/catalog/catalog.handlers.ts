import type { Deps } from '../../deps.js';
import { allowRoles, createRouter, requireAuth } from '../../lib/http.js';
import * as routes from './catalog.routes.js';
import { createProduct, getProduct, listProducts, updateProduct } from './catalog.service.js';

export function catalogRouter({ config, tokens, redis }: Deps) {
  const currency = config.CURRENCY;
  const router = createRouter();
  const canManage = allowRoles('seller', 'admin');
  router.use('/products', requireAuth(tokens));
  router.use('/products/*', requireAuth(tokens));

  router.openapi({ ...routes.createProductRoute, middleware: [canManage] }, async (c) =>
    c.json(await createProduct(redis, c.get('principal'), c.req.valid('json'), currency), 201),
  );
  router.openapi(routes.listProductsRoute, async (c) =>
    c.json(await listProducts(redis, c.req.valid('query'), currency), 200),
  );
  router.openapi(routes.getProductRoute, async (c) =>
    c.json(await getProduct(redis, c.req.valid('param').id, currency), 200),
  );
  router.openapi({ ...routes.updateProductRoute, middleware: [canManage] }, async (c) =>
    c.json(await updateProduct(redis, c.get('principal'), c.req.valid('param').id, c.req.valid('json'), currency), 200),
  );

  return router;
}
