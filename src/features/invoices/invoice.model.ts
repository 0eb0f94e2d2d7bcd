import { Schema, model, type Types } from 'mongoose';

/**
 * One invoice per delivery. Its lines and total never change once issued; what
 * has been paid is derived from the order's payments (payment-math.ts), so it
 * cannot drift from them.
 */
const invoiceSchema = new Schema(
  {
    invoiceNumber: { type: String, required: true },
    sellerId: { type: Schema.Types.ObjectId, required: true },
    // The seller's address and tax id when the invoice was issued: a later edit changes no issued invoice.
    sellerAddress: { type: String },
    sellerTaxId: { type: String },
    year: { type: Number, required: true },
    /** Position in the seller's year: 1, 2, 3… with no gaps (numbers exist only as invoices). */
    seq: { type: Number, required: true },
    orderId: { type: Schema.Types.ObjectId, required: true },
    deliveryId: { type: Schema.Types.ObjectId, required: true },
    customerId: { type: Schema.Types.ObjectId, required: true },
    lines: {
      type: [
        {
          productId: Schema.Types.ObjectId,
          name: String,
          sku: String,
          price: Number,
          quantity: Number,
          amount: Number,
          _id: false,
        },
      ],
      required: true,
    },
    total: { type: Number, required: true },
    currency: { type: String, required: true },
    issuedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

// One invoice per delivery, whatever the retries: a second insert for the delivery fails.
invoiceSchema.index({ deliveryId: 1 }, { unique: true });
// Gapless numbering: each (seller, year, seq) once; also serves "the seller's last number this year".
invoiceSchema.index({ sellerId: 1, year: 1, seq: 1 }, { unique: true });
// Serves an order's invoices in the order they were issued (and the payment allocation).
invoiceSchema.index({ orderId: 1, issuedAt: 1 });

export interface InvoiceLine {
  productId: Types.ObjectId;
  name: string;
  sku: string;
  price: number;
  quantity: number;
  amount: number;
}

export interface InvoiceDoc {
  _id: Types.ObjectId;
  invoiceNumber: string;
  sellerId: Types.ObjectId;
  sellerAddress?: string;
  sellerTaxId?: string;
  year: number;
  seq: number;
  orderId: Types.ObjectId;
  deliveryId: Types.ObjectId;
  customerId: Types.ObjectId;
  lines: InvoiceLine[];
  total: number;
  currency: string;
  issuedAt: Date;
}

export const Invoice = model<InvoiceDoc>('Invoice', invoiceSchema);
