/**
 * The shapes the app reads from the API: the typed client's (packages/client),
 * generated from the API's OpenAPI document, so a change there fails this
 * app's typecheck instead of drifting from it. Type-only: nothing of the
 * client is bundled.
 */
import type { components } from '../../packages/client/src/schema.js';
import type { OrderNotification } from '../../packages/client/src/events.js';

type Schemas = components['schemas'];

export type User = Schemas['User'];
export type Role = User['role'];
export type Product = Schemas['Product'];
export type Order = Schemas['Order'];
export type OrderStatus = Order['status'];
export type OrderItem = Order['items'][number];
export type Checkout = Schemas['Checkout'];
export type OrderStats = Schemas['OrderStats'];
export type Delivery = Schemas['Delivery'];
export type DeliveryStatus = Delivery['status'];
export type Invoice = Schemas['Invoice'];
export type PaymentMethod = Schemas['PaymentRequest']['method'];
export type TodaysDeliveries = Schemas['DeliveriesToday'];
export type AppNotification = Schemas['Notification'];
/** A seller's `order_notification` socket event. */
export type OrderNotice = OrderNotification;

/** A page of a list (the API's `ProductPage`, `OrderPage`, … share this shape). */
export interface Page<T> {
  data: T[];
  page: number;
  limit: number;
  total: number;
  totalPages: number;
}

/** The payment form's choices, in the order it offers them. */
export const PAYMENT_METHODS = [
  'cash',
  'card',
  'upi',
  'bank_transfer',
  'cheque',
  'other',
] as const satisfies readonly PaymentMethod[];
