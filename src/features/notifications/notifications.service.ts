import { AppError } from '../../lib/errors.js';
import type { EventContent } from '../../lib/events.js';
import { Types } from 'mongoose';
import {
  insertBuilt,
  isDuplicateKeyError,
  lockedWriteFilter,
  MAX_WRITE_STATEMENTS,
  objectIdFrom,
} from '../../lib/mongo.js';
import { Notification, type NotificationDoc } from './notification.model.js';

export interface NewNotification {
  recipientId: string;
  type: string;
  orderId?: string;
  dedupeKey: string;
  payload: Record<string, unknown>;
  occurredAt?: Date;
}

/**
 * A notification's `_id` follows from its recipient and dedupe key, so the one
 * a repeated job collides with is found by `_id`, the only look-up FerretDB
 * serves from an index. (Notifications stored before this have random ids;
 * the unique index still refuses their repeats, and they are then found by
 * recipient and key.)
 */
export const notificationIdFor = (recipientId: string, dedupeKey: string) =>
  objectIdFrom(`${recipientId}|${dedupeKey}`);

/** Creates the notification once; a second call with the same dedupe key returns the first. */
export async function recordNotification(input: NewNotification): Promise<NotificationDoc> {
  const [stored] = await recordNotifications([input]);
  return stored!;
}

/** Creates many notifications in one insert, each once; returns what is stored for each, in order. */
export async function recordNotifications(inputs: readonly NewNotification[]): Promise<NotificationDoc[]> {
  const now = new Date();
  const docs = inputs.map((input): NotificationDoc => ({
    _id: notificationIdFor(input.recipientId, input.dedupeKey),
    recipientId: new Types.ObjectId(input.recipientId),
    type: input.type,
    ...(input.orderId ? { orderId: new Types.ObjectId(input.orderId) } : {}),
    dedupeKey: input.dedupeKey,
    payload: input.payload,
    occurredAt: input.occurredAt ?? now,
    createdAt: now,
  }));
  try {
    await insertBuilt(Notification, docs);
    return docs;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  // Some were stored already (a repeated job): answer with what is stored, for all of them.
  return Promise.all(
    inputs.map(async (input, i) => {
      const existing =
        (await Notification.findById(docs[i]!._id).lean<NotificationDoc>()) ??
        (await Notification.findOne({
          recipientId: input.recipientId,
          dedupeKey: input.dedupeKey,
        }).lean<NotificationDoc>());
      if (!existing)
        throw new Error(`notification ${input.dedupeKey} for ${input.recipientId} was refused and is not stored`);
      return existing;
    }),
  );
}

/**
 * The `order_notification` event for a stored notification; the same whether sent live or replayed.
 * Its stored payload is what the order's announcement wrote (order-announcements.ts).
 */
export function orderNotificationEvent(notification: NotificationDoc): {
  eventId: string;
  payload: EventContent<'order_notification'>;
} {
  const notificationId = notification._id.toHexString();
  return {
    eventId: `notification_${notificationId}`,
    payload: {
      notificationId,
      ...(notification.payload as Omit<EventContent<'order_notification'>, 'notificationId' | 'createdAt'>),
      createdAt: new Date(notification.createdAt).toISOString(),
    },
  };
}

/** A seller's order notifications not yet acknowledged by any of its sockets, oldest first. */
export async function unacknowledgedOrderNotifications(sellerId: string, limit = 500): Promise<NotificationDoc[]> {
  return Notification.find({ recipientId: sellerId, type: 'order_notification', deliveredAt: { $exists: false } })
    .sort({ occurredAt: 1, _id: 1 })
    .limit(limit)
    .lean<NotificationDoc[]>();
}

export interface NotificationAck {
  recipientId: string;
  notificationId: string;
}

/**
 * Records acknowledgements the caller knows to be each recipient's own (the
 * gateway takes only notifications it sent to that seller's socket): one
 * `bulkWrite` of `updateOne` by `_id` per 90, no read. On MongoDB the filter
 * checks recipient and "not yet acknowledged" again, atomically; on FerretDB
 * any filter but `{_id}` scans the whole collection, so there it is `{_id}`
 * (`lockedWriteFilter`), and `$min` keeps the first acknowledgement's time
 * rather than overwriting it (a second tab, a REST read, a racing write).
 * Answers how many notifications it changed.
 */
export async function acknowledgeNotifications(acks: readonly NotificationAck[]): Promise<number> {
  const deliveredAt = new Date();
  const statements = acks.map(({ recipientId, notificationId }) => ({
    updateOne: {
      filter: lockedWriteFilter(new Types.ObjectId(notificationId), {
        recipientId: new Types.ObjectId(recipientId),
        deliveredAt: { $exists: false },
      }),
      update: { $min: { deliveredAt } },
    },
  }));
  let acknowledged = 0;
  for (let i = 0; i < statements.length; i += MAX_WRITE_STATEMENTS) {
    const result = await Notification.collection.bulkWrite(statements.slice(i, i + MAX_WRITE_STATEMENTS), {
      ordered: false,
    });
    acknowledged += result.modifiedCount;
  }
  return acknowledged;
}

export async function listNotifications(recipientId: string, query: { unread?: boolean; page: number; limit: number }) {
  const filter = { recipientId, ...(query.unread ? { readAt: { $exists: false } } : {}) };
  const [total, docs] = await Promise.all([
    Notification.countDocuments(filter),
    Notification.find(filter)
      .sort({ createdAt: -1, _id: -1 })
      .skip((query.page - 1) * query.limit)
      .limit(query.limit)
      .lean<NotificationDoc[]>(),
  ]);
  return {
    data: docs.map(toPublicNotification),
    page: query.page,
    limit: query.limit,
    total,
    totalPages: Math.ceil(total / query.limit),
  };
}

export async function unreadCount(recipientId: string): Promise<number> {
  return Notification.countDocuments({ recipientId, readAt: { $exists: false } });
}

export async function markRead(recipientId: string, id: string) {
  const existing = await Notification.findOne({ _id: id, recipientId }).lean<NotificationDoc>();
  if (!existing) throw new AppError('not_found', `notification ${id} does not exist`);
  if (existing.readAt) return toPublicNotification(existing);
  const readAt = new Date();
  await Notification.updateOne({ _id: id }, { $set: { readAt, deliveredAt: existing.deliveredAt ?? readAt } });
  return toPublicNotification({ ...existing, readAt, deliveredAt: existing.deliveredAt ?? readAt });
}

export async function markAllRead(recipientId: string): Promise<number> {
  const now = new Date();
  const result = await Notification.updateMany({ recipientId, readAt: { $exists: false } }, { $set: { readAt: now } });
  return result.modifiedCount;
}

export function toPublicNotification(n: NotificationDoc) {
  return {
    id: n._id.toHexString(),
    type: n.type,
    ...(n.orderId ? { orderId: n.orderId.toHexString() } : {}),
    payload: n.payload,
    createdAt: new Date(n.createdAt).toISOString(),
    ...(n.deliveredAt ? { deliveredAt: new Date(n.deliveredAt).toISOString() } : {}),
    ...(n.readAt ? { readAt: new Date(n.readAt).toISOString() } : {}),
  };
}
