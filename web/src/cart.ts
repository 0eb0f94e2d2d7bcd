import { createStore } from './store';
import type { Product } from './types';

/** The customer's cart, across sellers, kept in this browser (localStorage) until the order is placed. */

export interface CartLine {
  productId: string;
  sellerId: string;
  /** Absent in carts saved before products carried it. */
  sellerName?: string;
  name: string;
  sku: string;
  price: number;
  currency: string;
  quantity: number;
}

const KEY = 'orders.cart';

function restore(): CartLine[] {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? '[]') as CartLine[];
    return Array.isArray(saved) ? saved.filter((line) => line.productId && line.quantity > 0) : [];
  } catch {
    return [];
  }
}

export const cart = createStore<CartLine[]>(restore());
cart.subscribe((lines) => localStorage.setItem(KEY, JSON.stringify(lines)));

export function addToCart(product: Product, quantity = 1) {
  cart.set((lines) => {
    const existing = lines.find((line) => line.productId === product.id);
    if (existing) {
      return lines.map((line) =>
        line.productId === product.id ? { ...line, quantity: line.quantity + quantity } : line,
      );
    }
    const { id: productId, sellerId, sellerName, name, sku, price, currency } = product;
    return [...lines, { productId, sellerId, sellerName, name, sku, price, currency, quantity }];
  });
}

export function setQuantity(productId: string, quantity: number) {
  cart.set((lines) =>
    quantity <= 0
      ? lines.filter((line) => line.productId !== productId)
      : lines.map((line) => (line.productId === productId ? { ...line, quantity } : line)),
  );
}

export const clearCart = () => cart.set([]);

/** Lines grouped by seller, in the order sellers first appear: each group becomes one order. */
export function bySeller(lines: readonly CartLine[]): CartLine[][] {
  const groups = new Map<string, CartLine[]>();
  for (const line of lines) groups.set(line.sellerId, [...(groups.get(line.sellerId) ?? []), line]);
  return [...groups.values()];
}
