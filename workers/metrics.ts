import { createServer, type Server } from 'node:http';
import type { Worker } from 'bullmq';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../src/lib/logger.js';

/**
 * The worker's own HTTP port (WORKER_METRICS_PORT; 0 turns it off): Prometheus
 * `/metrics` (job durations and outcomes per queue and job name; queue depths
 * are on the API's /metrics, read from Redis), `/healthz` and `/readyz`.
 */
export function serveWorkerMetrics(
  workers: Worker[],
  port: number,
  log: Logger,
  /** What `/readyz` checks: each dependency up or down. */
  checks: () => Promise<Record<string, 'up' | 'down'>> = async () => ({}),
): { close(): Promise<void> } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'job_duration_seconds',
    help: 'Time from a job starting to finishing, by queue, job name and outcome',
    labelNames: ['queue', 'job', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const jobs = new Counter({
    name: 'jobs_total',
    help: 'Jobs finished, by queue, job name and outcome',
    labelNames: ['queue', 'job', 'outcome'] as const,
    registers: [registry],
  });
  for (const worker of workers) {
    const record = (
      outcome: 'completed' | 'failed',
      job: { name: string; processedOn?: number; finishedOn?: number } | undefined,
    ) => {
      if (!job) return;
      const labels = { queue: worker.name, job: job.name, outcome };
      jobs.inc(labels);
      if (job.processedOn && job.finishedOn) duration.observe(labels, (job.finishedOn - job.processedOn) / 1000);
    };
    worker.on('completed', (job) => record('completed', job));
    worker.on('failed', (job) => record('failed', job));
  }

  let server: Server | undefined;
  if (port > 0) {
    server = createServer((req, res) => {
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      // Alive: the process answers. Ready: it reaches MongoDB and Redis, so it can take jobs.
      if (req.url === '/healthz') return json(200, { status: 'ok' });
      if (req.url === '/readyz') {
        checks().then(
          (state) =>
            Object.values(state).every((value) => value === 'up')
              ? json(200, { status: 'ready', checks: state })
              : json(503, { status: 'not ready', checks: state }),
          () => json(503, { status: 'not ready' }),
        );
        return;
      }
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    server.on('error', (error) => log.warn({ err: error.message, port }, 'worker metrics endpoint not available'));
    server.listen(port);
  }
  return {
    close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
}
