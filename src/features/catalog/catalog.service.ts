import type { QueryFilter } from 'mongoose';
import type { Redis } from 'ioredis';
import { AppError } from '../../lib/errors.js';
import { lockKeys, withLock } from '../../lib/locks.js';
import { isDuplicateKeyError } from '../../lib/mongo.js';
import { escapeRegExp } from '../../lib/text.js';
import type { Principal } from '../../lib/tokens.js';
import { findUser } from '../users/users.service.js';
import type { CreateProductInput, ListProductsQuery, UpdateProductInput } from './catalog.schemas.js';
import { Product, toPublicProduct, type ProductDoc, type PublicProduct } from './product.model.js';

async function resolveSellerId(caller: Principal, requested: string | undefined): Promise<string> {
  if (caller.role === 'seller') {
    if (requested && requested !== caller.id)
      throw new AppError('forbidden', 'a seller can only add products to its own shop');
    return caller.id;
  }
  if (!requested) {
    throw new AppError('validation', 'sellerId is required when an admin creates a product', {
      errors: [{ path: 'sellerId', message: 'required' }],
    });
  }
  const seller = await findUser(requested);
  if (seller?.role !== 'seller') {
    throw new AppError('validation', `user ${requested} is not a seller`, {
      errors: [{ path: 'sellerId', message: 'no seller with this id' }],
    });
  }
  return requested;
}

export async function createProduct(
  caller: Principal,
  input: CreateProductInput,
  currency: string,
): Promise<PublicProduct> {
  const sellerId = await resolveSellerId(caller, input.sellerId);
  try {
    const product = await Product.create({
      sellerId,
      name: input.name,
      sku: input.sku,
      price: input.price,
      stock: input.stock,
    });
    return toPublicProduct(product.toObject() as ProductDoc, currency);
  } catch (error) {
    if (isDuplicateKeyError(error))
      throw new AppError('conflict', `this seller already has a product with sku ${input.sku}`);
    throw error;
  }
}

export async function listProducts(query: ListProductsQuery, currency: string) {
  const filter: QueryFilter<ProductDoc> = {};
  if (query.sellerId) filter.sellerId = query.sellerId;
  if (query.search) {
    const pattern = new RegExp(escapeRegExp(query.search), 'i');
    filter.$or = [{ name: pattern }, { sku: pattern }];
  }
  const [total, docs] = await Promise.all([
    Product.countDocuments(filter),
    Product.find(filter)
      .sort({ createdAt: -1, _id: -1 })
      .skip((query.page - 1) * query.limit)
      .limit(query.limit)
      .lean<ProductDoc[]>(),
  ]);
  return {
    data: docs.map((doc) => toPublicProduct(doc, currency)),
    page: query.page,
    limit: query.limit,
    total,
    totalPages: Math.ceil(total / query.limit),
  };
}

/**
 * Products as stored, for another module's decision (a checkout's prices and
 * stock): by `_id` one at a time, since on FerretDB an `$in` decodes the whole
 * collection (~0.4 s per call at 10,000 products). Missing ids are left out.
 */
export async function findProducts(ids: readonly string[]): Promise<ProductDoc[]> {
  const found = await Promise.all(ids.map((id) => Product.findById(id).lean<ProductDoc>()));
  return found.filter((product) => product !== null);
}

export async function getProduct(id: string, currency: string): Promise<PublicProduct> {
  const product = await Product.findById(id).lean<ProductDoc>();
  if (!product) throw new AppError('not_found', `product ${id} does not exist`);
  return toPublicProduct(product, currency);
}

export async function updateProduct(
  redis: Redis,
  caller: Principal,
  id: string,
  changes: UpdateProductInput,
  currency: string,
): Promise<PublicProduct> {
  const existing = await Product.findById(id, { sellerId: 1 }).lean<Pick<ProductDoc, '_id' | 'sellerId'>>();
  if (!existing) throw new AppError('not_found', `product ${id} does not exist`);
  if (caller.role === 'seller' && existing.sellerId.toHexString() !== caller.id) {
    throw new AppError('forbidden', 'a seller can only change its own products');
  }
  // The owner cannot change between the check and the write: sellerId is never updated. The
  // lock matters on FerretDB, where an unlocked write could undo a concurrent stock reduction;
  // updateOne + read because FerretDB's findAndModify takes no projection (pendingMove is hidden).
  const updated = await withLock(redis, lockKeys.product(id), async () => {
    await Product.updateOne({ _id: id }, { $set: changes });
    return Product.findById(id).lean<ProductDoc>();
  });
  if (!updated) throw new AppError('not_found', `product ${id} does not exist`);
  return toPublicProduct(updated, currency);
}
