import { describe, expect, it } from 'vitest';
import { isPermanentSmtpFailure, mailDomain } from '../../src/features/email/mailer.js';
import { deliveryAreaOf, renderSellerEmail, type EmailedOrder } from '../../src/features/email/seller-email-content.js';

const order = (overrides: Partial<EmailedOrder> = {}): EmailedOrder => ({
  orderId: '665f1c2e8b3f4a0012345678',
  orderNumber: 'ORD-20261122-7K3QX9',
  customerName: 'Asha',
  totalAmount: 123450,
  currency: 'INR',
  items: [{ name: 'Tea', sku: 'TEA-1', quantity: 3, subtotal: 123450 }],
  deliveryArea: 'Kolkata 700016',
  placedAt: new Date('2026-11-22T10:00:00Z'),
  ...overrides,
});

describe('the seller email', () => {
  it('names the one order in the subject, and how many when there are several', () => {
    expect(renderSellerEmail({ name: 'Tea House' }, [order()], 'https://shop.test').subject).toBe(
      '1 new order waiting for you: ORD-20261122-7K3QX9',
    );
    expect(renderSellerEmail({ name: 'Tea House' }, [order(), order(), order()], 'https://shop.test').subject).toBe(
      '3 new orders waiting for you',
    );
  });

  it('lists number, items, total, area and link in text and HTML', () => {
    const { text, html } = renderSellerEmail({ name: 'Tea House' }, [order()], 'https://shop.test');
    for (const body of [text, html]) {
      expect(body).toContain('ORD-20261122-7K3QX9');
      expect(body).toContain('INR 1,234.50');
      expect(body).toContain('3 × Tea');
      expect(body).toContain('Kolkata 700016');
      expect(body).toContain('https://shop.test/app/orders/665f1c2e8b3f4a0012345678');
    }
  });

  it('escapes every value from users in the HTML, and keeps line breaks out of the subject and text lines', () => {
    const hostile = order({
      orderNumber: 'ORD-1\r\nBcc: victim@example.com',
      customerName: '<img src=x onerror=alert(1)>',
      items: [{ name: '"><script>x</script>', quantity: 1, subtotal: 1 }],
      deliveryArea: "O'Neil & <Sons>",
    });
    const { subject, text, html } = renderSellerEmail({ name: '<b>Shop</b>' }, [hostile], 'https://shop.test');
    expect(subject).not.toMatch(/[\r\n]/);
    expect(text).not.toContain('\r\nBcc');
    expect(html).not.toMatch(/<img|<script|<b>Shop/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&quot;&gt;&lt;script&gt;x&lt;/script&gt;');
    expect(html).toContain('O&#39;Neil &amp; &lt;Sons&gt;');
  });

  it('takes the delivery area from the end of the address', () => {
    expect(deliveryAreaOf('12 MG Road, Bengaluru 560001')).toBe('Bengaluru 560001');
    expect(deliveryAreaOf('14 Park Street\nKolkata 700016')).toBe('Kolkata 700016');
    expect(deliveryAreaOf('Somewhere')).toBe('Somewhere');
    expect(deliveryAreaOf(undefined)).toBeUndefined();
  });
});

describe('mail plumbing', () => {
  it('puts the sender’s domain in Message-IDs', () => {
    expect(mailDomain('Shop <orders@shop.example>')).toBe('shop.example');
    expect(mailDomain('orders@shop.example')).toBe('shop.example');
  });

  it('gives up only on 5xx answers', () => {
    expect(isPermanentSmtpFailure(Object.assign(new Error('no such user'), { responseCode: 550 }))).toBe(true);
    expect(isPermanentSmtpFailure(Object.assign(new Error('greylisted'), { responseCode: 451 }))).toBe(false);
    expect(isPermanentSmtpFailure(Object.assign(new Error('refused'), { code: 'ECONNECTION' }))).toBe(false);
  });
});
