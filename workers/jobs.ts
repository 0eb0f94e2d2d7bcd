import type { JobDefinition } from '../src/jobs/registry.js';

/**
 * Every job kind the workers run. Each processor file under `processors/`
 * exports its definitions; adding one here is what makes it run.
 */
export const JOB_DEFINITIONS: readonly JobDefinition[] = [];
