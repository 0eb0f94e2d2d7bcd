/**
 * Measuring tools shared by the benchmark phases: an autocannon run that keeps
 * every response time (autocannon's own summary has no p95), percentiles, CPU
 * time per process from /proc, and waiting for the job queues to drain.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { JobType, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { closeQueues, createQueues } from '../src/jobs/queues.js';
import { createLogger } from '../src/lib/logger.js';
import { eventually } from '../tests/helpers/processes.js';

export interface Latencies {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

export function summarize(samples: number[]): Latencies {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export interface LoadResult extends Latencies {
  connections: number;
  seconds: number;
  /** Responses per second, 2xx or not. */
  rate: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** One autocannon run; latencies are those of every response, in milliseconds. */
export function load(options: autocannon.Options): Promise<LoadResult> {
  const samples: number[] = [];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    autocannon(
      {
        ...options,
        setupClient: (client) => {
          client.on('response', (_status: number, _bytes: number, ms: number) => samples.push(ms));
        },
      },
      (error, result) => {
        if (error) return reject(error);
        const seconds = (performance.now() - started) / 1000;
        resolve({
          ...summarize(samples),
          connections: result.connections,
          seconds,
          rate: samples.length / seconds,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
        });
      },
    );
  });
}

const CLOCK_TICKS_PER_SECOND = 100;

function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU use of named processes over a phase, as a share of one core. On this
 * two-core machine the load generator (the bench process) competes with the
 * system it measures, so it is counted too.
 */
export function cpuMeter(pids: Record<string, number>) {
  const named = { ...pids, bench: process.pid };
  const before = Object.fromEntries(Object.entries(named).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const started = performance.now();
  return () => {
    const elapsed = (performance.now() - started) / 1000;
    return Object.fromEntries(
      Object.entries(named).map(([name, pid]) => [name, (cpuSeconds(pid) - before[name]!) / elapsed]),
    ) as Record<string, number>;
  };
}

export const formatCpu = (cpu: Record<string, number>) =>
  Object.entries(cpu)
    .sort(([, a], [, b]) => b - a)
    .map(([name, share]) => `${name} ${Math.round(share * 100)}%`)
    .join(', ');

/** The system's queues, open for the length of `use`. */
async function withQueues<T>(redisUrl: string, prefix: string, use: (queues: Queue[]) => Promise<T>): Promise<T> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queues = createQueues(connection, prefix, createLogger('silent', 'bench'));
  try {
    return await use(Object.values(queues));
  } finally {
    await closeQueues(queues);
    await connection.quit();
  }
}

/**
 * Every job of every queue done (or failed): nothing waiting, delayed or running,
 * but for the maintenance queue's schedule, which is always delayed.
 */
export function drainQueues(redisUrl: string, prefix = 'orders', timeoutMs = 30 * 60_000) {
  return withQueues(redisUrl, prefix, (queues) =>
    eventually(async () => {
      for (const queue of queues) {
        const states = ['waiting', 'active', 'prioritized', ...(queue.name === 'maintenance' ? [] : ['delayed'])];
        const counts = await queue.getJobCounts(...(states as JobType[]));
        if (Object.values(counts).some((n) => n > 0)) throw new Error(`${queue.name} still has jobs`);
      }
    }, timeoutMs),
  );
}

/** Completed and failed jobs over all queues (BullMQ keeps the last 10,000 completed per queue). */
export function jobTotals(redisUrl: string, prefix = 'orders') {
  return withQueues(redisUrl, prefix, async (queues) => {
    let completed = 0;
    let failed = 0;
    for (const queue of queues) {
      const counts = await queue.getJobCounts('completed', 'failed');
      completed += counts.completed ?? 0;
      failed += counts.failed ?? 0;
    }
    return { completed, failed };
  });
}

export const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(value < 10 ? 1 : 0) : '–');
