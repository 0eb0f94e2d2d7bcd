/**
 * The second physical limit of the bench: a Hono endpoint on @hono/node-server
 * that answers JSON read from Redis, with no auth, validation or database.
 * What a cached `GET /api/orders/:id` would cost if the API did nothing else.
 * Run by bench/run.ts as `node --import tsx bench/bare-hono.ts PORT REDIS_URL`.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Redis } from 'ioredis';

const [port, redisUrl] = process.argv.slice(2);
const redis = new Redis(redisUrl!, { maxRetriesPerRequest: 1 });
const app = new Hono();
app.get('/bare', async (c) => c.json(JSON.parse((await redis.get('bench:bare')) ?? '{}')));
serve({ fetch: app.fetch, port: Number(port), hostname: '127.0.0.1' }, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
