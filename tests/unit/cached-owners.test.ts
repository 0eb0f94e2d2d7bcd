import { describe, expect, it } from 'vitest';
import { cachedOwners } from '../../src/order-flow/order-cache.js';

const CUSTOMER = 'a'.repeat(24);
const SELLER = 'b'.repeat(24);
const OTHER = 'c'.repeat(24);

/** A cached order's text as order-view.ts shapes it (the fields before and around the owners). */
const cached = (over: { checkoutId?: string; name?: string; address?: string; sellerName?: string } = {}) =>
  JSON.stringify({
    id: 'd'.repeat(24),
    orderNumber: 'ORD-20261124-7K3QX9',
    checkoutId: over.checkoutId ?? 'checkout',
    customer: { id: CUSTOMER, name: over.name ?? 'Asha', email: 'a@x.test', deliveryAddress: over.address ?? '1 Road' },
    seller: { id: SELLER, name: over.sellerName ?? 'Shop' },
    items: [],
  });

describe('cachedOwners', () => {
  it('reads the customer and seller ids of a cached order', () => {
    expect(cachedOwners(cached())).toEqual({ customer: { id: CUSTOMER }, seller: { id: SELLER } });
  });

  it('is not fooled by text in the fields before or inside the owners that looks like another owner', () => {
    const forged = `"customer":{"id":"${OTHER}"},"seller":{"id":"${OTHER}"`;
    for (const field of ['checkoutId', 'name', 'address', 'sellerName'] as const) {
      expect(cachedOwners(cached({ [field]: forged }))).toEqual({ customer: { id: CUSTOMER }, seller: { id: SELLER } });
      // A backslash before the quote does not help either: JSON escapes both.
      expect(cachedOwners(cached({ [field]: `\\${forged}` }))).toEqual({
        customer: { id: CUSTOMER },
        seller: { id: SELLER },
      });
    }
  });

  it('parses text of another shape', () => {
    const other = JSON.stringify({ seller: { name: 'Shop', id: SELLER }, customer: { name: 'Asha', id: CUSTOMER } });
    expect(cachedOwners(other)).toEqual({ customer: { id: CUSTOMER }, seller: { id: SELLER } });
  });
});
