import { Types } from 'mongoose';
import type { Queues } from '../../jobs/queues.js';
import { AppError } from '../../lib/errors.js';
import { withLock } from '../../lib/locks.js';
import { isDuplicateKeyError } from '../../lib/mongo.js';
import type { Principal } from '../../lib/tokens.js';
import { findDeliveryOrder } from '../deliveries/deliveries.service.js';
import { sellerInvoiceDetails } from '../users/users.service.js';
import { canManageOrder, canSeeOrder } from '../../order-flow/order-access.js';
import { invoiceJobId } from '../../order-flow/order-jobs.js';
import { oweJobs, sendOwedJobs } from '../../order-flow/owed-work.js';
import { toPublicOrder } from '../../order-flow/order-view.js';
import { changeOrder, readLandedOrder, type OrderWriteContext } from '../../order-flow/order-writes.js';
import { Order, type OrderDoc } from '../../order-flow/order.model.js';
import { Invoice, type InvoiceDoc } from './invoice.model.js';
import { allocate, paymentStatusOf } from './payment-math.js';

// ---------------------------------------------------------------- issuing

/**
 * Issues the invoice of one delivery, once: the unique index on `deliveryId`
 * makes a retried or duplicated job find the first one. Its number is the
 * seller's next for the year, claimed by the insert itself (unique seller,
 * year, seq), so numbers never repeat and never skip. The lock only spares
 * concurrent issuers for one seller from retrying.
 */
export async function issueInvoice(
  ctx: OrderWriteContext,
  orderId: string,
  deliveryId: string,
  /** The version of the change that owes the invoice (the delivery's creation or delivery). */
  version?: number,
): Promise<InvoiceDoc> {
  const existing = await Invoice.findOne({ deliveryId }).lean<InvoiceDoc>();
  if (existing) return existing;
  const order = await readLandedOrder(ctx, orderId, version);
  const delivery = order?.deliveries.find((d) => d._id.toHexString() === deliveryId);
  if (!order || !delivery) throw new AppError('not_found', `delivery ${deliveryId} does not exist`);
  if (delivery.status === 'failed' || delivery.status === 'cancelled') {
    throw new AppError('conflict', `a ${delivery.status} delivery is not invoiced`, {
      extra: { currentStatus: delivery.status },
    });
  }
  const byProduct = new Map(order.items.map((item) => [item.productId.toHexString(), item]));
  const lines = delivery.items.map((line) => {
    const item = byProduct.get(line.productId.toHexString())!;
    return {
      productId: line.productId,
      name: item.name,
      sku: item.sku,
      price: item.price,
      quantity: line.quantity,
      amount: item.price * line.quantity,
    };
  });
  const issuedAt = new Date();
  const year = issuedAt.getUTCFullYear();
  const sellerId = order.seller.id;
  const seller = await sellerInvoiceDetails(sellerId.toHexString());

  const invoice = await withLock(ctx.redis, `lock:invoice-numbers:${sellerId.toHexString()}:${year}`, async () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const last = await Invoice.findOne({ sellerId, year }, { seq: 1 })
        .sort({ seq: -1 })
        .lean<Pick<InvoiceDoc, 'seq'>>();
      const seq = (last?.seq ?? 0) + 1;
      try {
        const created = await Invoice.create({
          invoiceNumber: `INV-${year}-${String(seq).padStart(6, '0')}`,
          sellerId,
          sellerAddress: seller.address,
          sellerTaxId: seller.taxId,
          year,
          seq,
          orderId: order._id,
          deliveryId: delivery._id,
          customerId: order.customer.id,
          lines,
          total: lines.reduce((sum, line) => sum + line.amount, 0),
          currency: order.currency,
          issuedAt,
        });
        return created.toObject() as InvoiceDoc;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        const mine = await Invoice.findOne({ deliveryId }).lean<InvoiceDoc>();
        if (mine) return mine; // another run issued it first
        // Else someone took this number: read the new last one and try the next.
      }
    }
    throw new AppError('conflict', 'could not assign an invoice number; try again', { retryable: true });
  });
  return invoice;
}

/**
 * `POST /orders/deliveries/:id/invoice`: the invoice if it exists, else its
 * job, owed first: a job that failed or was lost is sent again by the
 * reconciler, so a 202 always ends in an invoice (or a recorded refusal).
 */
export async function requestInvoice(queues: Queues, caller: Principal, deliveryId: string) {
  const { order } = await findDeliveryOrder(deliveryId);
  if (!canManageOrder(caller, order)) throw new AppError('not_found', `delivery ${deliveryId} does not exist`);
  const existing = await Invoice.findOne({ deliveryId }).lean<InvoiceDoc>();
  if (existing) return { status: 200 as const, invoice: await invoiceView(existing) };
  const orderId = order._id.toHexString();
  const jobId = invoiceJobId(orderId, deliveryId);
  const owed = [{ jobId, version: order.version }];
  await oweJobs(owed);
  await sendOwedJobs(queues, owed);
  return { status: 202 as const, jobId };
}

// ---------------------------------------------------------------- reading

async function ordersInvoices(orderId: Types.ObjectId | string) {
  return Invoice.find({ orderId }).sort({ issuedAt: 1, seq: 1 }).lean<InvoiceDoc[]>();
}

function balancesOf(order: Pick<OrderDoc, 'payments'>, invoices: InvoiceDoc[]) {
  return allocate(
    invoices.map((inv) => ({ id: inv._id.toHexString(), total: inv.total })),
    order.payments.map((p) => ({ invoiceId: p.invoiceId?.toHexString(), amount: p.amount })),
  );
}

function toPublicInvoice(invoice: InvoiceDoc, order: OrderDoc, invoices: InvoiceDoc[]) {
  const id = invoice._id.toHexString();
  const balance = balancesOf(order, invoices).balances.get(id)!;
  return {
    id,
    invoiceNumber: invoice.invoiceNumber,
    orderId: invoice.orderId.toHexString(),
    orderNumber: order.orderNumber,
    deliveryId: invoice.deliveryId.toHexString(),
    deliveryNumber: order.deliveries.find((d) => d._id.equals(invoice.deliveryId))?.deliveryNumber,
    seller: {
      id: order.seller.id.toHexString(),
      name: order.seller.name,
      ...(invoice.sellerAddress ? { address: invoice.sellerAddress } : {}),
      ...(invoice.sellerTaxId ? { taxId: invoice.sellerTaxId } : {}),
    },
    customer: {
      id: order.customer.id.toHexString(),
      name: order.customer.name,
      deliveryAddress: order.customer.deliveryAddress,
    },
    lines: invoice.lines.map((line) => ({ ...line, productId: line.productId.toHexString() })),
    total: invoice.total,
    currency: invoice.currency,
    amountPaid: balance.amountPaid,
    amountDue: balance.amountDue,
    paymentStatus: balance.paymentStatus,
    advanceApplied: balance.advanceApplied,
    payments: order.payments
      .filter((p) => p.invoiceId?.toHexString() === id)
      .map((p) => ({
        id: p._id.toHexString(),
        amount: p.amount,
        method: p.method,
        reference: p.reference,
        paidAt: new Date(p.paidAt).toISOString(),
      })),
    issuedAt: new Date(invoice.issuedAt).toISOString(),
  };
}
export type PublicInvoice = ReturnType<typeof toPublicInvoice>;

export async function invoiceView(invoice: InvoiceDoc) {
  const [order, invoices] = await Promise.all([
    Order.findById(invoice.orderId).lean<OrderDoc>(),
    ordersInvoices(invoice.orderId),
  ]);
  return toPublicInvoice(invoice, order!, invoices);
}

export async function getInvoice(caller: Principal, id: string): Promise<PublicInvoice> {
  const invoice = await Invoice.findById(id).lean<InvoiceDoc>();
  if (!invoice) throw new AppError('not_found', `invoice ${id} does not exist`);
  const [order, invoices] = await Promise.all([
    Order.findById(invoice.orderId).lean<OrderDoc>(),
    ordersInvoices(invoice.orderId),
  ]);
  if (!order || !canSeeOrder(caller, order)) throw new AppError('not_found', `invoice ${id} does not exist`);
  return toPublicInvoice(invoice, order, invoices);
}

export async function getDeliveryInvoice(caller: Principal, deliveryId: string): Promise<PublicInvoice> {
  const { order } = await findDeliveryOrder(deliveryId);
  if (!canSeeOrder(caller, order)) throw new AppError('not_found', `delivery ${deliveryId} does not exist`);
  const invoice = await Invoice.findOne({ deliveryId }).lean<InvoiceDoc>();
  if (!invoice) throw new AppError('not_found', `delivery ${deliveryId} has no invoice yet`);
  return toPublicInvoice(invoice, order, await ordersInvoices(order._id));
}

export async function listOrderInvoices(caller: Principal, orderId: string): Promise<PublicInvoice[]> {
  const order = await Order.findById(orderId).lean<OrderDoc>();
  if (!order || !canSeeOrder(caller, order)) throw new AppError('not_found', `order ${orderId} does not exist`);
  const invoices = await ordersInvoices(order._id);
  return invoices.map((invoice) => toPublicInvoice(invoice, order, invoices));
}

// ---------------------------------------------------------------- payments

export interface NewPayment {
  amount: number;
  method: string;
  reference?: string | undefined;
}

/**
 * Records a payment on an invoice, or an advance on the order (`invoiceId`
 * unset), in the order's own write: the order's paid amount is the sum of its
 * payments by construction, and overpaying (more than the invoice, or the
 * order, still owes) is refused with 409.
 */
export async function recordPayment(
  ctx: OrderWriteContext,
  caller: Principal,
  target: { orderId: string } | { invoiceId: string },
  payment: NewPayment,
) {
  let orderId: string;
  let invoiceId: string | undefined;
  if ('invoiceId' in target) {
    const invoice = await Invoice.findById(target.invoiceId, { orderId: 1 }).lean<Pick<InvoiceDoc, 'orderId'>>();
    if (!invoice) throw new AppError('not_found', `invoice ${target.invoiceId} does not exist`);
    orderId = invoice.orderId.toHexString();
    invoiceId = target.invoiceId;
  } else {
    orderId = target.orderId;
  }
  const invoices = await ordersInvoices(orderId);
  const { order } = await changeOrder(ctx, orderId, (current) => {
    if (!canManageOrder(caller, current)) {
      // The order's own customer learns why; anyone else learns nothing.
      if (canSeeOrder(caller, current))
        throw new AppError('forbidden', 'payments are recorded by the seller, staff or an admin');
      // Named as the caller named it: paying by invoice must not reveal the order behind it.
      throw new AppError(
        'not_found',
        invoiceId ? `invoice ${invoiceId} does not exist` : `order ${orderId} does not exist`,
      );
    }
    if (current.status === 'cancelled')
      throw new AppError('conflict', 'the order is cancelled', { extra: { currentStatus: current.status } });
    const { balances, paidAmount } = balancesOf(current, invoices);
    const owed = invoiceId ? balances.get(invoiceId)!.amountDue : current.totalAmount - paidAmount;
    if (payment.amount > owed) {
      throw new AppError('conflict', `overpayment: ${owed} is owed, ${payment.amount} was offered`, {
        extra: { owed, offered: payment.amount },
      });
    }
    const payments = [
      ...current.payments,
      {
        _id: new Types.ObjectId(),
        ...(invoiceId ? { invoiceId: new Types.ObjectId(invoiceId) } : {}),
        amount: payment.amount,
        method: payment.method,
        ...(payment.reference ? { reference: payment.reference } : {}),
        paidAt: new Date(),
      },
    ];
    const fields = paymentFields(current, payments);
    return {
      ...fields,
      jobs: ['announce-status', 'warm-order'],
      announce: { event: 'order:payment-updated', statusChanged: fields.set.status !== current.status },
    };
  });
  // A payment changes no invoice, and an invoice issued meanwhile comes later in the
  // allocation, so the list read before the change still gives this invoice's balance.
  return {
    order: toPublicOrder(order),
    ...(invoiceId
      ? {
          invoice: toPublicInvoice(
            invoices.find((inv) => inv._id.toHexString() === invoiceId)!,
            order,
            invoices,
          ),
        }
      : {}),
  };
}

/** paidAmount, paymentStatus and (once delivered and paid) `completed`, from the payments. */
function paymentFields(order: OrderDoc, payments: OrderDoc['payments']) {
  const paidAmount = payments.reduce((sum, p) => sum + p.amount, 0);
  const paymentStatus = paymentStatusOf(paidAmount, order.totalAmount);
  const status = order.status === 'delivered' && paymentStatus === 'paid' ? 'completed' : order.status;
  return { set: { payments, paidAmount, paymentStatus, status } };
}
