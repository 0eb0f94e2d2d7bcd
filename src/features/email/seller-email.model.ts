import { Schema, model, type Types } from 'mongoose';

/**
 * One email to a seller: the intent, recorded before anything is sent, then
 * its outcome. `_id` is the email id (the id of the oldest notification it
 * lists), which the SMTP message carries in its Message-ID, so a resend after a
 * crash is the same message. Written only under the email's Redis lock
 * (`lock:email:{id}`): FerretDB rewrites whole documents.
 *
 * - `sending`: claimed and maybe sent; a retry (or another worker after a
 *   crash) sends it again with the same Message-ID.
 * - `sent`, `failed` (the SMTP server refused it with a 5xx; `error` says
 *   why), `superseded` (its job died before recording the intent and another
 *   email took its notifications over): final.
 */
const sellerEmailSchema = new Schema(
  {
    _id: { type: String, required: true },
    sellerId: { type: Schema.Types.ObjectId, required: true },
    to: { type: String },
    notificationIds: { type: [Schema.Types.ObjectId], default: [] },
    orderNumbers: { type: [String], default: [] },
    state: { type: String, enum: ['sending', 'sent', 'failed', 'superseded'], required: true },
    messageId: { type: String },
    attempts: { type: Number, default: 0 },
    /** Which worker process tried last (`host:pid`), for operators. */
    lastSender: { type: String },
    lastAttemptAt: { type: Date },
    /** The last refusal or connection error; for `failed`, why it was given up. */
    error: { type: String },
    sentAt: { type: Date },
    failedAt: { type: Date },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'selleremails' },
);
// Serves the admins' list of emails by state, newest first (on MongoDB; FerretDB scans, see the README).
sellerEmailSchema.index({ state: 1, createdAt: -1 });

export type SellerEmailState = 'sending' | 'sent' | 'failed' | 'superseded';

export interface SellerEmailDoc {
  _id: string;
  sellerId: Types.ObjectId;
  to?: string;
  notificationIds: Types.ObjectId[];
  orderNumbers: string[];
  state: SellerEmailState;
  messageId?: string;
  attempts: number;
  lastSender?: string;
  lastAttemptAt?: Date;
  error?: string;
  sentAt?: Date;
  failedAt?: Date;
  createdAt: Date;
}

export const SellerEmail = model<SellerEmailDoc>('SellerEmail', sellerEmailSchema);

/**
 * Which email a notification went into: `_id` the notification id, so a
 * notification can be claimed by one email only (the insert is atomic on
 * FerretDB too). Never scanned: read by `_id` only.
 */
const emailedNotificationSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    emailId: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'emailednotifications' },
);

export interface EmailedNotificationDoc {
  _id: Types.ObjectId;
  emailId: string;
  createdAt: Date;
}

export const EmailedNotification = model<EmailedNotificationDoc>('EmailedNotification', emailedNotificationSchema);
