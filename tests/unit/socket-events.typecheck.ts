/**
 * Compile-time proof that the socket event catalogue (packages/client/src/events.ts)
 * binds the workers' publisher and a client's socket: `npm run typecheck` fails
 * when a line under `@ts-expect-error` compiles. Nothing here runs.
 */
import type { Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../packages/client/src/index.js';
import type { EventPublisher } from '../../src/lib/events.js';

declare const events: EventPublisher;
declare const socket: Socket<ServerToClientEvents, ClientToServerEvents>;

const progress = { orderId: 'o1', progress: 50, status: 'in_progress' } as const;

export function publisherIsTypedByTheCatalogue() {
  events.publish(['admin'], 'order:progress-updated', 'e1', progress);
  // @ts-expect-error an event the catalogue does not list
  events.publish(['admin'], 'order:progress', 'e1', progress);
  // @ts-expect-error a status no order has
  events.publish(['admin'], 'order:progress-updated', 'e1', { ...progress, status: 'lost' });
  // @ts-expect-error progress is a number
  events.publish(['admin'], 'order:progress-updated', 'e1', { ...progress, progress: '50' });
  // @ts-expect-error a field missing
  events.publish(['admin'], 'order:cancelled', 'e1', { orderId: 'o1' });
  // @ts-expect-error `error` carries no envelope: the gateway sends it, nothing announces it through Redis
  events.publish(['admin'], 'error', 'e1', { error: 'rate_limited' });
}

export function clientSocketIsTypedByTheCatalogue() {
  socket.on('order_notification', (notification, ack) => {
    const total: number = notification.totalAmount;
    // @ts-expect-error no such field
    void notification.total;
    ack?.();
    return total;
  });
  socket.on('order:updated', ({ order }) => order.status satisfies string);
  socket.emit('notification:ack', { ids: ['665f1c2e8b3f4a0012345678'] }, (answer) => {
    if (answer.ok) return answer.acknowledged satisfies number;
    return answer.error satisfies string;
  });
  // @ts-expect-error ids are a list
  socket.emit('notification:ack', { ids: '665f1c2e8b3f4a0012345678' });
  // @ts-expect-error clients cannot announce orders
  socket.emit('order_placed', { orderId: 'o1' });
  // @ts-expect-error not an event the server sends
  socket.on('order:placed', () => {});
}

export async function acksAreTyped() {
  const answer = await socket.timeout(1_000).emitWithAck('subscribe:order', { orderId: 'o1' });
  if (answer.ok) return answer.orderId satisfies string;
  return answer.error satisfies string;
}
