import { Schema, model, type Types } from 'mongoose';

/**
 * Work an order owes: one document per BullMQ job that a change of the order
 * needs (`_id` is the deterministic job id, `reduce-inventory_<orderId>`).
 * Written before the change it belongs to and deleted by the worker once the
 * job's effect is recorded, so the collection holds only unfinished work and
 * the reconciler's full read of it (on FerretDB any filter but `{_id}` reads
 * the whole collection) costs in proportion to what is owed, not to the orders
 * there are. No secondary index, for the same reason: each would be paid on
 * every write and serve no query.
 */
const owedJobSchema = new Schema(
  {
    _id: { type: String, required: true },
    orderId: { type: Schema.Types.ObjectId, required: true },
    /** The order version whose change owes the job; the job waits until the order has it. */
    version: { type: Number, required: true },
    /** When the reconciler next looks at it: a grace period after it was owed, later after each re-send. */
    dueAt: { type: Date, required: true },
    /** How often the reconciler has re-sent it; spaces further re-sends out. */
    resends: { type: Number, required: true, default: 0 },
    /** The request whose change owes it: a re-sent job carries it too, so its log lines join that request's. */
    requestId: { type: String },
    /**
     * A batch job's orders (order-jobs.ts `batchJobId`): the job's data, kept to send it again.
     * `orderId` is then the first of them; `orderIds` all, to find a batch by any of its orders.
     */
    members: { type: [{ _id: false, orderId: String, version: Number, requestId: String }], default: undefined },
    orderIds: { type: [Schema.Types.ObjectId], default: undefined },
  },
  { timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);

export interface OwedJobDoc {
  _id: string;
  orderId: Types.ObjectId;
  version: number;
  dueAt: Date;
  resends: number;
  requestId?: string;
  members?: Array<{ orderId: string; version: number; requestId?: string | undefined }>;
  orderIds?: Types.ObjectId[];
  createdAt: Date;
}

export const OwedJob = model<OwedJobDoc>('OwedJob', owedJobSchema);
