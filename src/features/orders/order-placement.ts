import { createHash, randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import type { Redis } from 'ioredis';
import { AppError } from '../../lib/errors.js';
import { withLock } from '../../lib/locks.js';
import { ordersCreated } from '../../lib/metrics.js';
import { insertBuilt, isDuplicateKeyError, lockedWriteFilter, objectIdFrom } from '../../lib/mongo.js';
import type { Principal } from '../../lib/tokens.js';
import type { ProductDoc } from '../catalog/product.model.js';
import { findProducts } from '../catalog/catalog.service.js';
import { userCards } from '../users/users.service.js';
import { IdempotencyRecord, idempotencyRecordId, type IdempotencyDoc } from './idempotency.model.js';
import { orderJobId } from '../../order-flow/order-jobs.js';
import { newOrderNumber } from './order-numbers.js';
import { toPublicOrder, type PublicOrder } from '../../order-flow/order-view.js';
import { writeNewOrders, type OrderWriteContext } from '../../order-flow/order-writes.js';
import type { OwedEntry } from '../../order-flow/owed-work.js';
import { groupCommit } from '../../lib/group-commit.js';
import { Order, type OrderDoc } from '../../order-flow/order.model.js';
import { readOrder } from '../../order-flow/inventory-outcome.js';
import type { PlaceOrderInput } from './orders.schemas.js';

export interface PlacementSettings {
  currency: string;
  leadTimeDays: number;
}

export interface CheckoutResult {
  status: number;
  body: { checkoutId: string; orders: PublicOrder[] };
}

/**
 * How long a request holds its idempotency key without renewing it; it renews
 * every third of that while it runs, so a slow checkout keeps its key and the
 * retry of one whose API died (kill -9) takes over within this long.
 */
const KEY_LEASE_MS = 5_000;

/**
 * Places a checkout: one order per seller, prices from the catalog, every
 * order owing its jobs (inventory, cache, seller notification) as owed work
 * recorded before it is written. With an Idempotency-Key the same body gets the same answer,
 * however often and however concurrently it is sent.
 */
export async function placeOrder(
  ctx: OrderWriteContext,
  settings: PlacementSettings,
  caller: Principal,
  input: PlaceOrderInput,
  idempotencyKey?: string,
): Promise<CheckoutResult> {
  if (!idempotencyKey) {
    const plan = await planCheckout(ctx.redis, caller, input, settings);
    return commitCheckout(ctx, plan, false);
  }

  const requestHash = createHash('sha256').update(JSON.stringify(input)).digest('hex');
  const claim = await claimKey(ctx.redis, caller.id, idempotencyKey, requestHash);
  if (claim.kind === 'replay') return claim.response;

  const lease = holdKey(claim.recordId);
  try {
    // A retry that took over a crashed request finishes the checkout that request planned.
    const plan = claim.plan ?? (await planCheckout(ctx.redis, caller, input, settings, idempotencyKey));
    if (!claim.plan) await lease.write({ $set: { plan } });
    const result = await commitCheckout(ctx, plan, Boolean(claim.plan));
    lease.stopRenewing();
    await lease.write({ $set: { status: 'done', response: result }, $unset: { plan: 1 } });
    return result;
  } catch (error) {
    // Refused before anything was written (bad product, no stock): the key is free for a corrected retry.
    if (error instanceof AppError && !claim.plan) {
      await IdempotencyRecord.deleteOne(lockedWriteFilter(claim.recordId, { status: 'processing' }));
    }
    throw error;
  } finally {
    lease.stopRenewing();
  }
}

/**
 * Keeps a claimed key leased while the request runs. Every write to the record
 * goes through one chain: FerretDB applies an update by rewriting the whole
 * document, so a renewal overlapping the write of the plan or the response
 * could put the old document back. By `_id` alone, which FerretDB pushes down.
 */
function holdKey(recordId: Types.ObjectId) {
  let chain: Promise<unknown> = Promise.resolve();
  const write = (update: Record<string, unknown>) => {
    const next = chain.catch(() => {}).then(() => IdempotencyRecord.updateOne({ _id: recordId }, update));
    chain = next;
    return next;
  };
  const renewal = setInterval(() => {
    write({ $set: { lockedUntil: new Date(Date.now() + KEY_LEASE_MS) } }).catch(() => {
      // Database unreachable: the checkout's own writes fail as well.
    });
  }, KEY_LEASE_MS / 3);
  return { write, stopRenewing: () => clearInterval(renewal) };
}

type Claim =
  { kind: 'replay'; response: CheckoutResult } | { kind: 'owner'; recordId: Types.ObjectId; plan?: OrderDoc[] };

const stillRunning = () =>
  new AppError('conflict', 'a request with this Idempotency-Key is still being processed; retry shortly', {
    headers: { 'Retry-After': '1' },
  });

async function claimKey(redis: Redis, customerId: string, key: string, requestHash: string): Promise<Claim> {
  const lockedUntil = new Date(Date.now() + KEY_LEASE_MS);
  try {
    const record = await IdempotencyRecord.create({
      _id: idempotencyRecordId(customerId, key),
      customerId,
      key,
      requestHash,
      status: 'processing',
      lockedUntil,
    });
    return { kind: 'owner', recordId: record._id };
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  const existing =
    (await IdempotencyRecord.findById(idempotencyRecordId(customerId, key)).lean<IdempotencyDoc>()) ??
    (await IdempotencyRecord.findOne({ customerId, key }).lean<IdempotencyDoc>());
  if (!existing) throw stillRunning();
  if (existing.requestHash !== requestHash) {
    throw new AppError('unprocessable', 'this Idempotency-Key was already used with a different request body');
  }
  if (existing.status === 'done' && existing.response) {
    return { kind: 'replay', response: existing.response as CheckoutResult };
  }
  if (existing.lockedUntil > new Date()) throw stillRunning();
  // The first request died holding the key: take it over. Under a lock, because FerretDB's
  // conditional update is not atomic, and two retries that both took over would each plan
  // (and place) a checkout of their own.
  return withLock(
    redis,
    `lock:idempotency:${existing._id.toHexString()}`,
    async (): Promise<Claim> => {
      const current = await IdempotencyRecord.findById(existing._id).lean<IdempotencyDoc>();
      if (!current) throw stillRunning();
      if (current.status === 'done' && current.response) {
        return { kind: 'replay', response: current.response as CheckoutResult };
      }
      if (current.lockedUntil > new Date()) throw stillRunning();
      await IdempotencyRecord.updateOne({ _id: current._id }, { $set: { lockedUntil } });
      return {
        kind: 'owner',
        recordId: current._id,
        ...(current.plan ? { plan: current.plan as unknown as OrderDoc[] } : {}),
      };
    },
    { waitMs: 1_000 },
  );
}

/** Ids derived from a customer's idempotency key: the checkout's, and its order for each seller. */
function keyedIds(customerId: string, key: string) {
  const hex = createHash('sha256').update(`${customerId}|${key}|checkout`).digest('hex');
  return {
    // Shaped as a version 4 UUID, like the unkeyed ones.
    checkoutId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`,
    orderId: (sellerId: string) => objectIdFrom(`${customerId}|${key}|order|${sellerId}`),
  };
}

/** Builds the order documents (ids, numbers, prices) without writing them. */
async function planCheckout(
  redis: Redis,
  caller: Principal,
  input: PlaceOrderInput,
  settings: PlacementSettings,
  idempotencyKey?: string,
): Promise<OrderDoc[]> {
  // The same product twice in one request is one line with the summed quantity.
  const quantities = new Map<string, number>();
  for (const item of input.items) quantities.set(item.productId, (quantities.get(item.productId) ?? 0) + item.quantity);

  // Catalog and accounts through their services' Redis caches: a checkout of products
  // bought a moment ago, by a customer seen a moment ago, reads nothing from the database.
  const products = await findProducts(redis, [...quantities.keys()]);
  const sellerIds = [...new Set(products.map((p) => p.sellerId.toHexString()))];
  const cards = await userCards(redis, [caller.id, ...sellerIds]);
  const customer = cards.get(caller.id);
  if (!customer) throw new AppError('unauthorized', 'the account behind this token no longer exists');

  const byId = new Map(products.map((p) => [p._id.toHexString(), p]));
  const unknown = input.items.flatMap((item, index) =>
    byId.has(item.productId) ? [] : [{ path: `items.${index}.productId`, message: `no product ${item.productId}` }],
  );
  if (unknown.length)
    throw new AppError('validation', 'the order names products that do not exist', { errors: unknown });

  for (const [productId, quantity] of quantities) {
    const product = byId.get(productId)!;
    if (quantity > product.stock) {
      throw new AppError(
        'conflict',
        `not enough stock for ${product.name} (${product.sku}): ${product.stock} left, ${quantity} ordered`,
        {
          extra: { productId, available: product.stock, requested: quantity },
        },
      );
    }
  }

  assertExactAmounts(quantities, byId, input);

  // Lines (and sellers) keep the order the customer listed them in, not the database's.
  const bySeller = new Map<string, ProductDoc[]>();
  for (const productId of quantities.keys()) {
    const product = byId.get(productId)!;
    const sellerId = product.sellerId.toHexString();
    bySeller.set(sellerId, [...(bySeller.get(sellerId) ?? []), product]);
  }
  const sellerName = (id: string) => {
    const seller = cards.get(id);
    return seller ? (seller.shopName ?? seller.name) : undefined;
  };

  const now = new Date();
  // With a key, the ids follow from it: a retry that takes over a request still running (its
  // lease lapsed while the database was slow, not dead) plans the very same orders, and the
  // second insert of an id is refused, so one key can never place two checkouts.
  const keyed = idempotencyKey ? keyedIds(caller.id, idempotencyKey) : undefined;
  const checkoutId = keyed?.checkoutId ?? randomUUID();
  const estimatedDelivery = new Date(now.getTime() + settings.leadTimeDays * 24 * 3600 * 1000);

  return [...bySeller.entries()].map(([sellerId, sellerProducts]): OrderDoc => {
    const _id = keyed?.orderId(sellerId) ?? new Types.ObjectId();
    const items = sellerProducts.map((product) => {
      const quantity = quantities.get(product._id.toHexString())!;
      return {
        _id: new Types.ObjectId(),
        productId: product._id,
        name: product.name,
        sku: product.sku,
        price: product.price,
        quantity,
        subtotal: product.price * quantity,
        deliveredQuantity: 0,
        remainingQuantity: quantity,
      };
    });
    return {
      _id,
      orderNumber: newOrderNumber(now),
      checkoutId,
      customer: {
        id: new Types.ObjectId(customer.id),
        name: customer.name,
        email: customer.email,
        ...((input.phone ?? customer.phone) ? { phone: input.phone ?? customer.phone! } : {}),
        deliveryAddress: input.deliveryAddress,
      },
      seller: { id: new Types.ObjectId(sellerId), name: sellerName(sellerId) ?? 'Unknown seller' },
      items,
      totalAmount: items.reduce((sum, item) => sum + item.subtotal, 0),
      currency: settings.currency,
      status: 'pending',
      paymentMethod: input.paymentMethod,
      paymentStatus: 'unpaid',
      paidAmount: 0,
      progress: 0,
      inventoryStatus: 'pending',
      shortItems: [],
      estimatedDelivery,
      ...(input.notes ? { notes: input.notes } : {}),
      ...(idempotencyKey ? { idempotencyKey } : {}),
      deliveries: [],
      payments: [],
      deliveredUnits: 0,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
  });
}

/**
 * Every amount is an exact integer of minor units: a line's subtotal and each
 * seller's order total must stay within `Number.MAX_SAFE_INTEGER` (2^53 - 1),
 * beyond which a JavaScript number (and a JSON reader's double) is inexact.
 */
function assertExactAmounts(
  quantities: ReadonlyMap<string, number>,
  products: ReadonlyMap<string, ProductDoc>,
  input: PlaceOrderInput,
): void {
  const limit = Number.MAX_SAFE_INTEGER;
  const pathOf = (productId: string) =>
    `items.${input.items.findIndex((item) => item.productId === productId)}.quantity`;
  const totals = new Map<string, number>();
  const errors: Array<{ path: string; message: string }> = [];
  for (const [productId, quantity] of quantities) {
    const product = products.get(productId)!;
    const subtotal = product.price * quantity;
    const seller = product.sellerId.toHexString();
    const total = (totals.get(seller) ?? 0) + subtotal;
    totals.set(seller, total);
    if (subtotal > limit) {
      errors.push({
        path: pathOf(productId),
        message: `${quantity} × ${product.price} exceeds the largest exact amount (${limit})`,
      });
    } else if (total > limit) {
      errors.push({
        path: pathOf(productId),
        message: `the order's total would exceed the largest exact amount (${limit})`,
      });
    }
  }
  if (errors.length) {
    throw new AppError('validation', 'the order is too large: its amounts must stay exact integers', { errors });
  }
}

/**
 * What a new order owes: its stock taken and its seller told. Not a cache warm:
 * no older version of a new order can be cached, and the reduction, which every
 * order gets, caches and files the order as its job's own effect
 * (inventory.service.ts), so a placement whose write-through failed is listed
 * once Redis is back, without a job and two database writes of its own.
 */
const placementJobs =
  (requestId: string | undefined) =>
  (order: OrderDoc): OwedEntry[] =>
    [orderJobId('reduce-inventory', order._id.toHexString()), orderJobId('notify-seller', order._id.toHexString())].map(
      (jobId) => ({ jobId, version: 1, requestId }),
    );

/**
 * Records what the planned orders owe, writes them, and sends their jobs.
 * After a crash the retry writes only the orders that are not stored yet; the
 * stored ones owed their jobs before they were written, and the reconciler
 * sends whatever the crashed request did not.
 */
async function commitCheckout(ctx: OrderWriteContext, plan: OrderDoc[], resumed: boolean): Promise<CheckoutResult> {
  // By `_id` one at a time: FerretDB pushes nothing else down (an `$in` reads the whole collection).
  const stored = resumed ? (await Promise.all(plan.map((o) => readOrder(o._id)))).filter((o) => o !== null) : [];
  const storedIds = new Set(stored.map((o) => o._id.toHexString()));
  const fresh = plan.filter((o) => !storedIds.has(o._id.toHexString()));

  const batch = { orders: fresh, taken: new Set<string>() as ReadonlySet<string>, requestId: ctx.requestId };
  if (resumed) batch.taken = await writeNewOrders(ctx, fresh, placementJobs(ctx.requestId), insertOrders);
  else await committerFor(ctx)(batch);
  // Written meanwhile by another request with the same key (same ids, other numbers): theirs stand.
  const taken = fresh.filter((o) => batch.taken.has(o._id.toHexString()));
  ordersCreated.inc(fresh.length - taken.length);
  if (taken.length) {
    const found = await Promise.all(taken.map((o) => readOrder(o._id)));
    stored.push(...found.filter((o) => o !== null));
  }
  // Orders the crashed request already wrote may have moved on since; answer with what is stored.
  const byId = new Map(stored.map((o) => [o._id.toHexString(), o]));
  const orders = plan.map((o) => byId.get(o._id.toHexString()) ?? o);
  return { status: 201, body: { checkoutId: plan[0]!.checkoutId, orders: orders.map(toPublicOrder) } };
}

/** Orders per write: FerretDB 1.24 hangs on a write command of 100 statements or more. */
const MAX_ORDERS_PER_WRITE = 64;

/** One checkout's orders in a group commit; `taken` comes back with the ids someone else had stored. */
interface CheckoutBatch {
  orders: OrderDoc[];
  taken: ReadonlySet<string>;
  requestId?: string | undefined;
}

/**
 * One committer per process, keyed by its queues: each request brings a
 * context of its own (its logger, its request id), and a committer per context
 * would write every checkout alone.
 */
const committers = new WeakMap<object, (checkout: CheckoutBatch) => Promise<void>>();

/**
 * The checkouts of concurrent requests are written together (group commit):
 * their owed work in one insert, their orders in one `insertMany`, their jobs
 * in one `addBulk` per queue, each job carrying its own request's id. A lone
 * request is written at once.
 */
function committerFor(ctx: OrderWriteContext) {
  let commit = committers.get(ctx.queues);
  if (!commit) {
    const shared = { queues: ctx.queues, redis: ctx.redis, log: ctx.log };
    commit = groupCommit<CheckoutBatch>(async (checkouts) => {
      const requestOf = new Map(
        checkouts.flatMap((checkout) => checkout.orders.map((order) => [order._id.toHexString(), checkout.requestId])),
      );
      const taken = await writeNewOrders(
        shared,
        checkouts.flatMap((checkout) => checkout.orders),
        (order) => placementJobs(requestOf.get(order._id.toHexString()))(order),
        insertOrders,
      );
      for (const checkout of checkouts) checkout.taken = taken;
    }, MAX_ORDERS_PER_WRITE);
    committers.set(ctx.queues, commit);
  }
  return commit;
}

/**
 * Inserts the planned orders; an order whose id is already stored (a resumed
 * request) is skipped, and one whose random order number collided gets a new
 * number and is inserted again.
 */
async function insertOrders(plan: readonly OrderDoc[]): Promise<ReadonlySet<string>> {
  const before = new Set<string>();
  let pending = plan;
  for (let attempt = 0; attempt < 5 && pending.length; attempt++) {
    try {
      await insertBuilt(Order, pending);
      return before;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    // Which ids are stored now: ours of this attempt (inserted beside a collision), or someone else's.
    const found = await Promise.all(
      pending.map((o) => Order.findById(o._id, { orderNumber: 1 }).lean<Pick<OrderDoc, '_id' | 'orderNumber'>>()),
    );
    const stored = new Map(found.flatMap((o) => (o ? [[o._id.toHexString(), o.orderNumber] as const] : [])));
    for (const order of pending) {
      const number = stored.get(order._id.toHexString());
      // A stored order with another number than ours was written by someone else.
      if (number !== undefined && number !== order.orderNumber) before.add(order._id.toHexString());
    }
    pending = pending.filter((o) => !stored.has(o._id.toHexString()));
    if (pending.length === 0) return before;
    for (const order of pending) order.orderNumber = newOrderNumber();
  }
  if (!pending.length) return before;
  throw new AppError('conflict', 'could not assign order numbers; try again');
}
