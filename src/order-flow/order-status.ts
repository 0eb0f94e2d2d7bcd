/**
 * The order lifecycle as data: which status may follow which, and who may ask
 * for it by hand. Statuses driven by deliveries (in_progress, partial_delivered,
 * shipped, delivered, completed) are derived from delivery quantities; they are
 * listed so the guard can answer a manual request with the current state.
 */
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

const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['confirmed', 'cancelled'],
  confirmed: ['in_progress', 'shipped', 'cancelled'],
  in_progress: ['shipped', 'partial_delivered', 'delivered', 'cancelled'],
  shipped: ['partial_delivered', 'delivered', 'in_progress'],
  partial_delivered: ['in_progress', 'shipped', 'delivered'],
  delivered: ['completed'],
  completed: [],
  cancelled: [],
};

/**
 * Statuses that follow from the order's deliveries and payments alone
 * (delivery-math.ts): nobody sets them by hand, so an order is never
 * `delivered` with nothing delivered, nor `completed` without being so.
 */
export const DERIVED_STATUSES: readonly OrderStatus[] = [
  'in_progress',
  'shipped',
  'partial_delivered',
  'delivered',
  'completed',
];

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[from].includes(to);
}

/** Statuses an order may be cancelled from: anything before the first delivered unit. */
export function isCancellable(status: OrderStatus, deliveredUnits: number): boolean {
  return deliveredUnits === 0 && canTransition(status, 'cancelled');
}

/** Open = not yet finished either way; used by the dashboard counters. */
export const OPEN_STATUSES: readonly OrderStatus[] = ['pending', 'confirmed'];
export const IN_PROGRESS_STATUSES: readonly OrderStatus[] = [
  'in_progress',
  'shipped',
  'partial_delivered',
  'delivered',
];
export const COMPLETED_STATUSES: readonly OrderStatus[] = ['completed'];
