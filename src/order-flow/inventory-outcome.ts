import { Schema, model, Types } from 'mongoose';
import { duplicateIndexes, insertBuilt, MAX_WRITE_STATEMENTS } from '../lib/mongo.js';
import { Order, type OrderDoc } from './order.model.js';

/**
 * What an order's stock reduction came to (`reduced`, or `short` with the
 * lines that found too little stock), in a small record of its own keyed by the
 * order's `_id`, instead of a write to the order.
 *
 * Why: FerretDB 1.24 rewrites the whole document on every update, so recording
 * the outcome in the order (1.2 KB, more with deliveries) cost a version claim
 * and a whole-order rewrite per order, ~44% of FerretDB's CPU on the order
 * path. One insert of a 0.2 KB record costs a fraction of that, and no order
 * lock or version claim is needed: the outcome is decided once (the stock
 * ledger decides it, inventory.service.ts), and a second insert of it is a
 * duplicate key.
 *
 * So the order document says `pending` until its next write folds the outcome
 * in (`foldedInventory`), and every read of an order from MongoDB merges the
 * record in (`readOrder`, `withInventoryOutcomes`). The outcome does not bump
 * the order's `version`; the caches order states by version and then by
 * `inventoryRank` (order-cache.ts), and both only ever move forward.
 */

export type DecidedStatus = 'reduced' | 'short';

export interface InventoryOutcomeDoc {
  /** The order's `_id`. */
  _id: Types.ObjectId;
  status: DecidedStatus;
  shortItems: OrderDoc['shortItems'];
  createdAt: Date;
}

const inventoryOutcomeSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    status: { type: String, enum: ['reduced', 'short'], required: true },
    shortItems: {
      type: [{ productId: Schema.Types.ObjectId, requested: Number, available: Number, _id: false }],
      default: [],
    },
  },
  { timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);

export const InventoryOutcome = model<InventoryOutcomeDoc>('InventoryOutcome', inventoryOutcomeSchema);

/** How far an order's inventory has come: pending 0, reduced or short 1, restored 2. Never goes back. */
export function inventoryRank(status: OrderDoc['inventoryStatus']): number {
  return status === 'pending' ? 0 : status === 'restored' ? 2 : 1;
}

type InventoryFields = Pick<OrderDoc, '_id' | 'inventoryStatus' | 'shortItems' | 'updatedAt'>;

/** The order with its outcome in it, when the outcome is further along than what the order says. */
export function withInventoryOutcome<T extends InventoryFields>(
  order: T,
  outcome: InventoryOutcomeDoc | null | undefined,
): T {
  if (!outcome || inventoryRank(order.inventoryStatus) >= inventoryRank(outcome.status)) return order;
  const updatedAt = order.updatedAt > outcome.createdAt ? order.updatedAt : outcome.createdAt;
  return { ...order, inventoryStatus: outcome.status, shortItems: outcome.shortItems, updatedAt };
}

/**
 * The orders with their recorded outcomes merged in. Only an order that says
 * `pending` can have one it does not show, and only those are looked up, each
 * by `_id` (a `$in` would decode the whole collection on FerretDB).
 */
export async function withInventoryOutcomes<T extends InventoryFields>(orders: readonly T[]): Promise<T[]> {
  const outcomes = await Promise.all(
    orders.map((order) =>
      order.inventoryStatus === 'pending'
        ? InventoryOutcome.findById(order._id).lean<InventoryOutcomeDoc>()
        : Promise.resolve(null),
    ),
  );
  return orders.map((order, i) => withInventoryOutcome(order, outcomes[i]));
}

/** An order as stored, with its inventory outcome; null when there is no such order. */
export async function readOrder(id: string | Types.ObjectId, projection?: Record<string, 0>): Promise<OrderDoc | null> {
  const order = await Order.findById(id, projection).lean<OrderDoc>();
  return order && (await withInventoryOutcomes([order]))[0]!;
}

/**
 * The inventory fields a change to `order` (read with its outcome merged in)
 * writes along, so that the stored order says what its outcome record says and
 * later reads need not look the record up. Empty when there is nothing to fold.
 */
export function foldedInventory(order: Pick<OrderDoc, 'inventoryStatus' | 'shortItems'>): Record<string, unknown> {
  return order.inventoryStatus === 'reduced' || order.inventoryStatus === 'short'
    ? { inventoryStatus: order.inventoryStatus, shortItems: order.shortItems }
    : {};
}

/**
 * Records the outcomes, each once: inserted together (one command per 90); an
 * order whose outcome a previous run recorded keeps that one, which is read
 * back. Answers the recorded outcome per order id.
 */
export async function recordInventoryOutcomes(
  entries: ReadonlyArray<{ orderId: string; shortItems: OrderDoc['shortItems'] }>,
): Promise<Map<string, InventoryOutcomeDoc>> {
  const createdAt = new Date();
  const docs = entries.map(({ orderId, shortItems }): InventoryOutcomeDoc => ({
    _id: new Types.ObjectId(orderId),
    status: shortItems.length ? 'short' : 'reduced',
    shortItems,
    createdAt,
  }));
  const recorded = new Map(docs.map((doc) => [doc._id.toHexString(), doc]));
  for (let start = 0; start < docs.length; start += MAX_WRITE_STATEMENTS) {
    const chunk = docs.slice(start, start + MAX_WRITE_STATEMENTS);
    let refused: number[] = [];
    try {
      await insertBuilt(InventoryOutcome, chunk);
    } catch (error) {
      refused = duplicateIndexes(error);
    }
    const earlier = await Promise.all(
      refused.map((i) => InventoryOutcome.findById(chunk[i]!._id).lean<InventoryOutcomeDoc>()),
    );
    for (const outcome of earlier) if (outcome) recorded.set(outcome._id.toHexString(), outcome);
  }
  return recorded;
}
