import { Schema, model, type Types } from 'mongoose';

/**
 * An order notification that may still need an email: one small document per
 * `order_notification`, `_id` the notification's own id, written by the
 * notify-seller batch (one insert per batch) and deleted once the notification
 * is acknowledged, read, emailed or given up on. The sweep reads this
 * collection whole, never `notifications` (which grows with every order and
 * which FerretDB would decode whole for any filter but `{_id}`), so it stays
 * small: what was notified in the last `SELLER_EMAIL_AFTER_SECONDS` or so,
 * plus what offline sellers have not seen.
 */
const pendingSellerEmailSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    sellerId: { type: Schema.Types.ObjectId, required: true },
    orderId: { type: Schema.Types.ObjectId, required: true },
    /** When the seller was notified: the email waits for the seller's delay from here. */
    notifiedAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'pendingselleremails' },
);
// No index besides `_id`: the sweep reads the whole (small) collection, everything else goes by `_id`.

export interface PendingSellerEmailDoc {
  _id: Types.ObjectId;
  sellerId: Types.ObjectId;
  orderId: Types.ObjectId;
  notifiedAt: Date;
}

export const PendingSellerEmail = model<PendingSellerEmailDoc>('PendingSellerEmail', pendingSellerEmailSchema);
