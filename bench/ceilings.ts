/**
 * The two ceilings the system's numbers are compared with, measured against the
 * same FerretDB and the same Redis as the system itself:
 *   - the raw driver's `insertOne` of an order-sized document: no API, no
 *     validation, no jobs, what one order write costs at best;
 *   - BullMQ's no-op job: added one at a time, as the API adds them, and
 *     processed by a worker whose processor does nothing.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { MongoClient, type Document } from 'mongodb';
import { summarize, type Latencies } from './measure.js';

export interface Ceiling extends Latencies {
  rate: number;
  concurrency: number;
}

/** Keeps `concurrency` calls of `step` in flight for `seconds`; latencies of each call. */
async function closedLoop(concurrency: number, seconds: number, step: (i: number) => Promise<void>) {
  const samples: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const sent = performance.now();
        await step(next++);
        samples.push(performance.now() - sent);
      }
    }),
  );
  return { samples, seconds: (performance.now() - started) / 1000 };
}

export async function insertOneCeiling(
  mongoUrl: string,
  orderLike: Document,
  concurrency: number,
  seconds: number,
): Promise<Ceiling> {
  const client = new MongoClient(mongoUrl, { maxPoolSize: concurrency });
  try {
    const collection = client.db().collection('bench_ceiling_orders');
    const { _id: _drop, ...body } = orderLike;
    const { samples, seconds: took } = await closedLoop(concurrency, seconds, async (i) => {
      await collection.insertOne({ ...body, orderNumber: `CEILING-${i}` });
    });
    await collection.drop().catch(() => {});
    return { ...summarize(samples), rate: samples.length / took, concurrency };
  } finally {
    await client.close();
  }
}

export async function noopJobCeiling(redisUrl: string, concurrency: number, seconds: number): Promise<Ceiling> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const prefix = 'bench-ceiling';
  const queue = new Queue('noop', { connection, prefix });
  const workerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker('noop', async () => {}, {
    connection: workerConnection,
    prefix,
    concurrency,
  });
  const addedAt = new Map<string, number>();
  const samples: number[] = [];
  worker.on('completed', (job) => {
    const at = addedAt.get(job.id!);
    if (at !== undefined) samples.push(performance.now() - at);
  });
  try {
    await worker.waitUntilReady();
    const started = performance.now();
    let added = 0;
    await closedLoop(concurrency, seconds, async (i) => {
      const id = `noop-${i}`;
      addedAt.set(id, performance.now());
      await queue.add('noop', { i }, { jobId: id, removeOnComplete: true });
      added++;
    });
    while (samples.length < added) await new Promise((resolve) => setTimeout(resolve, 20));
    const took = (performance.now() - started) / 1000;
    // Latency here is add to completion, the part of a notification's path BullMQ owns.
    return { ...summarize(samples), rate: samples.length / took, concurrency };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    await Promise.all([connection.quit(), workerConnection.quit()]);
  }
}
