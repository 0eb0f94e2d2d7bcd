import { Schema, model, type Types } from 'mongoose';

/**
 * One document per order version: `<orderId>_<version>`, holding the fields
 * that version set. Inserting it is how a writer claims the next version. An
 * insert with a taken `_id` fails atomically on FerretDB too, where updates are
 * not atomic (see lib/locks.ts), so two writers that both read version v can
 * never both write v+1, even if the order's lock expired under them. It doubles
 * as the order's change history.
 */
const orderRevisionSchema = new Schema(
  {
    _id: { type: String, required: true },
    orderId: { type: Schema.Types.ObjectId, required: true },
    version: { type: Number, required: true },
    set: { type: Schema.Types.Mixed, required: true },
    /** What the change was, for its announcement: e.g. `{ event: 'delivery:created', deliveryId }`. */
    announce: { type: Schema.Types.Mixed },
  },
  { timestamps: { createdAt: true, updatedAt: false }, versionKey: false, minimize: false },
);

// Serves an order's change history, in order.
orderRevisionSchema.index({ orderId: 1, version: 1 });

export interface OrderRevisionDoc {
  _id: string;
  orderId: Types.ObjectId;
  version: number;
  set: Record<string, unknown>;
  announce?: ChangeAnnouncement;
  createdAt: Date;
}

export interface ChangeAnnouncement {
  event: 'delivery:created' | 'delivery:status-updated' | 'order:payment-updated';
  deliveryId?: string;
  /** False when the order's status stayed as it was: no status notices then. */
  statusChanged: boolean;
}

export const OrderRevision = model<OrderRevisionDoc>('OrderRevision', orderRevisionSchema);

export const revisionId = (orderId: string, version: number) => `${orderId}_${version}`;
