import { describe, expect, it } from 'vitest';
import { allocate, paymentStatusOf } from '../../src/features/invoices/payment-math.js';

describe('payments and invoices', () => {
  it('applies an advance to invoices in the order they were issued', () => {
    const { balances, unappliedAdvance, paidAmount } = allocate(
      [
        { id: 'i1', total: 1_000 },
        { id: 'i2', total: 2_000 },
      ],
      [{ amount: 1_500 }],
    );
    expect(balances.get('i1')).toMatchObject({
      amountPaid: 1_000,
      amountDue: 0,
      paymentStatus: 'paid',
      advanceApplied: 1_000,
    });
    expect(balances.get('i2')).toMatchObject({ amountPaid: 500, amountDue: 1_500, paymentStatus: 'partially_paid' });
    expect(unappliedAdvance).toBe(0);
    expect(paidAmount).toBe(1_500);
  });

  it('direct payments count first; the advance covers only what remains', () => {
    const { balances, unappliedAdvance } = allocate(
      [{ id: 'i1', total: 1_000 }],
      [{ invoiceId: 'i1', amount: 700 }, { amount: 500 }],
    );
    expect(balances.get('i1')).toMatchObject({ direct: 700, advanceApplied: 300, amountDue: 0 });
    expect(unappliedAdvance).toBe(200);
  });

  it('money adds up exactly: three deliveries, an advance and two payments', () => {
    const invoices = [
      { id: 'a', total: 33_333 },
      { id: 'b', total: 33_333 },
      { id: 'c', total: 33_334 },
    ];
    const payments = [{ amount: 20_000 }, { invoiceId: 'b', amount: 33_333 }, { invoiceId: 'c', amount: 30_000 }];
    const { balances, paidAmount, unappliedAdvance } = allocate(invoices, payments);
    const paid = [...balances.values()].reduce((sum, b) => sum + b.amountPaid, 0);
    expect(paid + unappliedAdvance).toBe(paidAmount);
    expect(paidAmount).toBe(83_333);
    expect([...balances.values()].map((b) => b.amountDue)).toEqual([13_333, 0, 3_334]);
  });

  it('statuses', () => {
    expect(paymentStatusOf(0, 100)).toBe('unpaid');
    expect(paymentStatusOf(1, 100)).toBe('partially_paid');
    expect(paymentStatusOf(100, 100)).toBe('paid');
  });
});
