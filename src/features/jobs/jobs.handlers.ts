import type { Deps } from '../../deps.js';
import { createRouter, requireAuth } from '../../lib/http.js';
import * as routes from './jobs.routes.js';
import { getJobStatus } from './jobs.service.js';

export function jobsRouter({ tokens, queues }: Deps) {
  const router = createRouter();
  router.openapi({ ...routes.getJobRoute, middleware: [requireAuth(tokens)] }, async (c) =>
    c.json(await getJobStatus(queues, c.get('principal'), c.req.valid('param').id), 200),
  );
  return router;
}
