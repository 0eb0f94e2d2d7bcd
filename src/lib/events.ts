import { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from 'ioredis';

/**
 * The one way any process announces something to sockets: events go through
 * Redis to whichever API instance holds the recipient's socket (the Socket.IO
 * Redis adapter listens on the same channel). Every payload carries a stable
 * `eventId`, so a job that runs twice sends an event clients recognise as seen.
 */

export const rooms = {
  user: (id: string) => `user:${id}`,
  seller: (id: string) => `seller:${id}`,
  order: (id: string) => `order:${id}`,
  admin: 'admin',
} as const;

export interface EventEnvelope {
  eventId: string;
  occurredAt: string;
}

export class EventPublisher {
  private readonly emitter: Emitter;

  constructor(redis: Redis) {
    this.emitter = new Emitter(redis);
  }

  publish(to: readonly string[], event: string, eventId: string, payload: Record<string, unknown>): void {
    const envelope: EventEnvelope = { eventId, occurredAt: new Date().toISOString() };
    this.emitter.to([...to]).emit(event, { ...payload, ...envelope });
  }
}
