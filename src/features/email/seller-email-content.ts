import { formatMoney } from '../invoices/invoice-pdf.js';

/** One order as a seller's email lists it. */
export interface EmailedOrder {
  orderId: string;
  orderNumber: string;
  customerName: string;
  totalAmount: number;
  currency: string;
  items: Array<{ name: string; sku?: string; quantity: number; subtotal: number }>;
  /** The end of the delivery address (city and postal code), not the street: enough to plan, little to leak. */
  deliveryArea?: string;
  placedAt: Date;
}

export interface SellerEmailContent {
  subject: string;
  text: string;
  html: string;
}

/** The last part of an address ("12 MG Road, Bengaluru 560001" → "Bengaluru 560001"). */
export function deliveryAreaOf(address: string | undefined): string | undefined {
  const parts = (address ?? '')
    .split(/[,\n]/)
    .map((part) => part.trim())
    .filter(Boolean);
  return parts.at(-1);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
/** Names come from users: no line break or control character may reach a header or shape the text body. */
const oneLine = (text: string) => text.replace(/\p{Cc}+/gu, ' ').trim();

export const orderLink = (publicUrl: string, orderId: string) => `${publicUrl}/app/orders/${orderId}`;

/**
 * The email a seller gets about orders they have not acknowledged: a subject
 * that names how many, then each order with its number, items, total,
 * delivery area and a link to it in the web app. Text and HTML carry the same;
 * every value from users is escaped in the HTML.
 */
export function renderSellerEmail(
  seller: { name: string },
  orders: readonly EmailedOrder[],
  publicUrl: string,
): SellerEmailContent {
  const count = orders.length;
  const subject =
    count === 1
      ? `1 new order waiting for you: ${oneLine(orders[0]!.orderNumber)}`
      : `${count} new orders waiting for you`;
  const intro =
    count === 1
      ? 'An order is waiting for you and has not been seen on your dashboard yet.'
      : `${count} orders are waiting for you and have not been seen on your dashboard yet.`;

  const textOrders = orders.map((order) => {
    const lines = [
      `${oneLine(order.orderNumber)} — ${formatMoney(order.totalAmount, order.currency)}, from ${oneLine(order.customerName)}`,
      ...order.items.map(
        (item) => `  ${item.quantity} × ${oneLine(item.name)} (${formatMoney(item.subtotal, order.currency)})`,
      ),
      ...(order.deliveryArea ? [`  Deliver to: ${oneLine(order.deliveryArea)}`] : []),
      `  Placed: ${order.placedAt.toISOString()}`,
      `  Open: ${orderLink(publicUrl, order.orderId)}`,
    ];
    return lines.join('\n');
  });
  const text = [
    `Hello ${oneLine(seller.name)},`,
    '',
    intro,
    '',
    textOrders.join('\n\n'),
    '',
    `Your orders: ${publicUrl}/app/`,
    'You get this email because these orders were not acknowledged on your dashboard. You can turn these emails off or change when they come in your notification preferences.',
  ].join('\n');

  const htmlOrders = orders
    .map((order) => {
      const link = escapeHtml(orderLink(publicUrl, order.orderId));
      const items = order.items
        .map(
          (item) =>
            `<li>${item.quantity} × ${escapeHtml(oneLine(item.name))} <span style="color:#555">(${escapeHtml(formatMoney(item.subtotal, order.currency))})</span></li>`,
        )
        .join('');
      return [
        '<tr><td style="padding:12px 0;border-top:1px solid #ddd">',
        `<p style="margin:0"><a href="${link}"><strong>${escapeHtml(oneLine(order.orderNumber))}</strong></a>`,
        ` — ${escapeHtml(formatMoney(order.totalAmount, order.currency))}, from ${escapeHtml(oneLine(order.customerName))}</p>`,
        `<ul style="margin:4px 0">${items}</ul>`,
        order.deliveryArea ? `<p style="margin:0">Deliver to: ${escapeHtml(oneLine(order.deliveryArea))}</p>` : '',
        `<p style="margin:0;color:#555">Placed ${escapeHtml(order.placedAt.toISOString())} · <a href="${link}">Open the order</a></p>`,
        '</td></tr>',
      ].join('');
    })
    .join('');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;color:#222">',
    `<p>Hello ${escapeHtml(oneLine(seller.name))},</p>`,
    `<p>${escapeHtml(intro)}</p>`,
    `<table role="presentation" style="border-collapse:collapse;width:100%">${htmlOrders}</table>`,
    `<p><a href="${escapeHtml(`${publicUrl}/app/`)}">Your orders</a></p>`,
    '<p style="color:#777;font-size:12px">You get this email because these orders were not acknowledged on your dashboard. ',
    'You can turn these emails off or change when they come in your notification preferences.</p>',
    '</body></html>',
  ].join('');
  return { subject, text, html };
}
