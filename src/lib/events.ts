import { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from 'ioredis';
import type { AnnouncedEvent, EventContent, EventEnvelope } from '../../packages/client/src/events.js';

/**
 * The one way any process announces something to sockets: events go through
 * Redis to whichever API instance holds the recipient's socket (the Socket.IO
 * Redis adapter listens on the same channel). Every payload carries a stable
 * `eventId`, so a job that runs twice sends an event clients recognise as seen.
 *
 * Event names and payloads are those of the socket event catalogue, which the
 * typed client package exports (packages/client/src/events.ts): a name or
 * payload it does not list does not compile.
 */

export type * from '../../packages/client/src/events.js';

export const rooms = {
  user: (id: string) => `user:${id}`,
  seller: (id: string) => `seller:${id}`,
  order: (id: string) => `order:${id}`,
  admin: 'admin',
} as const;

export class EventPublisher {
  // Untyped inside: `publish`'s signature is where the catalogue checks names and payloads.
  private readonly emitter: Emitter;

  constructor(redis: Redis) {
    // The emitter calls `publish` and drops its promise, so a publish that fails (Redis away, the
    // connection closing at shutdown) was an unhandled rejection, which ends a Node process.
    // Events are best effort (a seller's missed notifications are replayed from the database on
    // reconnect; clients re-read what they show), so a failed one is dropped here.
    const client = {
      publish: (channel: string, message: string | Buffer) => redis.publish(channel, message).catch(() => 0),
    };
    this.emitter = new Emitter(client);
  }

  /** Sends `event` with `content` and the envelope (`eventId`, `occurredAt`) to every socket in `to`. */
  publish<E extends AnnouncedEvent>(to: readonly string[], event: E, eventId: string, content: EventContent<E>): void {
    const envelope: EventEnvelope = { eventId, occurredAt: new Date().toISOString() };
    this.emitter.to([...to]).emit(event, { ...content, ...envelope });
  }
}
