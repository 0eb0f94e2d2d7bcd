import { Types, type QueryFilter } from 'mongoose';
import { forget, readThrough } from '../../lib/read-through.js';
import type { Redis } from 'ioredis';
import { AppError } from '../../lib/errors.js';
import { lockKeys, withLock } from '../../lib/locks.js';
import { isDuplicateKeyError } from '../../lib/mongo.js';
import { escapeRegExp } from '../../lib/text.js';
import type { Principal } from '../../lib/tokens.js';
import { findUser, userCards } from '../users/users.service.js';
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

/**
 * Products as buyers see them, with their sellers' names: one read-through of
 * the user cards (Redis, misses by `_id`) for the sellers of the whole page.
 */
async function publicProducts(
  redis: Redis,
  products: readonly ProductDoc[],
  currency: string,
): Promise<PublicProduct[]> {
  if (!products.length) return [];
  const cards = await userCards(redis, [...new Set(products.map((product) => product.sellerId.toHexString()))]);
  return products.map((product) => {
    const card = cards.get(product.sellerId.toHexString());
    return toPublicProduct(product, currency, card ? (card.shopName ?? card.name) : 'Unknown seller');
  });
}

const publicProduct = async (redis: Redis, product: ProductDoc, currency: string) =>
  (await publicProducts(redis, [product], currency))[0]!;

export async function createProduct(
  redis: Redis,
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
    return await publicProduct(redis, product.toObject() as ProductDoc, currency);
  } catch (error) {
    if (isDuplicateKeyError(error))
      throw new AppError('conflict', `this seller already has a product with sku ${input.sku}`);
    throw error;
  }
}

export async function listProducts(redis: Redis, query: ListProductsQuery, currency: string) {
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
    data: await publicProducts(redis, docs, currency),
    page: query.page,
    limit: query.limit,
    total,
    totalPages: Math.ceil(total / query.limit),
  };
}

/** How long a product stays in the checkout's cache; every change of it drops the entry sooner. */
const PRODUCT_CACHE_SECONDS = 10;
export const productCacheKey = (id: string) => `catalog:product:${id}`;

const productCodec = {
  encode: (product: ProductDoc) => JSON.stringify(product),
  decode: (text: string): ProductDoc => {
    const product = JSON.parse(text) as ProductDoc;
    return {
      ...product,
      _id: new Types.ObjectId(String(product._id)),
      sellerId: new Types.ObjectId(String(product.sellerId)),
    };
  },
};

/**
 * Products for a checkout's decision (prices, sellers, the stock pre-check),
 * read through a Redis cache: a checkout costs no database read for a product
 * bought a moment ago. Misses are read by `_id` one at a time: on FerretDB an
 * `$in` decodes the whole collection (~0.4 s at 10,000 products). The cached
 * stock may be behind by the stock moves of the last moment (each drops the
 * entry, a read racing it may put an older one back, for at most 10 s); that
 * only makes the pre-check let an order through that the worker then marks
 * short, which concurrent checkouts can do anyway. Missing ids are left out.
 */
export async function findProducts(redis: Redis, ids: readonly string[]): Promise<ProductDoc[]> {
  const found = await readThrough(
    redis,
    ids.map(productCacheKey),
    PRODUCT_CACHE_SECONDS,
    (indexes) => Promise.all(indexes.map((i) => Product.findById(ids[i]).lean<ProductDoc>())),
    productCodec,
  );
  return found.filter((product) => product !== null);
}

/**
 * Puts products into the checkout's cache as they are now: the stock reduction
 * writes each product it settled, under the product's lock, so checkouts keep
 * reading products from Redis while they sell (dropping the entry instead sent
 * every concurrent checkout to the database after each batch).
 */
export async function rememberProducts(redis: Redis, products: readonly ProductDoc[]): Promise<void> {
  if (!products.length) return;
  const fill = redis.pipeline();
  for (const product of products) {
    fill.set(productCacheKey(product._id.toHexString()), productCodec.encode(product), 'EX', PRODUCT_CACHE_SECONDS);
  }
  await fill.exec().catch(() => undefined);
}

/** Drops products from the checkout's cache after their stock or fields changed. */
export async function forgetProducts(redis: Redis, ids: readonly string[]): Promise<void> {
  await forget(redis, ids.map(productCacheKey));
}

export async function getProduct(redis: Redis, id: string, currency: string): Promise<PublicProduct> {
  const product = await Product.findById(id).lean<ProductDoc>();
  if (!product) throw new AppError('not_found', `product ${id} does not exist`);
  return publicProduct(redis, product, currency);
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
  await forgetProducts(redis, [id]);
  if (!updated) throw new AppError('not_found', `product ${id} does not exist`);
  return publicProduct(redis, updated, currency);
}
