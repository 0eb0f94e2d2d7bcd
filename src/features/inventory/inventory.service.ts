import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { EventPublisher } from '../../lib/events.js';
import { AppError } from '../../lib/errors.js';
import { lockKeys, withLock } from '../../lib/locks.js';
import { Types } from 'mongoose';
import { duplicateIndexes, insertBuilt, lockedWriteFilter, MAX_WRITE_STATEMENTS } from '../../lib/mongo.js';
import { rooms } from '../../lib/events.js';
import type { Logger } from '../../lib/logger.js';
import { forgetProducts, rememberProducts } from '../catalog/catalog.service.js';
import { Product, type ProductDoc } from '../catalog/product.model.js';
import { recordNotifications } from '../notifications/notifications.service.js';
import { orderAudience } from '../../order-flow/order-announcements.js';
import { cacheAsStored } from '../../order-flow/order-cache-warming.js';
import {
  changeOrder,
  readLandedOrder,
  readLandedViews,
  type OrderWriteContext,
} from '../../order-flow/order-writes.js';
import {
  recordInventoryOutcomes,
  withInventoryOutcome,
  type InventoryOutcomeDoc,
} from '../../order-flow/inventory-outcome.js';
import { cacheOutcomes } from '../../order-flow/order-cache.js';
import type { OrderDoc, OrderItemDoc } from '../../order-flow/order.model.js';
import { orderFromView, toPublicOrder, type PublicOrder } from '../../order-flow/order-view.js';
import { InventoryMove, moveId, type InventoryMoveDoc, type MoveKind } from './inventory-move.model.js';

/**
 * Stock moves exactly once per order, product and kind. Each move gets a record
 * (`inventorymoves`, `_id` `reduce:<orderId>:<productId>`); a move whose record
 * exists has happened. Everything below runs under the product's lock (see
 * lib/locks.ts; FerretDB's updates are not atomic), and first finishes or
 * undoes what a writer that died on the product left (`settledProduct`).
 *
 * A batch of reductions (the worker's batch, one product's share of it):
 *   1. decides from the product's stock which lines it takes, in order;
 *   2. names those moves and a batch id in the product (`intendedMoves`);
 *   3. inserts their records, tagged with the batch id, in one command. A
 *      record that exists already is a move an earlier run made (a retry):
 *      the batch deletes its own records, and decides again without it;
 *   4. changes `stock` and clears `intendedMoves` in one single-document write.
 * A crash after 2 leaves `intendedMoves`; the next writer on the product
 * deletes that batch's records (by `_id` and tag) and clears it, so the stock
 * and the ledger agree, and the order's retry starts over. The duplicate-key
 * answer of step 3 is what tells a retry which moves are done: no look-up of
 * the ledger per line (on FerretDB each is a round trip and ~0.2 ms of its CPU).
 *
 * A restoration, one line at a time (cancels are rare), changes `stock` and
 * sets `pendingMove` in one write, then records the move and clears it; a
 * crash in between is finished by the next writer.
 *
 * The records used to live in the product (`inventoryOps`), which made every
 * read and write of a product cost in proportion to its open orders: FerretDB
 * rewrites the whole document, 3.5 ms with no markers, 20 ms with 1,000, 98 ms
 * with 5,000 (measured), so throughput fell as a product sold.
 */

export interface InventoryContext extends OrderWriteContext {
  events: EventPublisher;
}

export type ReductionOutcome = { applied: true } | { applied: false; available: number };

interface PendingMove {
  id: string;
  kind: MoveKind;
  orderId: Types.ObjectId;
  quantity: number;
}

const moveOf = (kind: MoveKind, orderId: string, item: Pick<OrderItemDoc, 'productId' | 'quantity'>): PendingMove => ({
  id: moveId(kind, orderId, item.productId.toHexString()),
  kind,
  orderId: new Types.ObjectId(orderId),
  quantity: item.quantity,
});

interface IntendedMoves {
  batch: string;
  ids: string[];
}

type ProductState = ProductDoc & {
  pendingMove?: PendingMove | null;
  /** Written by batches before `intendedMoves` replaced it; still finished if found. */
  pendingMoves?: PendingMove[] | null;
  intendedMoves?: IntendedMoves | null;
};

const readProduct = (productId: Types.ObjectId) =>
  Product.findById(productId).select('+pendingMove +pendingMoves +intendedMoves').lean<ProductState>();

/** The product as the checkout's cache holds it (without the write markers). */
function plainProduct(product: ProductState, stock: number): ProductDoc {
  const { pendingMove: _a, pendingMoves: _b, intendedMoves: _c, ...plain } = product;
  return { ...plain, stock, updatedAt: new Date() };
}

const isRecorded = async (id: string) => (await InventoryMove.exists({ _id: id })) !== null;

async function clearPending(productId: Types.ObjectId, move: PendingMove): Promise<void> {
  await Product.updateOne(lockedWriteFilter(productId, { 'pendingMove.id': move.id }), { $unset: { pendingMove: 1 } });
}

/**
 * Records many moves in one insert (tagged with their batch, if any); answers
 * the indexes of those that were recorded already (duplicate `_id`s).
 */
async function recordMoves(
  productId: Types.ObjectId,
  moves: readonly PendingMove[],
  batch?: string,
): Promise<number[]> {
  try {
    const createdAt = new Date();
    await insertBuilt(
      InventoryMove,
      moves.map((move): InventoryMoveDoc => ({
        _id: move.id,
        kind: move.kind,
        orderId: move.orderId,
        productId,
        quantity: move.quantity,
        ...(batch ? { batch } : {}),
        createdAt,
      })),
    );
    return [];
  } catch (error) {
    return duplicateIndexes(error);
  }
}

/** Undoes a batch that named its moves and may have recorded them, but did not change the stock. */
async function undoIntended(productId: Types.ObjectId, intended: IntendedMoves): Promise<void> {
  // Only the records this batch made (tagged with it): a record of the same move by an earlier,
  // finished run stays. Read by `_id`, then deleted by `lockedWriteFilter` (under the product's
  // lock): a delete filtered on the tag as well would scan the whole ledger on FerretDB, per record.
  const records = await Promise.all(
    intended.ids.map((id) => InventoryMove.findById(id, { batch: 1 }).lean<Pick<InventoryMoveDoc, 'batch'>>()),
  );
  const ours = intended.ids.filter((_, i) => records[i]?.batch === intended.batch);
  for (let start = 0; start < ours.length; start += MAX_WRITE_STATEMENTS) {
    await InventoryMove.bulkWrite(
      ours
        .slice(start, start + MAX_WRITE_STATEMENTS)
        .map((id) => ({ deleteOne: { filter: lockedWriteFilter(id, { batch: intended.batch }) } })),
      { ordered: false },
    );
  }
  await Product.updateOne(lockedWriteFilter(productId, { 'intendedMoves.batch': intended.batch }), {
    $unset: { intendedMoves: 1 },
  });
}

/** The product, after finishing or undoing what a writer that died on it left half done. */
async function settledProduct(productId: Types.ObjectId): Promise<ProductState | null> {
  const product = await readProduct(productId);
  if (product?.intendedMoves) await undoIntended(productId, product.intendedMoves);
  if (product?.pendingMoves?.length) {
    await recordMoves(productId, product.pendingMoves);
    await Product.updateOne(lockedWriteFilter(productId, {}), { $unset: { pendingMoves: 1 } });
  }
  if (product?.pendingMove) {
    await recordMoves(productId, [product.pendingMove]);
    await clearPending(productId, product.pendingMove);
  }
  return product && { ...product, pendingMove: null, pendingMoves: null, intendedMoves: null };
}

/** Steps 3 and 4. False when the conditional write matched nothing (MongoDB, after a lost lock). */
async function applyMove(
  productId: Types.ObjectId,
  move: PendingMove,
  delta: number,
  conditions: Record<string, unknown>,
): Promise<boolean> {
  const result = await Product.updateOne(
    lockedWriteFilter(productId, { pendingMove: null, intendedMoves: null, ...conditions }),
    {
      $inc: { stock: delta },
      $set: { pendingMove: move },
    },
  );
  if (result.modifiedCount !== 1) return false;
  await recordMoves(productId, [move]);
  await clearPending(productId, move);
  return true;
}

/** Takes one item's quantity out of stock, once; never below zero: a batch of one line. */
export async function applyReduction(
  redis: Redis,
  orderId: string,
  item: Pick<OrderItemDoc, 'productId' | 'quantity'>,
): Promise<ReductionOutcome> {
  const [outcome] = await withLock(redis, lockKeys.product(item.productId.toHexString()), () =>
    reduceProductLines(redis, item.productId, [{ orderId, item }]),
  );
  return outcome!;
}

/** Puts one item's quantity back, once, and only if its reduction happened. */
export async function applyRestoration(
  redis: Redis,
  orderId: string,
  item: Pick<OrderItemDoc, 'productId' | 'quantity'>,
): Promise<boolean> {
  const productId = item.productId.toHexString();
  return withLock(redis, lockKeys.product(productId), async () => {
    const product = await settledProduct(item.productId);
    if (!product) return false;
    const restore = moveOf('restore', orderId, item);
    if (!(await isRecorded(moveId('reduce', orderId, productId))) || (await isRecorded(restore.id))) return false;
    const moved = await applyMove(item.productId, restore, item.quantity, {});
    if (moved) await forgetProducts(redis, [productId]);
    return moved;
  });
}

/** What both inventory events say: which products moved by how much, for which order. */
function inventoryEvent(order: OrderDoc) {
  return {
    orderId: order._id.toHexString(),
    orderNumber: order.orderNumber,
    inventoryStatus: order.inventoryStatus,
    affectedProducts: order.items.map((item) => ({ productId: item.productId.toHexString(), quantity: item.quantity })),
  };
}

export async function reduceInventoryForOrder(
  ctx: InventoryContext,
  orderId: string,
  log: Logger,
  /** The version that owes the reduction (1: the placement). */
  version?: number,
): Promise<OrderDoc | null> {
  const [outcome] = await reduceInventoryForOrders(ctx, [{ orderId, version }], log);
  if (outcome!.status === 'rejected') throw outcome!.reason;
  return outcome!.value;
}

/** One line of one order, in a product's share of a batch. */
interface BatchLine {
  orderId: string;
  item: Pick<OrderItemDoc, 'productId' | 'quantity'>;
}

/**
 * Reduces the stock for many orders at once (the worker hands it the jobs that
 * arrived together): each product is locked, read and changed once per batch,
 * whatever the number of orders, and its moves are recorded in one insert.
 * Orders are served in the order they came; a line that finds too little stock
 * makes its order `short`. One outcome per order: an order whose products
 * could not be moved (a database error) fails alone and is retried.
 */
export async function reduceInventoryForOrders(
  ctx: InventoryContext,
  requests: ReadonlyArray<{ orderId: string; version?: number }>,
  log: Logger,
): Promise<Array<PromiseSettledResult<OrderDoc | null>>> {
  // From the order cache where it has them: a stale `pending` there only costs a look at the
  // ledger, which knows the moves were made, and the outcome is decided on the stored order.
  const loaded = await readLandedViews(ctx, requests);
  const byProduct = new Map<string, BatchLine[]>();
  const seen = new Set<string>();
  for (const outcome of loaded) {
    const order = outcome.status === 'fulfilled' ? outcome.value : null;
    if (!order || order.inventoryStatus !== 'pending' || seen.has(order.id)) continue;
    seen.add(order.id);
    for (const { productId, quantity } of order.items) {
      const item = { productId: new Types.ObjectId(productId), quantity };
      byProduct.set(productId, [...(byProduct.get(productId) ?? []), { orderId: order.id, item }]);
    }
  }

  // Per order: the lines that found no stock, and whether any product of it failed.
  const short = new Map<string, OrderDoc['shortItems']>();
  const failed = new Map<string, unknown>();
  await Promise.all(
    [...byProduct].map(async ([productId, lines]) => {
      try {
        const outcomes = await withLock(ctx.redis, lockKeys.product(productId), () =>
          reduceProductLines(ctx.redis, new Types.ObjectId(productId), lines),
        );
        outcomes.forEach((outcome, i) => {
          const { orderId, item } = lines[i]!;
          if (outcome.applied) return;
          short.set(orderId, [
            ...(short.get(orderId) ?? []),
            { productId: item.productId, requested: item.quantity, available: outcome.available },
          ]);
        });
      } catch (error) {
        for (const { orderId } of lines) failed.set(orderId, error);
        // Its stock may have changed: the checkout reads it from the database until the retry.
        await forgetProducts(ctx.redis, [productId]);
      }
    }),
  );

  // Per order: its short lines (in the order's own order, whatever order the products were
  // settled in), or why it cannot be finished now.
  const decided = requests.map(({ orderId }, i): PromiseSettledResult<OrderDoc['shortItems'] | null> => {
    const outcome = loaded[i]!;
    if (outcome.status === 'rejected') return outcome;
    if (!outcome.value) {
      log.warn({ orderId }, 'reduce-inventory: order does not exist; nothing to do');
      return { status: 'fulfilled', value: null };
    }
    if (failed.has(orderId)) return { status: 'rejected', reason: failed.get(orderId) };
    const position = new Map(outcome.value.items.map((item, index) => [item.productId, index]));
    const shortItems = (short.get(orderId) ?? []).sort(
      (a, b) => position.get(a.productId.toHexString())! - position.get(b.productId.toHexString())!,
    );
    return { status: 'fulfilled', value: shortItems };
  });
  const toFinish = requests.flatMap(({ orderId }, i) => {
    const outcome = decided[i]!;
    return outcome.status === 'fulfilled' && outcome.value ? [{ orderId, short: outcome.value }] : [];
  });
  const views = new Map(
    loaded.flatMap((outcome) =>
      outcome.status === 'fulfilled' && outcome.value ? [[outcome.value.id, outcome.value]] : [],
    ),
  );
  const finished = new Map(
    (await finishReductions(ctx, toFinish, views)).map((outcome, i) => [toFinish[i]!.orderId, outcome] as const),
  );
  return requests.map(({ orderId }, i) => {
    const outcome = decided[i]!;
    if (outcome.status === 'rejected' || outcome.value === null) return outcome as PromiseSettledResult<null>;
    return finished.get(orderId)!;
  });
}

/**
 * One product's lines of a batch, under its lock (steps 1–4 at the top of this
 * file): the lines take stock in order while it lasts; a line whose move an
 * earlier run recorded counts as done. Then the checkout's cache gets the
 * product as it now is.
 */
async function reduceProductLines(
  redis: Redis,
  productId: Types.ObjectId,
  lines: readonly BatchLine[],
): Promise<ReductionOutcome[]> {
  const product = await settledProduct(productId);
  if (!product) return lines.map(() => ({ applied: false, available: 0 }));
  const moves = lines.map(({ orderId, item }) => moveOf('reduce', orderId, item));
  const recorded = new Set<number>();
  const looked = new Set<number>();
  for (;;) {
    let stock = product.stock;
    const apply: number[] = [];
    const outcomes = lines.map(({ item }, i): ReductionOutcome => {
      if (recorded.has(i)) return { applied: true };
      if (stock < item.quantity) return { applied: false, available: stock };
      stock -= item.quantity;
      apply.push(i);
      return { applied: true };
    });
    // A line that finds too little stock may be one an earlier run took (the stock it took is
    // gone): only the ledger can tell, looked up for these lines alone, when stock runs out.
    const short = outcomes.flatMap((outcome, i) => (!outcome.applied && !looked.has(i) ? [i] : []));
    if (short.length) {
      const found = await Promise.all(short.map((i) => isRecorded(moves[i]!.id)));
      short.forEach((i, j) => {
        looked.add(i);
        if (found[j]) recorded.add(i);
      });
      if (found.some(Boolean)) continue;
    }
    if (apply.length) {
      const intended = { batch: randomUUID(), ids: apply.map((i) => moves[i]!.id) };
      const named = await Product.updateOne(
        lockedWriteFilter(productId, { pendingMove: null, pendingMoves: null, intendedMoves: null }),
        { $set: { intendedMoves: intended } },
      );
      if (named.modifiedCount !== 1) throw lostLock(productId);
      const refused = await recordMoves(
        productId,
        apply.map((i) => moves[i]!),
        intended.batch,
      );
      if (refused.length) {
        // Moves an earlier run made: this batch takes its records back and decides again.
        await undoIntended(productId, intended);
        for (const j of refused) recorded.add(apply[j]!);
        continue;
      }
      const taken = product.stock - stock;
      const result = await Product.updateOne(
        lockedWriteFilter(productId, { 'intendedMoves.batch': intended.batch, stock: { $gte: taken } }),
        { $inc: { stock: -taken }, $unset: { intendedMoves: 1 } },
      );
      if (result.modifiedCount !== 1) throw lostLock(productId);
    }
    await rememberProducts(redis, [plainProduct(product, stock)]);
    return outcomes;
  }
}

/**
 * Only on MongoDB after a lost lock (FerretDB's writes are not conditional):
 * someone else wrote the product meanwhile. The retry decides again; a batch
 * left named in the product is undone by the next writer.
 */
const lostLock = (productId: Types.ObjectId) =>
  new AppError('conflict', `product ${productId.toHexString()} changed while its stock was being reduced`, {
    retryable: true,
  });

/**
 * Records the orders' outcomes (reduced or short), each once, in one insert of
 * small records (order-flow/inventory-outcome.ts), caches them, and tells
 * everyone concerned. One outcome per order.
 */
async function finishReductions(
  ctx: InventoryContext,
  entries: ReadonlyArray<{ orderId: string; short: OrderDoc['shortItems'] }>,
  /** The orders as the batch read them (the cache, else MongoDB with their outcomes). */
  views: ReadonlyMap<string, PublicOrder>,
): Promise<Array<PromiseSettledResult<OrderDoc>>> {
  if (!entries.length) return [];
  const orders = entries.map(({ orderId }) => orderFromView(views.get(orderId)!));
  // An order that shows its outcome already (a retry, or read from MongoDB) is only cached and announced again.
  const recorded = await recordInventoryOutcomes(
    entries
      .filter((_, i) => orders[i]!.inventoryStatus === 'pending')
      .map(({ orderId, short }) => ({ orderId, shortItems: short })),
  );
  await giveBackUnrecordedTakes(ctx, entries, orders, recorded);
  const finished = orders.map((order) => withInventoryOutcome(order, recorded.get(order._id.toHexString())));
  // Owes no cache warm: caching the outcome is part of this job's effect. An order whose cache
  // does not hold the version the outcome was decided on (a change was written meanwhile, or Redis
  // lost it) is cached as stored; a write-through that failed fails the job, whose retry caches it.
  const cached = await cacheOutcomes(ctx.redis, finished.map(toPublicOrder));
  const outcomes = await Promise.allSettled(
    finished.map(async (order, i) => {
      if (cached[i] || (await cacheAsStored(ctx.redis, entries[i]!.orderId))) return order;
      throw new AppError('unavailable', `order ${entries[i]!.orderId}: inventory recorded, caches not written yet`, {
        retryable: true,
      });
    }),
  );
  const done = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const shortOrders = done.filter((order) => order.inventoryStatus === 'short');
  // Sent on every run with the same eventIds: at least once for clients, who drop repeats.
  await recordNotifications(
    shortOrders.map((order) => ({
      recipientId: order.seller.id.toHexString(),
      type: 'inventory_short',
      orderId: order._id.toHexString(),
      dedupeKey: `inventory_short:${order._id.toHexString()}`,
      payload: { orderId: order._id.toHexString(), orderNumber: order.orderNumber, shortItems: publicShort(order) },
    })),
  );
  for (const order of done) {
    const orderId = order._id.toHexString();
    ctx.events.publish(orderAudience(order), 'order:inventory-reduced', `inventory-reduced_${orderId}`, {
      ...inventoryEvent(order),
      shortItems: publicShort(order),
    });
    if (order.inventoryStatus === 'short') {
      const sellerId = order.seller.id.toHexString();
      ctx.events.publish([rooms.seller(sellerId), rooms.admin], 'order:inventory-short', `inventory-short_${orderId}`, {
        orderId,
        orderNumber: order.orderNumber,
        shortItems: publicShort(order),
      });
    }
  }
  return outcomes;
}

/**
 * An outcome an earlier run recorded stands. A retry that decided on a view
 * still saying `pending` (that run died before caching its outcome, or could
 * not) may have taken stock for a line the recorded outcome says was short,
 * the product having been restocked since: that stock goes back, once (a
 * restore move, which a later cancel then finds made).
 */
async function giveBackUnrecordedTakes(
  ctx: InventoryContext,
  entries: ReadonlyArray<{ orderId: string; short: OrderDoc['shortItems'] }>,
  orders: readonly OrderDoc[],
  recorded: ReadonlyMap<string, InventoryOutcomeDoc>,
): Promise<void> {
  await Promise.all(
    entries.map(async ({ orderId, short }, i) => {
      const outcome = recorded.get(orderId);
      if (outcome?.status !== 'short') return;
      const shortNow = new Set(short.map((line) => String(line.productId)));
      for (const line of outcome.shortItems) {
        if (shortNow.has(String(line.productId))) continue;
        const item = orders[i]!.items.find((it) => String(it.productId) === String(line.productId));
        if (item) await applyRestoration(ctx.redis, orderId, item);
      }
    }),
  );
}

const publicShort = (order: OrderDoc) =>
  order.shortItems.map((s) => ({ productId: String(s.productId), requested: s.requested, available: s.available }));

export class InventoryNotReducedYet extends Error {
  constructor(orderId: string) {
    super(`order ${orderId} has not had its inventory reduced yet; restoring later`);
    this.name = 'InventoryNotReducedYet';
  }
}

export async function restoreInventoryForOrder(
  ctx: InventoryContext,
  orderId: string,
  log: Logger,
  /** The version of the cancel that owes the restore. */
  version?: number,
): Promise<OrderDoc | null> {
  const order = await readLandedOrder(ctx, orderId, version);
  if (!order || order.status !== 'cancelled') {
    log.warn({ orderId, status: order?.status }, 'restore-inventory: order is not cancelled; nothing to do');
    return order;
  }
  // Restoring before the reduction finished would miss products it is about to take; retry later.
  if (order.inventoryStatus === 'pending') throw new InventoryNotReducedYet(orderId);
  if (order.inventoryStatus !== 'restored') {
    for (const item of order.items) await applyRestoration(ctx.redis, orderId, item);
  }
  const { order: updated } = await changeOrder(ctx, orderId, (current) =>
    current.inventoryStatus === 'restored' ? null : { set: { inventoryStatus: 'restored' }, jobs: ['warm-order'] },
  );
  ctx.events.publish(
    orderAudience(updated),
    'order:inventory-restored',
    `inventory-restored_${orderId}`,
    inventoryEvent(updated),
  );
  return updated;
}
