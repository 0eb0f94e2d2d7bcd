import type { Redis } from 'ioredis';
import type { Config } from './env.js';
import type { SessionService } from './features/auth/sessions.service.js';
import type { Queues } from './jobs/queues.js';
import type { Logger } from './lib/logger.js';
import type { RateLimits } from './lib/rate-limits.js';

/** What the HTTP layer is built from; created once per process in `index.ts`. */
export interface Deps {
  config: Config;
  log: Logger;
  /** Signs tokens and authenticates them, session check included (`authenticate`). */
  tokens: SessionService;
  /** The fail-fast connection for caches, locks and rate limits. */
  redis: Redis;
  /** Producers for every queue; adds fail fast while Redis is down (the owed-work reconciler catches up). */
  queues: Queues;
  limits: RateLimits;
  /** Whether start-up work (indexes, admin account) has finished; `/readyz` waits for it. */
  startup: { done: boolean };
}
