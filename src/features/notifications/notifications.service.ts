import { isDuplicateKeyError } from '../../lib/mongo.js';
import { Notification, type NotificationDoc } from './notification.model.js';

export interface NewNotification {
  recipientId: string;
  type: string;
  orderId?: string;
  dedupeKey: string;
  payload: Record<string, unknown>;
}

/** Creates the notification once; a second call with the same dedupe key returns the first. */
export async function recordNotification(input: NewNotification): Promise<NotificationDoc> {
  try {
    const created = await Notification.create(input);
    return created.toObject() as NotificationDoc;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    const existing = await Notification.findOne({
      recipientId: input.recipientId,
      dedupeKey: input.dedupeKey,
    }).lean<NotificationDoc>();
    if (!existing) throw error;
    return existing;
  }
}
