import { createRoute, z } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { AppError } from '../../lib/errors.js';
import { createRouter } from '../../lib/http.js';
import { json, problemExample, ProblemSchema } from '../../lib/openapi.js';
import { pingMongo } from '../../lib/mongo.js';
import { pingRedis } from '../../lib/redis.js';

const ChecksSchema = z.object({
  mongodb: z.enum(['up', 'down']),
  redis: z.enum(['up', 'down']),
  startup: z.enum(['done', 'pending']),
});
const ReadinessSchema = z
  .object({ status: z.enum(['ready', 'unavailable']), checks: ChecksSchema })
  .openapi('Readiness');

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'checkLiveness',
  tags: ['operations'],
  summary: 'The process is up',
  responses: { 200: json(z.object({ status: z.literal('ok') }), 'Always, while the process runs') },
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'checkReadiness',
  tags: ['operations'],
  summary: 'MongoDB and Redis are reachable and start-up work is done',
  responses: {
    200: json(ReadinessSchema, 'Both data services answer'),
    503: {
      description: 'At least one data service does not answer, or start-up is not finished; `detail` says which',
      headers: {
        'Retry-After': { description: 'Seconds before asking again', schema: { type: 'integer', minimum: 0 } },
      },
      content: {
        'application/problem+json': {
          schema: ProblemSchema.extend({ checks: ChecksSchema }),
          example: {
            ...problemExample(503),
            detail: 'not ready: redis unreachable',
            checks: { mongodb: 'up', redis: 'down', startup: 'done' },
          },
        },
      },
    },
  },
});

const state = (check: Promise<void>) =>
  check.then(
    () => 'up' as const,
    () => 'down' as const,
  );

export function healthRouter({ redis, startup }: Deps) {
  const router = createRouter();
  router.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200));
  router.openapi(readyz, async (c) => {
    const [mongodb, redisState] = await Promise.all([state(pingMongo()), state(pingRedis(redis))]);
    const checks = { mongodb, redis: redisState, startup: startup.done ? ('done' as const) : ('pending' as const) };
    if (mongodb === 'up' && redisState === 'up' && startup.done)
      return c.json({ status: 'ready' as const, checks }, 200);
    const down = [mongodb === 'down' && 'mongodb', redisState === 'down' && 'redis'].filter(Boolean);
    const reason = down.length ? `${down.join(' and ')} unreachable` : 'start-up (indexes, admin account) not finished';
    throw new AppError('unavailable', `not ready: ${reason}`, {
      extra: { checks },
      headers: { 'Retry-After': '5' },
    });
  });
  return router;
}
