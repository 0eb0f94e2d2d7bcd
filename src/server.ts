import { useOrderIndexNamespace } from './order-flow/order-index.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { attachGateway } from './realtime/gateway.js';
import { Notification } from './features/notifications/notification.model.js';
import { closeQueues, createQueues, QUEUE_NAMES } from './jobs/queues.js';
import { bindMetricSources } from './lib/metrics.js';
import type { Config } from './env.js';
import { ensureAdmin } from './features/users/users.service.js';
import { retryUntilDone } from './lib/async.js';
import { createLogger, type Logger } from './lib/logger.js';
import { connectMongo, disconnectMongo, ensureIndexes } from './lib/mongo.js';
import { createRateLimits } from './lib/rate-limits.js';
import { closeRedis, createRedis } from './lib/redis.js';
import { TokenService } from './lib/tokens.js';
import { SessionService } from './features/auth/sessions.service.js';

export interface ApiServer {
  port: number;
  /** The Hono app, for inspection (its route table) in tests. */
  app: ReturnType<typeof createApp>;
  log: Logger;
  /** Settles once MongoDB is connected, indexes exist and the admin is bootstrapped. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts listening at once, so `/healthz` answers and `/readyz` can say what is
 * missing, then connects to MongoDB in the background, retrying until it can.
 */
export async function startApiServer(config: Config, log = createLogger(config.LOG_LEVEL, 'api')): Promise<ApiServer> {
  useOrderIndexNamespace(config.QUEUE_PREFIX);
  const redis = createRedis(config.REDIS_URL, 'command', log, 'api', { coalesceWrites: true });
  const queueConnection = createRedis(config.REDIS_URL, 'command', log, 'api-queues', { coalesceWrites: true });
  const queues = createQueues(queueConnection, config.QUEUE_PREFIX, log);
  const tokens = new SessionService(new TokenService(config.JWT_SECRET, config.JWT_EXPIRES_IN), redis);
  const startup = { done: false };
  const app = createApp({ config, log, tokens, redis, queues, startup, limits: createRateLimits(redis, config, log) });

  const handlers = countInFlight(app.fetch);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: handlers.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(s as Server));
    (s as Server).once('error', reject);
  });
  answerMalformedRequests(server);
  const gateway = attachGateway(server, { tokens, log, redisUrl: config.REDIS_URL, redis, limits: config });
  bindMetricSources({
    queueCounts: () =>
      Promise.all(
        QUEUE_NAMES.map(async (queue) => ({
          queue,
          counts: await queues[queue].getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed'),
        })),
      ),
    notificationBacklog: () =>
      Notification.countDocuments({ type: 'order_notification', deliveredAt: { $exists: false } }),
    socketConnections: () => gateway.io.engine.clientsCount,
    redisMemoryBytes: async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0),
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, host: config.HOST }, 'api listening');

  const stopStartup = new AbortController();
  const ready = (async () => {
    await connectMongo(config, log, stopStartup.signal);
    await retryUntilDone(
      async () => {
        await ensureIndexes();
        await ensureAdmin(config.ADMIN_EMAIL, config.ADMIN_PASSWORD, config.PASSWORD_HASH_COST, log);
      },
      (error, retryInMs) => log.warn({ err: error.message, retryInMs }, 'start-up step failed; retrying'),
      stopStartup.signal,
    );
    startup.done = true;
    log.info('api ready');
  })();
  // Callers that never await `ready` must not see an unhandled rejection on shutdown.
  ready.catch(() => {});

  return {
    port,
    app,
    log,
    ready,
    async close() {
      stopStartup.abort();
      // Stop accepting, let in-flight requests finish, then drop idle keep-alives.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await gateway.close();
      await closed;
      // A connection can end before its handler does (the client gave up): its writes must
      // still finish before the database connection goes, or they stop half-way.
      await handlers.idle();
      await disconnectMongo();
      await closeQueues(queues);
      await Promise.all([closeRedis(redis), closeRedis(queueConnection)]);
    },
  };
}

/** Wraps the app's fetch handler to count the requests in flight, and to wait until there are none. */
function countInFlight<Rest extends unknown[]>(
  fetch: (request: Request, ...rest: Rest) => Response | Promise<Response>,
) {
  let inFlight = 0;
  let whenIdle: (() => void) | undefined;
  return {
    fetch: async (request: Request, ...rest: Rest) => {
      inFlight++;
      try {
        return await fetch(request, ...rest);
      } finally {
        inFlight--;
        if (inFlight === 0) whenIdle?.();
      }
    },
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (whenIdle = resolve))),
  };
}

/**
 * Requests Node refuses before the app sees them (a URL or headers over its
 * 16 KiB limit, bytes that are not HTTP) get a problem document like every
 * other error, instead of Node's bare status line, and the connection closes.
 */
function answerMalformedRequests(server: Server): void {
  server.on('clientError', (error: Error & { code?: string }, socket) => {
    if (!socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const [status, title] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout']
          : [400, 'Bad Request'];
    const body = JSON.stringify({
      type: 'about:blank',
      title,
      status,
      detail: status === 431 ? 'the request line or headers are larger than 16 KiB' : 'the request is not valid HTTP',
    });
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
