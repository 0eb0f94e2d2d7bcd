import type { JobDefinition } from '../src/jobs/registry.js';
import type { WorkerContext } from './context.js';
import { cacheJobs } from './processors/cache.js';
import { emailJobs } from './processors/email.js';
import { inventoryJobs } from './processors/inventory.js';
import { invoiceJobs } from './processors/invoices.js';
import { maintenanceJobs } from './processors/maintenance.js';
import { notificationJobs } from './processors/notifications.js';

/** Every job kind the workers run; a job kind not listed here fails at once, visibly. */
export function jobDefinitions(ctx: WorkerContext): JobDefinition[] {
  return [
    ...inventoryJobs(ctx),
    ...notificationJobs(ctx),
    ...cacheJobs(ctx),
    ...invoiceJobs(ctx),
    ...maintenanceJobs(ctx),
    ...emailJobs(ctx),
  ] as JobDefinition[];
}
