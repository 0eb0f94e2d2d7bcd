import { Schema, model, type Types } from 'mongoose';
import { DELIVERY_STATUSES, type DeliveryStatus } from './delivery-math.js';
import { ORDER_STATUSES, type OrderStatus } from './order-status.js';

export const PAYMENT_METHODS = ['cash_on_delivery', 'prepaid', 'bank_transfer', 'upi', 'card'] as const;
export const PAYMENT_STATUSES = ['unpaid', 'partially_paid', 'paid'] as const;
export const INVENTORY_STATUSES = ['pending', 'reduced', 'short', 'restored'] as const;

const itemSchema = new Schema(
  {
    productId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true },
    sku: { type: String, required: true },
    price: { type: Number, required: true },
    quantity: { type: Number, required: true },
    subtotal: { type: Number, required: true },
    deliveredQuantity: { type: Number, required: true, default: 0 },
    remainingQuantity: { type: Number, required: true },
  },
  { _id: true },
);

/**
 * Deliveries live inside their order: the quantities they hold and the order's
 * remaining quantities change in one single-document write, which is what keeps
 * "remaining never below zero" true without transactions.
 */
const deliverySchema = new Schema(
  {
    deliveryNumber: { type: String, required: true },
    items: {
      type: [{ productId: { type: Schema.Types.ObjectId, required: true }, quantity: Number, _id: false }],
      required: true,
    },
    status: { type: String, enum: DELIVERY_STATUSES, required: true },
    scheduledDate: { type: Date },
    deliveredAt: { type: Date },
    value: { type: Number, required: true },
    notes: { type: String },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { _id: true },
);

const orderSchema = new Schema(
  {
    orderNumber: { type: String, required: true },
    checkoutId: { type: String, required: true },
    customer: {
      id: { type: Schema.Types.ObjectId, required: true },
      name: { type: String, required: true },
      email: { type: String, required: true },
      phone: { type: String },
      deliveryAddress: { type: String, required: true },
    },
    seller: {
      id: { type: Schema.Types.ObjectId, required: true },
      name: { type: String, required: true },
    },
    items: { type: [itemSchema], required: true },
    totalAmount: { type: Number, required: true },
    currency: { type: String, required: true },
    status: { type: String, enum: ORDER_STATUSES, required: true, default: 'pending' },
    paymentMethod: { type: String, enum: PAYMENT_METHODS, required: true, default: 'cash_on_delivery' },
    paymentStatus: { type: String, enum: PAYMENT_STATUSES, required: true, default: 'unpaid' },
    paidAmount: { type: Number, required: true, default: 0 },
    progress: { type: Number, required: true, default: 0 },
    inventoryStatus: { type: String, enum: INVENTORY_STATUSES, required: true, default: 'pending' },
    shortItems: {
      type: [{ productId: Schema.Types.ObjectId, requested: Number, available: Number, _id: false }],
      default: [],
    },
    estimatedDelivery: { type: Date },
    notes: { type: String },
    cancelReason: { type: String },
    cancelledAt: { type: Date },
    confirmedAt: { type: Date },
    /** The idempotency key the order was placed with, so a crashed request can be finished by its retry. */
    idempotencyKey: { type: String },
    deliveries: { type: [deliverySchema], default: [] },
    /** Every payment on the order; `invoiceId` unset for an advance. The source of paidAmount and invoice balances. */
    payments: {
      type: [
        {
          invoiceId: Schema.Types.ObjectId,
          amount: { type: Number, required: true },
          method: { type: String, required: true },
          reference: String,
          paidAt: { type: Date, required: true },
        },
      ],
      default: [],
    },
    /** Units delivered so far; an order can be cancelled only while this is 0. */
    deliveredUnits: { type: Number, required: true, default: 0 },
    /** Bumped by every write; caches only ever move forward in versions. */
    version: { type: Number, required: true, default: 1 },
  },
  { timestamps: true, versionKey: false },
);

// Serves look-ups by order number (search, support) and keeps numbers unique.
orderSchema.index({ orderNumber: 1 }, { unique: true });
// Serves the customer's own list, newest first, and the customer-scoped stats.
orderSchema.index({ 'customer.id': 1, createdAt: -1 });
// Serves the seller's own list and stats, and `GET /orders?sellerId=`.
orderSchema.index({ 'seller.id': 1, createdAt: -1 });
// Serves the staff/admin list filtered by status, newest first.
orderSchema.index({ status: 1, createdAt: -1 });
// Serves the unfiltered staff/admin list and date ranges.
orderSchema.index({ createdAt: -1 });
// Serves the orders of one checkout (the idempotent replay).
orderSchema.index({ checkoutId: 1 });
// Serves finishing a crashed keyed request: the orders already placed with that key.
orderSchema.index({ 'customer.id': 1, idempotencyKey: 1 });
// Serve GET /deliveries/today: orders with a delivery scheduled or created in a day.
orderSchema.index({ 'deliveries.scheduledDate': 1 });
orderSchema.index({ 'deliveries.createdAt': 1 });

export interface OrderItemDoc {
  _id: Types.ObjectId;
  productId: Types.ObjectId;
  name: string;
  sku: string;
  price: number;
  quantity: number;
  subtotal: number;
  deliveredQuantity: number;
  remainingQuantity: number;
}

export interface DeliveryDoc {
  _id: Types.ObjectId;
  deliveryNumber: string;
  items: Array<{ productId: Types.ObjectId; quantity: number }>;
  status: DeliveryStatus;
  scheduledDate?: Date;
  deliveredAt?: Date;
  value: number;
  notes?: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface PaymentDoc {
  _id: Types.ObjectId;
  invoiceId?: Types.ObjectId;
  amount: number;
  method: string;
  reference?: string;
  paidAt: Date;
}

/** An order as stored (what `lean()` returns). */
export interface OrderDoc {
  _id: Types.ObjectId;
  orderNumber: string;
  checkoutId: string;
  customer: { id: Types.ObjectId; name: string; email: string; phone?: string; deliveryAddress: string };
  seller: { id: Types.ObjectId; name: string };
  items: OrderItemDoc[];
  totalAmount: number;
  currency: string;
  status: OrderStatus;
  paymentMethod: (typeof PAYMENT_METHODS)[number];
  paymentStatus: (typeof PAYMENT_STATUSES)[number];
  paidAmount: number;
  progress: number;
  inventoryStatus: (typeof INVENTORY_STATUSES)[number];
  shortItems: Array<{ productId: Types.ObjectId; requested: number; available: number }>;
  estimatedDelivery?: Date;
  notes?: string;
  cancelReason?: string;
  cancelledAt?: Date;
  confirmedAt?: Date;
  idempotencyKey?: string;
  deliveries: DeliveryDoc[];
  payments: PaymentDoc[];
  deliveredUnits: number;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export const Order = model<OrderDoc>('Order', orderSchema);
