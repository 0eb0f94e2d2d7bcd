import { listNotifications, markAllNotificationsRead, markNotificationRead } from './api';
import { money } from './format';
import { onReconnect, onSocketEvent } from './realtime';
import { session } from './session';
import { beep } from './sound';
import { createStore } from './store';
import type { AppNotification, OrderNotice } from './types';

/**
 * A seller's notification centre: the bell's unread count and list, and the
 * visual alert and sound of each new order. Loaded when a seller signs in and
 * after each reconnect; then kept current by `order_notification` events,
 * those sent live and those replayed from while the seller was away.
 */

export interface NoticeItem {
  id: string;
  orderId?: string;
  orderNumber: string;
  customerName: string;
  total: string;
  createdAt: string;
  read: boolean;
  /** Arrived while the seller was away (replayed on connect). */
  missed: boolean;
}

export interface Alert {
  id: number;
  text: string;
  orderId?: string;
}

export const notices = createStore<{ items: NoticeItem[]; unread: number; loaded: boolean }>({
  items: [],
  unread: 0,
  loaded: false,
});
export const alerts = createStore<Alert[]>([]);

const LIST_SIZE = 30;
let alertIds = 0;

export function showAlert(text: string, orderId?: string) {
  const alert = { id: ++alertIds, text, ...(orderId ? { orderId } : {}) };
  alerts.set((current) => [...current.slice(-3), alert]);
  setTimeout(() => dismissAlert(alert.id), 10_000);
}

export const dismissAlert = (id: number) => alerts.set((current) => current.filter((a) => a.id !== id));

function fromStored(n: AppNotification): NoticeItem {
  const p = n.payload as Partial<OrderNotice>;
  return {
    id: n.id,
    ...(n.orderId ? { orderId: n.orderId } : {}),
    orderNumber: String(p.orderNumber ?? ''),
    customerName: String(p.customerName ?? ''),
    total: typeof p.totalAmount === 'number' && p.currency ? money(p.totalAmount, p.currency) : '',
    createdAt: n.createdAt,
    read: Boolean(n.readAt),
    missed: false,
  };
}

let loading = 0;
async function load() {
  const attempt = ++loading;
  const [recent, unread] = await Promise.all([
    listNotifications({ limit: LIST_SIZE }),
    listNotifications({ unread: true, limit: 1 }),
  ]);
  if (attempt !== loading) return;
  notices.set((current) => {
    const stored = recent.data.filter((n) => n.type === 'order_notification').map(fromStored);
    const storedIds = new Set(recent.data.map((n) => n.id));
    // Events that came in while the lists were read, and are newer than what they hold.
    const newer = current.items.filter((item) => !storedIds.has(item.id));
    const missed = new Set(current.items.filter((item) => item.missed).map((item) => item.id));
    const items = [...newer, ...stored.map((item) => ({ ...item, missed: missed.has(item.id) }))];
    return { items, unread: unread.total + newer.filter((item) => !item.read).length, loaded: true };
  });
}

let missedBatch = 0;
let missedTimer: ReturnType<typeof setTimeout> | undefined;

function received(notice: OrderNotice) {
  const item: NoticeItem = {
    id: notice.notificationId,
    orderId: notice.orderId,
    orderNumber: notice.orderNumber,
    customerName: notice.customerName,
    total: money(notice.totalAmount, notice.currency),
    createdAt: notice.createdAt,
    read: false,
    missed: Boolean(notice.replayed),
  };
  // Newly missed: a replay not seen before on this page (the list read at sign-in may already hold it).
  let newlyMissed = false;
  notices.set((current) => {
    const known = current.items.find((existing) => existing.id === item.id);
    if (known) {
      if (!item.missed || known.missed) return current;
      newlyMissed = true;
      return { ...current, items: current.items.map((i) => (i.id === item.id ? { ...i, missed: true } : i)) };
    }
    newlyMissed = item.missed;
    return { ...current, items: [item, ...current.items].slice(0, LIST_SIZE * 2), unread: current.unread + 1 };
  });
  if (!notice.replayed) {
    showAlert(`New order ${item.orderNumber} from ${item.customerName}: ${item.total}`, item.orderId);
    beep();
    return;
  }
  // Replays come together on connect: one alert and one sound for the lot.
  if (newlyMissed) missedBatch += 1;
  missedTimer ??= setTimeout(() => {
    missedTimer = undefined;
    const count = missedBatch;
    missedBatch = 0;
    if (count === 0) return;
    showAlert(count === 1 ? '1 order arrived while you were away' : `${count} orders arrived while you were away`);
    beep();
  }, 400);
}

export async function markRead(id: string) {
  const item = notices.get().items.find((i) => i.id === id);
  if (!item || item.read) return;
  notices.set((current) => ({
    ...current,
    items: current.items.map((i) => (i.id === id ? { ...i, read: true } : i)),
    unread: Math.max(0, current.unread - 1),
  }));
  await markNotificationRead(id).catch(() => undefined);
}

export async function markAllRead() {
  await markAllNotificationsRead();
  notices.set((current) => ({ ...current, items: current.items.map((i) => ({ ...i, read: true })), unread: 0 }));
}

function reset() {
  notices.set({ items: [], unread: 0, loaded: false });
  alerts.set([]);
}

const refresh = () => {
  if (session.get()?.user.role === 'seller') load().catch(() => undefined);
};

onSocketEvent<OrderNotice>('order_notification', received);
onReconnect(refresh);
let sellerToken = session.get()?.token;
refresh();
session.subscribe((value) => {
  if (value?.token === sellerToken) return;
  sellerToken = value?.token;
  reset();
  refresh();
});
