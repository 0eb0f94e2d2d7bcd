import { Schema, model, type Types } from 'mongoose';

export const MOVE_KINDS = ['reduce', 'restore'] as const;
export type MoveKind = (typeof MOVE_KINDS)[number];

/** `reduce:<orderId>:<productId>` or `restore:…`: one move per order, product and kind, ever. */
export const moveId = (kind: MoveKind, orderId: string, productId: string) => `${kind}:${orderId}:${productId}`;

/**
 * The stock ledger: one document per stock change an order made, keyed so
 * that a second record of the same move is a duplicate key. Its existence is
 * what makes a move apply once; it also answers "what moved this stock".
 */
const inventoryMoveSchema = new Schema(
  {
    _id: { type: String, required: true },
    kind: { type: String, enum: MOVE_KINDS, required: true },
    orderId: { type: Schema.Types.ObjectId, required: true },
    productId: { type: Schema.Types.ObjectId, required: true },
    quantity: { type: Number, required: true },
    /** The batch that wrote it, while that batch's stock change may not have happened yet. */
    batch: { type: String },
  },
  { timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);

export interface InventoryMoveDoc {
  _id: string;
  kind: MoveKind;
  orderId: Types.ObjectId;
  productId: Types.ObjectId;
  quantity: number;
  batch?: string;
  createdAt: Date;
}

export const InventoryMove = model<InventoryMoveDoc>('InventoryMove', inventoryMoveSchema);
