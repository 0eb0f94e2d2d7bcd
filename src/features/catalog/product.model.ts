import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/** A stock move written with its stock change and not yet recorded in the ledger. */
const pendingMoveSchema = new Schema(
  {
    id: { type: String, required: true },
    kind: { type: String, enum: ['reduce', 'restore'], required: true },
    orderId: { type: Schema.Types.ObjectId, required: true },
    quantity: { type: Number, required: true },
  },
  { _id: false },
);

const productSchema = new Schema(
  {
    sellerId: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    name: { type: String, required: true, trim: true },
    sku: { type: String, required: true, trim: true },
    /** Minor units (paise/cents) of the configured currency. */
    price: { type: Number, required: true, min: 0 },
    stock: { type: Number, required: true, min: 0 },
    /**
     * The inventory move whose stock change this document already holds but
     * whose record (`inventorymoves`) may not be written yet; set and cleared
     * under the product's lock, so there is at most one. Never sent to clients.
     */
    pendingMove: { type: pendingMoveSchema, select: false },
    /** The moves of a batch of orders, written with their one stock change (see inventory.service.ts). */
    pendingMoves: { type: [pendingMoveSchema], default: undefined, select: false },
    /**
     * A batch's moves whose records are being written before its stock change
     * (see inventory.service.ts): the records are tagged with `batch`, so a
     * crash before the stock change is undone by deleting exactly those.
     */
    intendedMoves: {
      type: new Schema(
        { batch: { type: String, required: true }, ids: { type: [String], required: true } },
        { _id: false },
      ),
      select: false,
    },
  },
  { timestamps: true, versionKey: false },
);

// Serves the "sku is unique per seller" rule and look-ups by seller + sku.
productSchema.index({ sellerId: 1, sku: 1 }, { unique: true });
// Serves `GET /products?sellerId=` sorted newest first.
productSchema.index({ sellerId: 1, createdAt: -1 });
// Serves the unfiltered catalog list sorted newest first.
productSchema.index({ createdAt: -1 });

export type ProductDoc = InferSchemaType<typeof productSchema> & {
  _id: Types.ObjectId;
  createdAt: Date;
  updatedAt: Date;
};

export const Product = model('Product', productSchema);

export interface PublicProduct {
  id: string;
  sellerId: string;
  /** The seller's shop name (or name), as buyers see it; `Unknown seller` if the account is gone. */
  sellerName: string;
  name: string;
  sku: string;
  price: number;
  currency: string;
  stock: number;
  createdAt: string;
  updatedAt: string;
}

export function toPublicProduct(product: ProductDoc, currency: string, sellerName: string): PublicProduct {
  return {
    id: product._id.toHexString(),
    sellerId: product.sellerId.toHexString(),
    sellerName,
    name: product.name,
    sku: product.sku,
    price: product.price,
    currency,
    stock: product.stock,
    createdAt: product.createdAt.toISOString(),
    updatedAt: product.updatedAt.toISOString(),
  };
}
