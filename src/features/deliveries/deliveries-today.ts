import type { Redis } from 'ioredis';
import { Types, type QueryFilter } from 'mongoose';
import type { Principal } from '../../lib/tokens.js';
import { STATS_GENERATION_KEY } from '../../order-flow/order-stats.js';
import { Order, type OrderDoc } from '../../order-flow/order.model.js';

/**
 * Today's deliveries (UTC day): scheduled for today, or created today when not
 * scheduled. Cached 24 h under `deliveries:today:{date}` (per seller for a
 * seller); every order write bumps the generation the dashboard counters use,
 * and an entry of an older generation is ignored, so a delivery change shows
 * at once.
 */

export interface DeliveriesToday {
  date: string;
  count: number;
  totalValue: number;
  pending: number;
  dispatched: number;
  delivered: number;
  failed: number;
  cancelled: number;
}

const TTL_S = 24 * 3600;

export async function deliveriesToday(redis: Redis, caller: Principal, now = new Date()): Promise<DeliveriesToday> {
  const date = now.toISOString().slice(0, 10);
  const key = caller.role === 'seller' ? `deliveries:today:${date}:seller:${caller.id}` : `deliveries:today:${date}`;
  let generation: string | null = null;
  try {
    const [gen, cached] = await redis.mget(STATS_GENERATION_KEY, key);
    generation = gen ?? '0';
    if (cached) {
      const entry = JSON.parse(cached) as { gen: string; summary: DeliveriesToday };
      if (entry.gen === generation) return entry.summary;
    }
  } catch {
    // Redis is down: MongoDB answers alone.
  }
  const summary = await computeToday(caller, date);
  if (generation !== null)
    await redis.set(key, JSON.stringify({ gen: generation, summary }), 'EX', TTL_S).catch(() => {});
  return summary;
}

async function computeToday(caller: Principal, date: string): Promise<DeliveriesToday> {
  const start = new Date(`${date}T00:00:00.000Z`);
  const end = new Date(start.getTime() + 24 * 3600 * 1000);
  const inDay = { $gte: start, $lt: end };
  const filter: QueryFilter<OrderDoc> = {
    $or: [{ 'deliveries.scheduledDate': inDay }, { 'deliveries.createdAt': inDay }],
    ...(caller.role === 'seller' ? { 'seller.id': new Types.ObjectId(caller.id) } : {}),
  };
  const orders = await Order.find(filter, { deliveries: 1 }).lean<Array<Pick<OrderDoc, 'deliveries'>>>();
  const summary: DeliveriesToday = {
    date,
    count: 0,
    totalValue: 0,
    pending: 0,
    dispatched: 0,
    delivered: 0,
    failed: 0,
    cancelled: 0,
  };
  for (const order of orders) {
    for (const delivery of order.deliveries) {
      const when = new Date(delivery.scheduledDate ?? delivery.createdAt);
      if (when < start || when >= end) continue;
      summary.count++;
      summary[delivery.status]++;
      if (delivery.status !== 'failed' && delivery.status !== 'cancelled') summary.totalValue += delivery.value;
    }
  }
  return summary;
}
