import { describe, expect, it } from 'vitest';
import { canTransition, isCancellable, ORDER_STATUSES } from '../../src/order-flow/order-status.js';
import { newOrderNumber } from '../../src/features/orders/order-numbers.js';
import { invoiceJobId, orderJobId, parseOrderJobId } from '../../src/order-flow/order-jobs.js';

describe('order lifecycle', () => {
  it('follows pending → confirmed → in_progress → partial_delivered → delivered → completed', () => {
    const path = ['pending', 'confirmed', 'in_progress', 'partial_delivered', 'delivered', 'completed'] as const;
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1]!, path[i]!), path[i]).toBe(true);
  });

  it('never skips confirmation, never goes back to pending, and ends at completed or cancelled', () => {
    expect(canTransition('pending', 'in_progress')).toBe(false);
    expect(canTransition('pending', 'delivered')).toBe(false);
    for (const status of ORDER_STATUSES) {
      expect(canTransition(status, 'pending')).toBe(false);
      expect(canTransition('completed', status)).toBe(false);
      expect(canTransition('cancelled', status)).toBe(false);
      expect(canTransition(status, status)).toBe(false);
    }
  });

  it('allows cancelling only before the first delivered unit', () => {
    expect(isCancellable('pending', 0)).toBe(true);
    expect(isCancellable('confirmed', 0)).toBe(true);
    expect(isCancellable('in_progress', 0)).toBe(true);
    expect(isCancellable('in_progress', 1)).toBe(false);
    expect(isCancellable('partial_delivered', 0)).toBe(false);
    expect(isCancellable('delivered', 0)).toBe(false);
  });
});

describe('order numbers and job ids', () => {
  it('order numbers carry the day and six unambiguous characters', () => {
    const number = newOrderNumber(new Date('2026-11-22T10:00:00Z'));
    expect(number).toMatch(/^ORD-20261122-[0-9A-HJKMNP-TV-Z]{6}$/);
  });

  it('job ids round-trip and contain no ":" (BullMQ forbids it)', () => {
    const id = 'aaaaaaaaaaaaaaaaaaaaaaaa';
    expect(orderJobId('warm-order', id, 3)).toBe(`warm-order_${id}_3`);
    expect(parseOrderJobId(orderJobId('warm-order', id, 3))).toEqual({
      name: 'warm-order',
      queue: 'cache',
      payload: { orderId: id, version: 3 },
    });
    expect(parseOrderJobId(orderJobId('reduce-inventory', id))).toEqual({
      name: 'reduce-inventory',
      queue: 'inventory',
      payload: { orderId: id },
    });
    // Jobs without a version in their id take the owing change's.
    expect(parseOrderJobId(orderJobId('restore-inventory', id), 4)).toEqual({
      name: 'restore-inventory',
      queue: 'inventory',
      payload: { orderId: id, version: 4 },
    });
    expect(parseOrderJobId(invoiceJobId(id, 'b'.repeat(24)), 2)).toEqual({
      name: 'create-invoice',
      queue: 'invoices',
      payload: { orderId: id, deliveryId: 'b'.repeat(24), version: 2 },
    });
    expect(parseOrderJobId('bogus_x')).toBeUndefined();
    expect(orderJobId('notify-seller', id)).not.toContain(':');
  });
});
