/**
 * The shapes the app reads from the API (docs/PRODUCT.md, /openapi.json).
 * Written by hand and kept to what the screens use; the typed client in
 * packages/client can replace them later without touching the pages.
 */

export type Role = 'customer' | 'seller' | 'staff' | 'admin';

export interface User {
  id: string;
  name: string;
  email: string;
  role: Role;
  phone?: string;
  shopName?: string;
}

export interface Page<T> {
  data: T[];
  page: number;
  limit: number;
  total: number;
  totalPages: number;
}

export interface Product {
  id: string;
  sellerId: string;
  /** The seller's shop name, as buyers see it. */
  sellerName: string;
  name: string;
  sku: string;
  /** Minor units of `currency`. */
  price: number;
  currency: string;
  stock: number;
}

export const ORDER_STATUSES = [
  'pending',
  'confirmed',
  'in_progress',
  'shipped',
  'partial_delivered',
  'delivered',
  'completed',
  'cancelled',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrderItem {
  id: string;
  productId: string;
  name: string;
  sku: string;
  price: number;
  quantity: number;
  subtotal: number;
  deliveredQuantity: number;
  remainingQuantity: number;
}

export interface Order {
  id: string;
  orderNumber: string;
  checkoutId: string;
  customer: { id: string; name: string; email: string; phone?: string; deliveryAddress: string };
  seller: { id: string; name: string };
  items: OrderItem[];
  totalAmount: number;
  currency: string;
  status: OrderStatus;
  paymentMethod: string;
  paymentStatus: 'unpaid' | 'partially_paid' | 'paid';
  paidAmount: number;
  progress: number;
  inventoryStatus: 'pending' | 'reduced' | 'short' | 'restored';
  estimatedDelivery?: string;
  notes?: string;
  cancelReason?: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface Checkout {
  checkoutId: string;
  orders: Order[];
}

export interface OrderStats {
  totalOrders: number;
  openOrders: number;
  inProgressOrders: number;
  completedOrders: number;
  cancelledOrders: number;
  unpaidOrders: number;
}

export const DELIVERY_STATUSES = ['pending', 'dispatched', 'delivered', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface Delivery {
  id: string;
  orderId: string;
  deliveryNumber: string;
  items: Array<{ productId: string; quantity: number }>;
  status: DeliveryStatus;
  value: number;
  scheduledDate?: string;
  deliveredAt?: string;
  createdAt: string;
}

export interface Invoice {
  id: string;
  invoiceNumber: string;
  orderId: string;
  deliveryId: string;
  deliveryNumber?: string;
  total: number;
  currency: string;
  amountPaid: number;
  amountDue: number;
  paymentStatus: 'unpaid' | 'partially_paid' | 'paid';
  payments: Array<{ id: string; amount: number; method: string; reference?: string; paidAt: string }>;
  issuedAt: string;
}

export const PAYMENT_METHODS = ['cash', 'card', 'upi', 'bank_transfer', 'cheque', 'other'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

export interface TodaysDeliveries {
  date: string;
  count: number;
  totalValue: number;
  pending: number;
  dispatched: number;
  delivered: number;
  failed: number;
  cancelled: number;
}

export interface AppNotification {
  id: string;
  type: string;
  orderId?: string;
  payload: Record<string, unknown>;
  createdAt: string;
  deliveredAt?: string;
  readAt?: string;
}

/** A seller's `order_notification` socket event. */
export interface OrderNotice {
  eventId: string;
  notificationId: string;
  orderId: string;
  orderNumber: string;
  customerName: string;
  totalAmount: number;
  currency: string;
  itemCount: number;
  createdAt: string;
  replayed?: true;
}
