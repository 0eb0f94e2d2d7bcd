import { io, type Socket } from 'socket.io-client';
import { useEffect, useRef } from 'preact/hooks';
import { endSession, session, type Session } from './session';
import { createStore } from './store';

/**
 * The app's one Socket.IO connection, opened with the session's token and
 * closed with it. Events reach components through `useSocketEvent`, each once:
 * delivery is at least once, so repeats are dropped by `eventId`.
 *
 * A seller's `order_notification`s are acknowledged here once handed over
 * (replayed ones through their ack callback, live ones with
 * `notification:ack`), so the server stops replaying them; one that was
 * already seen is acknowledged again but not shown twice.
 */

export type ConnectionState = 'offline' | 'connecting' | 'online' | 'reconnecting';
export const connection = createStore<ConnectionState>('offline');

type Handler = (payload: never) => void;
const handlers = new Map<string, Set<Handler>>();
const reconnectListeners = new Set<() => void>();

const SEEN_LIMIT = 2_000;
const seen = new Set<string>();
/** Whether an event was seen before; remembers it either way (the oldest ids are forgotten first). */
function repeated(eventId: unknown): boolean {
  if (typeof eventId !== 'string') return false;
  if (seen.has(eventId)) return true;
  seen.add(eventId);
  if (seen.size > SEEN_LIMIT) seen.delete(seen.values().next().value!);
  return false;
}

let socket: Socket | undefined;
let pendingAcks: string[] = [];
let ackTimer: ReturnType<typeof setTimeout> | undefined;

function acknowledgeLive(notificationId: string) {
  pendingAcks.push(notificationId);
  // Acks that arrive together go together (the server takes at most 100 ids at once).
  ackTimer ??= setTimeout(() => {
    ackTimer = undefined;
    const ids = pendingAcks;
    pendingAcks = [];
    for (let i = 0; i < ids.length; i += 100) socket?.emit('notification:ack', { ids: ids.slice(i, i + 100) });
  }, 150);
}

function dispatch(event: string, payload: unknown) {
  for (const handler of handlers.get(event) ?? []) {
    try {
      (handler as (payload: unknown) => void)(payload);
    } catch (error) {
      console.error(`handler of ${event} failed`, error);
    }
  }
}

function connect(current: Session | null) {
  socket?.disconnect();
  socket = undefined;
  seen.clear();
  pendingAcks = [];
  if (!current) {
    connection.set('offline');
    return;
  }
  connection.set('connecting');
  const opened = io({ auth: { token: current.token } });
  socket = opened;
  let connectedBefore = false;
  opened.on('connect', () => {
    connection.set('online');
    if (connectedBefore) for (const listener of reconnectListeners) listener();
    connectedBefore = true;
  });
  opened.on('disconnect', (reason) => {
    if (socket !== opened) return;
    connection.set('reconnecting');
    // A server-side disconnect is final for socket.io; come back after a pause (the session check decides).
    if (reason === 'io server disconnect') setTimeout(() => socket === opened && opened.connect(), 2_000);
  });
  opened.on('connect_error', (error) => {
    if (socket !== opened) return;
    if (error.message === 'unauthorized') {
      endSession('Your session has ended (the token expired or was revoked). Please sign in again.');
    } else {
      connection.set('reconnecting');
    }
  });
  opened.onAny((event: string, payload: { eventId?: string; notificationId?: string }, ack?: unknown) => {
    const isRepeat = repeated(payload?.eventId);
    if (event === 'order_notification' && typeof payload?.notificationId === 'string') {
      if (!isRepeat) dispatch(event, payload);
      if (typeof ack === 'function') (ack as () => void)();
      else acknowledgeLive(payload.notificationId);
      return;
    }
    if (!isRepeat) dispatch(event, payload);
  });
}

connect(session.get());
let connectedToken = session.get()?.token;
session.subscribe((value) => {
  if (value?.token === connectedToken) return;
  connectedToken = value?.token;
  connect(value);
});

/** Calls `handler` for each (first) `event` while the component is mounted. */
export function useSocketEvent<T>(event: string, handler: (payload: T) => void) {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    const wrapped = (payload: T) => latest.current(payload);
    let set = handlers.get(event);
    if (!set) handlers.set(event, (set = new Set()));
    set.add(wrapped as Handler);
    return () => set.delete(wrapped as Handler);
  }, [event]);
}

/** Calls `listener` after each reconnect: what changed meanwhile was not sent, so read it again. */
export function useReconnect(listener: () => void) {
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => {
    const wrapped = () => latest.current();
    reconnectListeners.add(wrapped);
    return () => reconnectListeners.delete(wrapped);
  }, []);
}

/** Registers a handler outside components (the notification centre). */
export function onSocketEvent<T>(event: string, handler: (payload: T) => void): () => void {
  let set = handlers.get(event);
  if (!set) handlers.set(event, (set = new Set()));
  set.add(handler as Handler);
  return () => set.delete(handler as Handler);
}

export function onReconnect(listener: () => void): () => void {
  reconnectListeners.add(listener);
  return () => reconnectListeners.delete(listener);
}
