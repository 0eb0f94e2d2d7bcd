import { Schema, model, type Types } from 'mongoose';

const notificationSchema = new Schema(
  {
    recipientId: { type: Schema.Types.ObjectId, required: true },
    type: { type: String, required: true },
    orderId: { type: Schema.Types.ObjectId },
    /** One notification per (recipient, dedupeKey): a job that runs twice creates it once. */
    dedupeKey: { type: String, required: true },
    payload: { type: Schema.Types.Mixed, default: {} },
    /**
     * When the thing notified about happened (an order's placement). Replays are
     * ordered by it: two workers may record notifications in another order than
     * the orders were placed.
     */
    occurredAt: { type: Date, required: true, default: () => new Date() },
    deliveredAt: { type: Date },
    readAt: { type: Date },
  },
  { timestamps: { createdAt: true, updatedAt: false }, versionKey: false, minimize: false },
);

// Makes creation idempotent: the unique pair is what a retried job collides on.
notificationSchema.index({ recipientId: 1, dedupeKey: 1 }, { unique: true });
// Serves a recipient's list, newest first.
notificationSchema.index({ recipientId: 1, createdAt: -1 });
// Serves the backlog replay on connect: a recipient's unacknowledged ones, oldest first.
notificationSchema.index({ recipientId: 1, occurredAt: 1 });

export interface NotificationDoc {
  _id: Types.ObjectId;
  recipientId: Types.ObjectId;
  type: string;
  orderId?: Types.ObjectId;
  dedupeKey: string;
  payload: Record<string, unknown>;
  occurredAt: Date;
  deliveredAt?: Date;
  readAt?: Date;
  createdAt: Date;
}

export const Notification = model<NotificationDoc>('Notification', notificationSchema);
