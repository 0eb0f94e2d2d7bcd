import { describe, expect, it } from 'vitest';
import { canMoveDelivery, recompute } from '../../src/order-flow/delivery-math.js';

const ordered = [
  { productId: 'a', quantity: 25 },
  { productId: 'b', quantity: 32 },
];

describe('partial delivery bookkeeping', () => {
  it('an order with no deliveries is confirmed, nothing delivered', () => {
    const book = recompute(ordered, [], false);
    expect(book).toMatchObject({ deliveredUnits: 0, progress: 0, status: 'confirmed' });
    expect(book.items.get('a')).toEqual({ delivered: 0, remaining: 25 });
  });

  it('a pending delivery holds its quantities: in progress', () => {
    const book = recompute(ordered, [{ status: 'pending', items: [{ productId: 'a', quantity: 10 }] }], false);
    expect(book.status).toBe('in_progress');
    expect(book.items.get('a')).toEqual({ delivered: 0, remaining: 15 });
  });

  it('delivered units drive progress and partial_delivered', () => {
    const book = recompute(ordered, [{ status: 'delivered', items: [{ productId: 'a', quantity: 10 }] }], false);
    expect(book).toMatchObject({ deliveredUnits: 10, progress: 17, status: 'partial_delivered' });
  });

  it('shipped while every undelivered unit is out for delivery', () => {
    const book = recompute(
      ordered,
      [
        { status: 'delivered', items: [{ productId: 'a', quantity: 10 }] },
        {
          status: 'dispatched',
          items: [
            { productId: 'a', quantity: 15 },
            { productId: 'b', quantity: 32 },
          ],
        },
      ],
      false,
    );
    expect(book.status).toBe('shipped');
  });

  it('failed and cancelled deliveries give their quantities back', () => {
    const book = recompute(
      ordered,
      [
        { status: 'failed', items: [{ productId: 'a', quantity: 25 }] },
        { status: 'cancelled', items: [{ productId: 'b', quantity: 32 }] },
      ],
      false,
    );
    expect(book.items.get('a')).toEqual({ delivered: 0, remaining: 25 });
    expect(book.status).toBe('confirmed');
  });

  it('everything delivered: delivered, or completed once fully paid; progress 100 only then', () => {
    const all = [{ status: 'delivered' as const, items: ordered }];
    expect(recompute(ordered, all, false)).toMatchObject({ status: 'delivered', progress: 100 });
    expect(recompute(ordered, all, true).status).toBe('completed');
    const almost = [
      {
        status: 'delivered' as const,
        items: [
          { productId: 'a', quantity: 25 },
          { productId: 'b', quantity: 31 },
        ],
      },
    ];
    expect(recompute(ordered, almost, false).progress).toBe(98);
  });

  it('delivery statuses move forward only', () => {
    expect(canMoveDelivery('pending', 'dispatched')).toBe(true);
    expect(canMoveDelivery('dispatched', 'delivered')).toBe(true);
    expect(canMoveDelivery('dispatched', 'pending')).toBe(false);
    expect(canMoveDelivery('delivered', 'failed')).toBe(false);
    expect(canMoveDelivery('failed', 'dispatched')).toBe(false);
  });
});
