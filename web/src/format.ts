import type { DeliveryStatus, OrderStatus } from './types';

const formatters = new Map<string, Intl.NumberFormat>();

function formatter(currency: string): Intl.NumberFormat {
  let found = formatters.get(currency);
  if (!found) {
    try {
      found = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    } catch {
      found = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    formatters.set(currency, found);
  }
  return found;
}

/** Digits after the decimal point of a currency (2 for INR, USD; 0 for JPY). */
export function minorDigits(currency: string): number {
  return formatter(currency).resolvedOptions().maximumFractionDigits ?? 2;
}

let lastCurrency = 'INR';
/** The currency of the amounts shown last (the API has one), for totals that come without one. */
export const shownCurrency = () => lastCurrency;

/** An amount in minor units as people read it: 49900 INR → ₹499.00. */
export function money(minor: number, currency: string): string {
  lastCurrency = currency;
  return formatter(currency).format(minor / 10 ** minorDigits(currency));
}

/** What someone typed ("499.5") in minor units (49950), or undefined when it is not an amount. */
export function parseMoney(text: string, currency: string): number | undefined {
  const cleaned = text.trim().replace(/[, ]/g, '');
  if (!/^\d+(\.\d+)?$/.test(cleaned)) return undefined;
  const digits = minorDigits(currency);
  const [whole = '0', fraction = ''] = cleaned.split('.');
  if (fraction.length > digits) return undefined;
  return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
}

export function dateTime(iso: string | undefined): string {
  if (!iso) return '';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function date(iso: string | undefined): string {
  if (!iso) return '';
  return new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' });
}

/** Today as YYYY-MM-DD (UTC, as the API counts days). */
export const todayIso = () => new Date().toISOString().slice(0, 10);

const STATUS_LABELS: Record<OrderStatus | DeliveryStatus, string> = {
  pending: 'Pending',
  confirmed: 'Confirmed',
  in_progress: 'In progress',
  shipped: 'Shipped',
  partial_delivered: 'Partly delivered',
  delivered: 'Delivered',
  completed: 'Completed',
  cancelled: 'Cancelled',
  dispatched: 'Dispatched',
  failed: 'Failed',
};

export const statusLabel = (status: OrderStatus | DeliveryStatus) => STATUS_LABELS[status] ?? status;

export const paymentLabel = (status: string) =>
  ({ unpaid: 'Unpaid', partially_paid: 'Partly paid', paid: 'Paid' })[status] ?? status;
