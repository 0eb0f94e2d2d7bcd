import { hostname } from 'node:os';
import { UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { z } from 'zod';
import type { Config } from '../../env.js';
import { withLock } from '../../lib/locks.js';
import type { Logger } from '../../lib/logger.js';
import { insertBuilt, isDuplicateKeyError } from '../../lib/mongo.js';
import { Order, type OrderDoc } from '../../order-flow/order.model.js';
import { Notification, type NotificationDoc } from '../notifications/notification.model.js';
import { User, type UserDoc } from '../users/user.model.js';
import { EmailPreferences, type EmailPreferencesDoc } from './email-preferences.model.js';
import { configuredEmailDefaults, effectiveChoice } from './email-preferences.service.js';
import { mailDomain, PermanentMailError, type Mailer } from './mailer.js';
import { dropPendingSellerEmails } from './pending-seller-emails.js';
import { deliveryAreaOf, renderSellerEmail, type EmailedOrder } from './seller-email-content.js';
import {
  EmailedNotification,
  SellerEmail,
  type EmailedNotificationDoc,
  type SellerEmailDoc,
  type SellerEmailState,
} from './seller-email.model.js';

/**
 * Sending one seller email, exactly once per notification as far as a crash
 * allows. The steps, each safe to repeat:
 *
 * 1. Under the email's Redis lock (`lock:email:{emailId}`; one sender at a
 *    time, freed within 4 s when its holder dies), read the intent. None yet:
 * 2. keep the notifications that are still neither acknowledged nor read,
 *    and claim each for this email (`emailednotifications`, `_id` the
 *    notification: one email per notification, whatever the workers);
 * 3. record the intent (`selleremails`, state `sending`) with what it lists;
 * 4. send it over SMTP with `Message-ID: <emailId.seller-orders@domain>`;
 * 5. record `sent` (or `failed` on a 5xx answer) and drop the pending entries.
 *
 * A retry that finds `sent` or `failed` does nothing but step 5's clean-up; one
 * that finds `sending` (a 4xx, a server that did not answer, a worker killed
 * mid-send) sends again with the same Message-ID. A worker killed after the
 * SMTP server accepted the message but before step 5 therefore causes one
 * duplicate, with the same Message-ID: the one case we accept (see the README).
 */

const ObjectIdHex = z.string().regex(/^[0-9a-f]{24}$/);

/** Orders one email lists at most; a seller with more unseen gets the rest in the next one. */
export const MAX_NOTIFICATIONS_PER_EMAIL = 5_000;

export const SellerEmailJobSchema = z.object({
  sellerId: ObjectIdHex,
  /** The id of the oldest notification the email lists; names the email and its job. */
  emailId: ObjectIdHex,
  notificationIds: z.array(ObjectIdHex).min(1).max(MAX_NOTIFICATIONS_PER_EMAIL),
});
export type SellerEmailJob = z.infer<typeof SellerEmailJobSchema>;

export const SEND_SELLER_EMAIL = 'send-seller-email';
/** Deterministic, so the sweep's repeated adds of the same email are one job (BullMQ forbids ":"). */
export const sellerEmailJobId = (emailId: string) => `seller-email_${emailId}`;

export interface SellerEmailContext {
  config: Config;
  log: Logger;
  /** The fail-fast connection, for the email locks. */
  redis: Redis;
  /** Undefined when `SMTP_URL` is unset: nothing is sent. */
  mailer: Mailer | undefined;
}

export type SellerEmailOutcome = { state: SellerEmailState | 'nothing to send' | 'SMTP_URL unset' };

const emailLock = (emailId: string) => `lock:email:${emailId}`;
const withEmailLock = <T>(redis: Redis, emailId: string, fn: () => Promise<T>) =>
  withLock(redis, emailLock(emailId), fn, { waitMs: 5_000 });

export async function sendSellerEmail(ctx: SellerEmailContext, job: SellerEmailJob): Promise<SellerEmailOutcome> {
  if (!ctx.mailer) return { state: 'SMTP_URL unset' };
  return withEmailLock(ctx.redis, job.emailId, async () => {
    const email = (await SellerEmail.findById(job.emailId).lean<SellerEmailDoc>()) ?? (await planEmail(ctx, job));
    if (!email) return { state: 'nothing to send' };
    return { state: await finishEmail(ctx, email) };
  });
}

/** Steps 2 and 3: what the email lists, claimed and recorded; null when nothing is left to send. */
async function planEmail(ctx: SellerEmailContext, job: SellerEmailJob): Promise<SellerEmailDoc | null> {
  const ids = job.notificationIds.map((id) => new Types.ObjectId(id));
  const [seller, stored] = await Promise.all([
    User.findById(job.sellerId, { name: 1, shopName: 1, email: 1, role: 1 }).lean<UserDoc>(),
    EmailPreferences.findById(job.sellerId).lean<EmailPreferencesDoc>(),
  ]);
  const choice = effectiveChoice(stored, configuredEmailDefaults(ctx.config));
  if (!seller || seller.role !== 'seller' || !choice.enabled) {
    await dropPendingSellerEmails(ids);
    return null;
  }
  const notifications = await Promise.all(ids.map((id) => Notification.findById(id).lean<NotificationDoc>()));
  const unseen = notifications.filter(
    (n): n is NotificationDoc =>
      !!n && n.type === 'order_notification' && n.recipientId.equals(seller._id) && !n.deliveredAt && !n.readAt,
  );
  const claimed = await claimNotifications(
    ctx,
    { emailId: job.emailId, sellerId: seller._id },
    unseen.map((n) => n._id),
  );
  const listed = unseen
    .filter((n) => claimed.has(n._id.toHexString()))
    .sort((a, b) => new Date(a.occurredAt).getTime() - new Date(b.occurredAt).getTime());
  // Acknowledged, read, or in another email that has finished: nothing more to do for them.
  await dropPendingSellerEmails(ids.filter((id) => !claimed.has(id.toHexString())));
  if (!listed.length) return null;

  const intent: SellerEmailDoc = {
    _id: job.emailId,
    sellerId: seller._id,
    to: seller.email,
    notificationIds: listed.map((n) => n._id),
    orderNumbers: listed.map((n) => String(n.payload.orderNumber ?? '')),
    state: 'sending',
    messageId: `<${job.emailId}.seller-orders@${mailDomain(ctx.config.MAIL_FROM)}>`,
    attempts: 0,
    createdAt: new Date(),
  };
  try {
    await insertBuilt(SellerEmail, [intent]);
    return intent;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    // Another job superseded this one while it claimed (it found a claim without an intent).
    return SellerEmail.findById(job.emailId).lean<SellerEmailDoc>();
  }
}

/**
 * Claims each notification for `emailId`; answers the ids it holds. A
 * notification claimed by another email is left to it, after making sure that
 * email gets finished: one still `sending` is finished here (its own job may be
 * gone), and one whose job died between claiming and recording its intent is
 * marked `superseded`, so it can never send, and its claims are taken over.
 */
async function claimNotifications(
  ctx: SellerEmailContext,
  { emailId, sellerId }: { emailId: string; sellerId: Types.ObjectId },
  ids: readonly Types.ObjectId[],
): Promise<Set<string>> {
  const createdAt = new Date();
  try {
    await insertBuilt(
      EmailedNotification,
      ids.map((_id): EmailedNotificationDoc => ({ _id, emailId, createdAt })),
    );
    return new Set(ids.map((id) => id.toHexString()));
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  const held = new Set<string>();
  for (const id of ids) {
    const claim = await EmailedNotification.findById(id).lean<EmailedNotificationDoc>();
    if (!claim || claim.emailId === emailId) {
      if (claim || (await takeOverClaim(ctx, id, emailId, undefined))) held.add(id.toHexString());
      continue;
    }
    const owner = await settleOtherEmail(ctx, claim.emailId, sellerId);
    if (owner === 'superseded' && (await takeOverClaim(ctx, id, emailId, claim.emailId))) held.add(id.toHexString());
  }
  return held;
}

/**
 * Makes sure the email `emailId` is finished or can never send: finishes it
 * when it is still `sending`, marks it `superseded` when it has no intent
 * (its job died after claiming). Answers its final state.
 */
async function settleOtherEmail(
  ctx: SellerEmailContext,
  emailId: string,
  sellerId: Types.ObjectId,
): Promise<SellerEmailState> {
  return withEmailLock(ctx.redis, emailId, async () => {
    let other = await SellerEmail.findById(emailId).lean<SellerEmailDoc>();
    if (!other) {
      const tombstone: SellerEmailDoc = {
        _id: emailId,
        sellerId,
        notificationIds: [],
        orderNumbers: [],
        state: 'superseded',
        attempts: 0,
        createdAt: new Date(),
      };
      try {
        await insertBuilt(SellerEmail, [tombstone]);
        return 'superseded';
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        other = await SellerEmail.findById(emailId).lean<SellerEmailDoc>();
        if (!other) throw error;
      }
    }
    try {
      return await finishEmail(ctx, other);
    } catch (error) {
      // Refused for good: recorded as failed, which is final for this email too.
      if (error instanceof UnrecoverableError) return 'failed';
      throw error;
    }
  });
}

/**
 * Moves a claim from `from` (a superseded email; undefined: no claim) to
 * `emailId`, under the notification's own lock so two emails taking over the
 * same claim cannot both win. Answers whether `emailId` holds it now.
 */
async function takeOverClaim(
  ctx: SellerEmailContext,
  id: Types.ObjectId,
  emailId: string,
  from: string | undefined,
): Promise<boolean> {
  return withLock(ctx.redis, `lock:emailclaim:${id.toHexString()}`, async () => {
    const claim = await EmailedNotification.findById(id).lean<EmailedNotificationDoc>();
    if (claim?.emailId === emailId) return true;
    if (claim && claim.emailId !== from) return false;
    if (claim) await EmailedNotification.deleteOne({ _id: id });
    try {
      await insertBuilt(EmailedNotification, [{ _id: id, emailId, createdAt: new Date() }]);
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  });
}

/** Steps 4 and 5 for an email whose intent is recorded; the caller holds its lock. Answers the final state. */
async function finishEmail(ctx: SellerEmailContext, email: SellerEmailDoc): Promise<SellerEmailState> {
  if (email.state !== 'sending') {
    await dropPendingSellerEmails(email.notificationIds);
    return email.state;
  }
  if (!ctx.mailer) throw new Error('SMTP_URL is unset: seller emails cannot be sent by this worker');
  const content = await composeEmail(ctx, email);
  const lastSender = `${hostname()}:${process.pid}`;
  await SellerEmail.updateOne(
    { _id: email._id },
    { $inc: { attempts: 1 }, $set: { lastSender, lastAttemptAt: new Date() } },
  );
  try {
    await ctx.mailer.send({ ...content, to: email.to!, messageId: email.messageId! });
  } catch (error) {
    const reason = (error as Error).message;
    if (error instanceof PermanentMailError) {
      await SellerEmail.updateOne(
        { _id: email._id },
        { $set: { state: 'failed', error: reason, failedAt: new Date() } },
      );
      await dropPendingSellerEmails(email.notificationIds);
      ctx.log.warn({ emailId: email._id, sellerId: String(email.sellerId), err: reason }, 'seller email refused');
      throw new UnrecoverableError(`the SMTP server refused seller email ${email._id}: ${reason}`);
    }
    await SellerEmail.updateOne({ _id: email._id }, { $set: { error: reason } });
    throw error;
  }
  await SellerEmail.updateOne(
    { _id: email._id },
    { $set: { state: 'sent', sentAt: new Date() }, $unset: { error: '' } },
  );
  await dropPendingSellerEmails(email.notificationIds);
  ctx.log.info(
    { emailId: email._id, sellerId: String(email.sellerId), orders: email.notificationIds.length },
    'seller email sent',
  );
  return 'sent';
}

/** The email's text from what it lists, read again on every attempt (by `_id`: notifications, then orders). */
async function composeEmail(ctx: SellerEmailContext, email: SellerEmailDoc) {
  const [seller, notifications] = await Promise.all([
    User.findById(email.sellerId, { name: 1, shopName: 1 }).lean<UserDoc>(),
    Promise.all(email.notificationIds.map((id) => Notification.findById(id).lean<NotificationDoc>())),
  ]);
  const orders = await Promise.all(
    notifications.map(async (n): Promise<EmailedOrder | undefined> => {
      if (!n) return undefined;
      const payload = n.payload as {
        orderId?: string;
        orderNumber?: string;
        customerName?: string;
        totalAmount?: number;
        currency?: string;
        items?: EmailedOrder['items'];
      };
      const orderId = payload.orderId ?? n.orderId?.toHexString() ?? '';
      const order = orderId
        ? await Order.findById(orderId, { 'customer.deliveryAddress': 1 }).lean<Pick<OrderDoc, 'customer'>>()
        : null;
      return {
        orderId,
        orderNumber: payload.orderNumber ?? orderId,
        customerName: payload.customerName ?? '',
        totalAmount: payload.totalAmount ?? 0,
        currency: payload.currency ?? ctx.config.CURRENCY,
        items: payload.items ?? [],
        deliveryArea: deliveryAreaOf(order?.customer?.deliveryAddress),
        placedAt: new Date(n.occurredAt),
      };
    }),
  );
  return renderSellerEmail(
    { name: seller?.shopName ?? seller?.name ?? 'there' },
    orders.filter((o): o is EmailedOrder => !!o),
    ctx.config.PUBLIC_URL,
  );
}
