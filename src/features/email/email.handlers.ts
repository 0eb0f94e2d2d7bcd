import type { Deps } from '../../deps.js';
import { allowRoles, createRouter, requireAuth } from '../../lib/http.js';
import { changeEmailPreferences, configuredEmailDefaults, readEmailPreferences } from './email-preferences.service.js';
import * as routes from './email.routes.js';
import { listSellerEmails } from './seller-email-list.js';

export function emailRouter({ tokens, redis, config }: Deps) {
  const router = createRouter();
  const auth = requireAuth(tokens);
  const defaults = configuredEmailDefaults(config);

  router.openapi({ ...routes.getEmailPreferencesRoute, middleware: [auth, allowRoles('seller')] }, async (c) =>
    c.json(await readEmailPreferences(c.get('principal').id, defaults), 200),
  );
  router.openapi({ ...routes.changeEmailPreferencesRoute, middleware: [auth, allowRoles('seller')] }, async (c) =>
    c.json(await changeEmailPreferences(redis, c.get('principal').id, c.req.valid('json'), defaults), 200),
  );
  router.openapi({ ...routes.listSellerEmailsRoute, middleware: [auth, allowRoles('staff', 'admin')] }, async (c) =>
    c.json(await listSellerEmails(c.req.valid('query')), 200),
  );
  return router;
}
