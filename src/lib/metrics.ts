import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The API process's Prometheus metrics. Counters are bumped where things
 * happen; gauges that need a look at Redis or MongoDB (queue depths, the
 * notification backlog, Redis memory) are read when Prometheus scrapes.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const httpDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request duration by method, route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const ordersCreated = new Counter({
  name: 'orders_created_total',
  help: 'Orders placed (one per seller of a checkout)',
  registers: [registry],
});

export const cacheLookups = new Counter({
  name: 'cache_lookups_total',
  help: 'Order cache look-ups by result',
  labelNames: ['cache', 'result'] as const,
  registers: [registry],
});

export const notificationsAcknowledged = new Counter({
  name: 'notifications_acknowledged_total',
  help: 'Seller notifications acknowledged by a socket',
  registers: [registry],
});

export const notificationsReplayed = new Counter({
  name: 'notifications_replayed_total',
  help: 'Unacknowledged notifications sent again to a seller on connect',
  registers: [registry],
});

/** What the scrape-time gauges read; bound once the API has its connections. */
export interface MetricSources {
  queueCounts(): Promise<Array<{ queue: string; counts: Record<string, number> }>>;
  notificationBacklog(): Promise<number>;
  socketConnections(): number;
  redisMemoryBytes(): Promise<number>;
}

let sources: MetricSources | undefined;

export function bindMetricSources(bound: MetricSources | undefined): void {
  sources = bound;
}

// A data service that does not answer leaves a gauge at its last value.
const quietly = async (read: () => Promise<void>) => read().catch(() => {});

new Gauge({
  name: 'queue_jobs',
  help: 'Jobs per queue and state',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
  async collect() {
    await quietly(async () => {
      for (const { queue, counts } of (await sources?.queueCounts()) ?? []) {
        for (const [state, count] of Object.entries(counts)) this.set({ queue, state }, count);
      }
    });
  },
});

new Gauge({
  name: 'notifications_waiting',
  help: 'Seller notifications not yet acknowledged (the offline backlog)',
  registers: [registry],
  async collect() {
    await quietly(async () => {
      if (sources) this.set(await sources.notificationBacklog());
    });
  },
});

new Gauge({
  name: 'socket_connections',
  help: 'Socket.IO connections held by this API instance',
  registers: [registry],
  collect() {
    this.set(sources?.socketConnections() ?? 0);
  },
});

new Gauge({
  name: 'redis_memory_used_bytes',
  help: 'Memory used by Redis (INFO memory)',
  registers: [registry],
  async collect() {
    await quietly(async () => {
      if (sources) this.set(await sources.redisMemoryBytes());
    });
  },
});
