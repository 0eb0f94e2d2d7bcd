import { Redis } from 'ioredis';
import { decode } from 'notepack.io';

export interface PublishedEvent {
  event: string;
  payload: Record<string, any>;
  rooms: string[];
}

/**
 * Listens on Redis where the Socket.IO emitter publishes, as an API instance's
 * Redis adapter would, and decodes each broadcast: proof that an event left
 * the worker through Redis, addressed to the right rooms.
 */
export async function listenForEvents(redisUrl: string) {
  const subscriber = new Redis(redisUrl);
  const events: PublishedEvent[] = [];
  subscriber.on('pmessageBuffer', (_pattern: Buffer, _channel: Buffer, message: Buffer) => {
    const [, packet, opts] = decode(message) as [string, { data: [string, Record<string, any>] }, { rooms: string[] }];
    events.push({ event: packet.data[0], payload: packet.data[1], rooms: opts.rooms });
  });
  await subscriber.psubscribe('socket.io#/#*');
  return {
    events,
    of: (event: string) => events.filter((e) => e.event === event),
    close: () => subscriber.quit(),
  };
}
