import type { OrderStatus } from './order-status.js';

/**
 * Pure bookkeeping of partial deliveries: what each item has left, how far the
 * order has come, and which status that means. Everything is recomputed from
 * the order's deliveries on each change, never adjusted by increments, so a
 * replayed or repaired change lands on the same numbers.
 */

export const DELIVERY_STATUSES = ['pending', 'dispatched', 'delivered', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

const NEXT: Record<DeliveryStatus, readonly DeliveryStatus[]> = {
  pending: ['dispatched', 'delivered', 'failed', 'cancelled'],
  dispatched: ['delivered', 'failed'],
  delivered: [],
  failed: [],
  cancelled: [],
};

export function canMoveDelivery(from: DeliveryStatus, to: DeliveryStatus): boolean {
  return NEXT[from].includes(to);
}

/** Deliveries that hold their quantities: failed and cancelled ones give them back. */
export const isActive = (status: DeliveryStatus) => status !== 'failed' && status !== 'cancelled';

export interface ItemLine {
  productId: string;
  quantity: number;
}

export interface DeliveryLine {
  status: DeliveryStatus;
  items: ItemLine[];
}

export interface Bookkeeping {
  /** Per product: delivered and remaining (ordered minus every active delivery). */
  items: Map<string, { delivered: number; remaining: number }>;
  deliveredUnits: number;
  progress: number;
  status: OrderStatus;
}

export function recompute(ordered: ItemLine[], deliveries: DeliveryLine[], fullyPaid: boolean): Bookkeeping {
  const items = new Map(ordered.map((item) => [item.productId, { delivered: 0, remaining: item.quantity }]));
  let deliveredUnits = 0;
  let outForDelivery = 0;
  let held = 0;
  for (const delivery of deliveries) {
    if (!isActive(delivery.status)) continue;
    for (const line of delivery.items) {
      const item = items.get(line.productId);
      if (!item) continue;
      item.remaining -= line.quantity;
      held += line.quantity;
      if (delivery.status === 'delivered') {
        item.delivered += line.quantity;
        deliveredUnits += line.quantity;
      }
      if (delivery.status === 'dispatched') outForDelivery += line.quantity;
    }
  }
  const orderedUnits = ordered.reduce((sum, item) => sum + item.quantity, 0);
  const undelivered = orderedUnits - deliveredUnits;
  let status: OrderStatus;
  if (undelivered === 0) status = fullyPaid ? 'completed' : 'delivered';
  else if (outForDelivery === undelivered) status = 'shipped';
  else if (deliveredUnits > 0) status = 'partial_delivered';
  else if (held > 0) status = 'in_progress';
  else status = 'confirmed';
  return {
    items,
    deliveredUnits,
    // Whole percent, rounded down: 100 only when everything is delivered.
    progress: orderedUnits ? Math.floor((deliveredUnits * 100) / orderedUnits) : 0,
    status,
  };
}
