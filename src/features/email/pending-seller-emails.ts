import { Types } from 'mongoose';
import type { Config } from '../../env.js';
import { insertBuilt, isDuplicateKeyError, MAX_WRITE_STATEMENTS } from '../../lib/mongo.js';
import type { PublicOrder } from '../../order-flow/order-view.js';
import { notificationIdFor } from '../notifications/notifications.service.js';
import { PendingSellerEmail, type PendingSellerEmailDoc } from './pending-seller-email.model.js';

/** The id of a new order's `order_notification` (its dedupe key is set in order-flow/order-announcements.ts). */
export const orderNotificationId = (sellerId: string, orderId: string) =>
  notificationIdFor(sellerId, `order_notification:${orderId}`);

/**
 * The notify-seller batch's hook: the orders whose sellers were just notified
 * become pending seller emails, one small document each, in one unordered
 * insert for the whole batch and no Redis call. A repeated job collides on
 * `_id` (the notification's), which is fine: the first entry is enough. Does
 * nothing when no SMTP server is configured. Answers `outcomes` as they were.
 */
export async function rememberOrdersForSellerEmails<T extends PromiseSettledResult<PublicOrder | null | undefined>>(
  ctx: { config: Pick<Config, 'SMTP_URL'> },
  outcomes: T[],
): Promise<T[]> {
  if (!ctx.config.SMTP_URL) return outcomes;
  const notifiedAt = new Date();
  const docs = outcomes.flatMap((outcome): PendingSellerEmailDoc[] => {
    const order = outcome.status === 'fulfilled' ? outcome.value : undefined;
    if (!order) return [];
    return [
      {
        _id: orderNotificationId(order.seller.id, order.id),
        sellerId: new Types.ObjectId(order.seller.id),
        orderId: new Types.ObjectId(order.id),
        notifiedAt,
      },
    ];
  });
  try {
    await insertBuilt(PendingSellerEmail, docs);
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  return outcomes;
}

/** Drops pending entries (acknowledged, read, emailed, given up), deletes by `_id` alone, 90 per command. */
export async function dropPendingSellerEmails(ids: readonly Types.ObjectId[]): Promise<void> {
  for (let i = 0; i < ids.length; i += MAX_WRITE_STATEMENTS) {
    await PendingSellerEmail.bulkWrite(
      ids.slice(i, i + MAX_WRITE_STATEMENTS).map((_id) => ({ deleteOne: { filter: { _id } } })),
      { ordered: false },
    );
  }
}
