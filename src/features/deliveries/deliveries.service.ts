import { Schema, Types, model } from 'mongoose';
import { AppError } from '../../lib/errors.js';
import type { Principal } from '../../lib/tokens.js';
import { canManageOrder, canSeeOrder } from '../../order-flow/order-access.js';
import { invoiceJobId } from '../../order-flow/order-jobs.js';
import { toPublicDelivery, toPublicOrder, type PublicDelivery } from '../../order-flow/order-view.js';
import { changeOrder, type OrderChange, type OrderWriteContext } from '../../order-flow/order-writes.js';
import { Order, type DeliveryDoc, type OrderDoc } from '../../order-flow/order.model.js';
import { canMoveDelivery, recompute, type DeliveryStatus } from '../../order-flow/delivery-math.js';

/**
 * Where each delivery lives (`deliveryId → orderId`), for the routes that name
 * only the delivery. Written before the delivery itself: a reference to a
 * delivery that never made it into its order is harmless (it reads as 404).
 */
const DeliveryRef = model(
  'DeliveryRef',
  new Schema(
    { _id: { type: Schema.Types.ObjectId, required: true }, orderId: { type: Schema.Types.ObjectId, required: true } },
    { versionKey: false },
  ),
);

/** Orders that can take a new delivery: accepted, not finished, not cancelled. */
const DELIVERABLE = new Set(['confirmed', 'in_progress', 'partial_delivered', 'shipped']);

function assertCanManage(caller: Principal, order: OrderDoc) {
  if (!canManageOrder(caller, order))
    throw new AppError('not_found', `order ${order._id.toHexString()} does not exist`);
}

/** The fields a delivery change sets on its order: deliveries, items, units, progress, status. */
function withDeliveries(order: OrderDoc, deliveries: DeliveryDoc[]): OrderChange {
  const book = recompute(
    order.items.map((item) => ({ productId: item.productId.toHexString(), quantity: item.quantity })),
    deliveries.map((d) => ({
      status: d.status,
      items: d.items.map((l) => ({ productId: l.productId.toHexString(), quantity: l.quantity })),
    })),
    order.paymentStatus === 'paid',
  );
  const items = order.items.map((item) => {
    const counts = book.items.get(item.productId.toHexString())!;
    return { ...item, deliveredQuantity: counts.delivered, remainingQuantity: counts.remaining };
  });
  return {
    set: { deliveries, items, deliveredUnits: book.deliveredUnits, progress: book.progress, status: book.status },
    jobs: ['announce-status', 'warm-order'],
  };
}

const recomputedStatus = (order: OrderDoc, deliveries: DeliveryDoc[]) => withDeliveries(order, deliveries).set!.status;

export interface NewDelivery {
  items: Array<{ productId: string; quantity: number }>;
  scheduledDate?: string | undefined;
  notes?: string | undefined;
}

/**
 * Creates a delivery for part of an order, under the order's lock and with the
 * version claim of every order write: however many requests race for the last
 * units, and even if the lock expires under one of them, the quantities held
 * never exceed what was ordered.
 */
export async function createDelivery(
  ctx: OrderWriteContext,
  caller: Principal,
  orderId: string,
  input: NewDelivery | 'everything-remaining',
  status: 'pending' | 'dispatched' = 'pending',
) {
  const deliveryId = new Types.ObjectId();
  await DeliveryRef.create({ _id: deliveryId, orderId });
  const { order } = await changeOrder(ctx, orderId, (current) => {
    assertCanManage(caller, current);
    if (!DELIVERABLE.has(current.status)) {
      throw new AppError('conflict', `cannot create a delivery: the order is ${current.status}`, {
        extra: { currentStatus: current.status },
      });
    }
    const requested = new Map<string, number>();
    if (input === 'everything-remaining') {
      for (const item of current.items)
        if (item.remainingQuantity > 0) requested.set(item.productId.toHexString(), item.remainingQuantity);
      if (!requested.size)
        throw new AppError('conflict', 'nothing remains to be delivered', { extra: { currentStatus: current.status } });
    } else {
      input.items.forEach((line, index) => {
        if (!current.items.some((item) => item.productId.toHexString() === line.productId)) {
          throw new AppError('validation', 'the delivery names a product the order does not have', {
            errors: [{ path: `items.${index}.productId`, message: `not in order ${orderId}` }],
          });
        }
        requested.set(line.productId, (requested.get(line.productId) ?? 0) + line.quantity);
      });
    }
    for (const item of current.items) {
      const quantity = requested.get(item.productId.toHexString()) ?? 0;
      if (quantity > item.remainingQuantity) {
        throw new AppError(
          'conflict',
          `cannot deliver ${quantity} of ${item.name}: only ${item.remainingQuantity} remain`,
          {
            extra: { productId: item.productId.toHexString(), remaining: item.remainingQuantity, requested: quantity },
          },
        );
      }
    }
    const now = new Date();
    const price = new Map(current.items.map((item) => [item.productId.toHexString(), item.price]));
    const lines = [...requested].map(([productId, quantity]) => ({
      productId: new Types.ObjectId(productId),
      quantity,
    }));
    const delivery: DeliveryDoc = {
      _id: deliveryId,
      deliveryNumber: `${current.orderNumber}-D${current.deliveries.length + 1}`,
      items: lines,
      status,
      value: lines.reduce((sum, line) => sum + line.quantity * price.get(line.productId.toHexString())!, 0),
      ...(input !== 'everything-remaining' && input.scheduledDate
        ? { scheduledDate: new Date(input.scheduledDate) }
        : {}),
      ...(input !== 'everything-remaining' && input.notes ? { notes: input.notes } : {}),
      createdAt: now,
      updatedAt: now,
    };
    return {
      ...withDeliveries(current, [...current.deliveries, delivery]),
      announce: {
        event: 'delivery:created',
        deliveryId: deliveryId.toHexString(),
        statusChanged: recomputedStatus(current, [...current.deliveries, delivery]) !== current.status,
      },
    };
  });
  const delivery = order.deliveries.find((d) => d._id.equals(deliveryId))!;
  return { delivery: toPublicDelivery(order, delivery), order: toPublicOrder(order) };
}

/** The order a delivery belongs to, with the delivery; 404 when either is missing. */
export async function findDeliveryOrder(deliveryId: string): Promise<{ order: OrderDoc; delivery: DeliveryDoc }> {
  const ref = await DeliveryRef.findById(deliveryId).lean<{ orderId: Types.ObjectId }>();
  const order = ref ? await Order.findById(ref.orderId).lean<OrderDoc>() : null;
  const delivery = order?.deliveries.find((d) => d._id.toHexString() === deliveryId);
  if (!order || !delivery) throw new AppError('not_found', `delivery ${deliveryId} does not exist`);
  return { order, delivery };
}

export async function listDeliveries(caller: Principal, orderId: string): Promise<PublicDelivery[]> {
  const order = await Order.findById(orderId, { deliveries: 1, seller: 1, customer: 1 }).lean<OrderDoc>();
  if (!order) throw new AppError('not_found', `order ${orderId} does not exist`);
  if (!canSeeOrder(caller, order)) throw new AppError('not_found', `order ${orderId} does not exist`);
  return order.deliveries.map((d) => toPublicDelivery(order, d));
}

/** Moves a delivery along; failed and cancelled ones give their quantities back to remaining. */
export async function setDeliveryStatus(
  ctx: OrderWriteContext,
  caller: Principal,
  deliveryId: string,
  status: DeliveryStatus,
) {
  const ref = await DeliveryRef.findById(deliveryId).lean<{ orderId: Types.ObjectId }>();
  if (!ref) throw new AppError('not_found', `delivery ${deliveryId} does not exist`);
  const { order } = await changeOrder(ctx, ref.orderId.toHexString(), (current) => {
    assertCanManage(caller, current);
    const delivery = current.deliveries.find((d) => d._id.toHexString() === deliveryId);
    if (!delivery) throw new AppError('not_found', `delivery ${deliveryId} does not exist`);
    if (!canMoveDelivery(delivery.status, status)) {
      throw new AppError('conflict', `cannot mark the delivery ${status}: it is ${delivery.status}`, {
        extra: { currentStatus: delivery.status },
      });
    }
    const now = new Date();
    const changed: DeliveryDoc = {
      ...delivery,
      status,
      updatedAt: now,
      ...(status === 'delivered' ? { deliveredAt: now } : {}),
    };
    const change = withDeliveries(
      current,
      current.deliveries.map((d) => (d._id.toHexString() === deliveryId ? changed : d)),
    );
    const announce = {
      event: 'delivery:status-updated' as const,
      deliveryId,
      statusChanged: change.set!.status !== current.status,
    };
    // A delivered delivery owes its invoice, in the same write.
    return status === 'delivered'
      ? { ...change, announce, extraJobIds: [invoiceJobId(current._id.toHexString(), deliveryId)] }
      : { ...change, announce };
  });
  const delivery = order.deliveries.find((d) => d._id.toHexString() === deliveryId)!;
  return { delivery: toPublicDelivery(order, delivery), order: toPublicOrder(order) };
}
