import type { Job } from 'bullmq';
import type { z } from 'zod';
import type { QueueName } from './queues.js';

/**
 * A job kind: which queue it runs on, its payload schema (parsed again in the
 * worker, whatever the producer sent) and the service call that does the work.
 */
export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  queue: QueueName;
  name: string;
  payload: S;
  run(payload: z.infer<S>, job: Job): Promise<unknown>;
  /**
   * The same work for many jobs at once, one outcome per job in order. When
   * given, the worker hands it the jobs of this kind that arrive together
   * (up to WORKER_BATCH_SIZE) instead of calling `run` for each.
   */
  runMany?(payloads: Array<z.infer<S>>, jobs: Job[]): Promise<Array<PromiseSettledResult<unknown>>>;
}

export function defineJob<S extends z.ZodType>(definition: JobDefinition<S>): JobDefinition<S> {
  return definition;
}

export type JobTable = Map<string, JobDefinition>;

const key = (queue: string, name: string) => `${queue}:${name}`;

/** Refuses a table where one job kind has two handlers: which would run is a guess. */
export function buildJobTable(definitions: readonly JobDefinition[]): JobTable {
  const table: JobTable = new Map();
  for (const definition of definitions) {
    const id = key(definition.queue, definition.name);
    if (table.has(id)) throw new Error(`job ${id} has two handlers`);
    table.set(id, definition);
  }
  return table;
}

export function findJob(table: JobTable, queue: string, name: string): JobDefinition | undefined {
  return table.get(key(queue, name));
}
