import type { Principal } from '../lib/tokens.js';

/**
 * Who may see and who may manage an order: one rule for orders, deliveries,
 * invoices and sockets. Ids may be strings or ObjectIds (stored or public form).
 */

interface Owned {
  customer: { id: { toString(): string } };
  seller: { id: { toString(): string } };
}

export const isStaff = (caller: Principal) => caller.role === 'staff' || caller.role === 'admin';

/** Staff and admins, the order's customer, the order's seller. */
export function canSeeOrder(caller: Principal, order: Owned): boolean {
  if (isStaff(caller)) return true;
  if (caller.role === 'customer') return order.customer.id.toString() === caller.id;
  if (caller.role === 'seller') return order.seller.id.toString() === caller.id;
  return false;
}

/** Staff and admins, and the order's seller: those who deliver, invoice and take payments. */
export function canManageOrder(caller: Principal, order: Owned): boolean {
  return isStaff(caller) || (caller.role === 'seller' && order.seller.id.toString() === caller.id);
}
