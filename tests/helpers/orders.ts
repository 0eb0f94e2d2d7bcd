import { expect } from 'vitest';
import { OwedJob } from '../../src/order-flow/owed-job.model.js';
import type { Actor } from './actors.js';
import type { HttpClient } from './http.js';

export async function createProduct(http: HttpClient, seller: Actor, overrides: Record<string, unknown> = {}) {
  const sku = `SKU-${Math.random().toString(36).slice(2, 10)}`;
  const res = await http.post(
    '/api/products',
    { name: `Product ${sku}`, sku, price: 250, stock: 100, ...overrides },
    { token: seller.token },
  );
  expect(res.status).toBe(201);
  return res.body as { id: string; stock: number; price: number; sku: string; name: string };
}

export const address = '12 MG Road, Bengaluru 560001';

export function orderBody(items: Array<{ productId: string; quantity: number }>, extra: Record<string, unknown> = {}) {
  return { items, deliveryAddress: address, ...extra };
}

/** The ids of the jobs the given orders still owe (done work is struck off). */
export async function owedJobsOf(orderIds: readonly string[]): Promise<string[]> {
  // A batch job's entry names all its orders in `orderIds`.
  const owed = await Promise.all(
    orderIds.map((orderId) => OwedJob.find({ $or: [{ orderId }, { orderIds: orderId }] }, { _id: 1 }).lean()),
  );
  return owed.flat().map((job) => job._id);
}
