/**
 * Who has paid what, derived from the order's payments alone (never stored
 * twice): direct payments belong to their invoice; advances (payments on the
 * order with no invoice) are applied to invoices in the order they were issued,
 * each taking what it still owes. So the order's paid amount is always the sum
 * of its payments, and every invoice's amount paid follows from the same list.
 */

export interface InvoiceTotal {
  id: string;
  total: number;
}

export interface PaymentLine {
  invoiceId?: string | undefined;
  amount: number;
}

export type PaymentStatus = 'unpaid' | 'partially_paid' | 'paid';

export function paymentStatusOf(paid: number, total: number): PaymentStatus {
  if (paid >= total && total > 0) return 'paid';
  return paid > 0 ? 'partially_paid' : 'unpaid';
}

export interface InvoiceBalance {
  direct: number;
  advanceApplied: number;
  amountPaid: number;
  amountDue: number;
  paymentStatus: PaymentStatus;
}

/** `invoices` in the order they were issued. */
export function allocate(invoices: InvoiceTotal[], payments: PaymentLine[]) {
  const direct = new Map<string, number>();
  let advance = 0;
  for (const payment of payments) {
    if (payment.invoiceId) direct.set(payment.invoiceId, (direct.get(payment.invoiceId) ?? 0) + payment.amount);
    else advance += payment.amount;
  }
  const balances = new Map<string, InvoiceBalance>();
  for (const invoice of invoices) {
    const paidDirectly = direct.get(invoice.id) ?? 0;
    const applied = Math.max(0, Math.min(advance, invoice.total - paidDirectly));
    advance -= applied;
    const amountPaid = paidDirectly + applied;
    balances.set(invoice.id, {
      direct: paidDirectly,
      advanceApplied: applied,
      amountPaid,
      amountDue: invoice.total - amountPaid,
      paymentStatus: paymentStatusOf(amountPaid, invoice.total),
    });
  }
  const paidAmount = payments.reduce((sum, p) => sum + p.amount, 0);
  return { balances, unappliedAdvance: advance, paidAmount };
}
