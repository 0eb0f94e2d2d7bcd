import type { Redis } from 'ioredis';
import type { Config } from '../src/env.js';
import type { Queues } from '../src/jobs/queues.js';
import type { EventPublisher } from '../src/lib/events.js';
import type { Logger } from '../src/lib/logger.js';

/** What job processors are built from; created once per worker process. */
export interface WorkerContext {
  config: Config;
  log: Logger;
  /** Producers, for jobs that owe further jobs (an order change owes a cache warm). */
  queues: Queues;
  /** The fail-fast connection, for caches. */
  redis: Redis;
  events: EventPublisher;
}
