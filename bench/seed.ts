/**
 * Bulk data for the list and stats measurements: orders written straight to the
 * database in batches (the API would take hours at these sizes), shaped exactly
 * like the ones the API stores, with deliveries embedded as the API embeds them.
 * The bench seller and the bench customer own their share, so their scoped
 * lists are measured against a realistic number of their own orders among all.
 * Deterministic: the same arguments write the same data.
 */
import { MongoClient, ObjectId, type Document } from 'mongodb';
import { say } from './harness.js';

export interface SeedOptions {
  orders: number;
  deliveriesPerOrder: number;
  /** How many sellers and customers share the orders; the bench's own are among them. */
  sellers: number;
  customers: number;
  sellerId: string;
  customerId: string;
  productIds: string[];
}

// Shares of each status; those from in_progress on carry the deliveries.
const STATUS_MIX: Array<[string, number]> = [
  ['pending', 10],
  ['confirmed', 10],
  ['cancelled', 5],
  ['in_progress', 10],
  ['shipped', 5],
  ['partial_delivered', 15],
  ['delivered', 20],
  ['completed', 25],
];
const WITHOUT_DELIVERIES = new Set(['pending', 'confirmed', 'cancelled']);
const UNIT_PRICE = 1999;
const DAY_MS = 86_400_000;

function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pickStatus(roll: number): string {
  let cumulative = 0;
  for (const [status, share] of STATUS_MIX) {
    cumulative += share / 100;
    if (roll < cumulative) return status;
  }
  return 'completed';
}

export async function seedOrders(mongoUrl: string, options: SeedOptions) {
  const random = mulberry32(20261122);
  const sellers = [
    new ObjectId(options.sellerId),
    ...Array.from({ length: options.sellers - 1 }, () => new ObjectId()),
  ];
  const customers = [
    new ObjectId(options.customerId),
    ...Array.from({ length: options.customers - 1 }, () => new ObjectId()),
  ];
  const products = options.productIds.map((id) => new ObjectId(id));
  const statuses = Array.from({ length: options.orders }, () => pickStatus(random()));
  const delivering = statuses.filter((s) => !WITHOUT_DELIVERIES.has(s)).length;
  const totalDeliveries = delivering ? options.orders * options.deliveriesPerOrder : 0;
  let deliveringSeen = 0;
  const now = Date.now();

  function order(i: number): Document {
    const status = statuses[i]!;
    const createdAt = new Date(now - DAY_MS - Math.floor(random() * 365 * DAY_MS));
    let deliveries = 0;
    if (!WITHOUT_DELIVERIES.has(status)) {
      // Spread the deliveries over the orders that have any, so the total is exact.
      deliveries =
        Math.floor(((deliveringSeen + 1) * totalDeliveries) / delivering) -
        Math.floor((deliveringSeen * totalDeliveries) / delivering);
      deliveringSeen++;
    }
    const done =
      status === 'delivered' || status === 'completed'
        ? deliveries
        : status === 'partial_delivered'
          ? Math.floor(deliveries / 2)
          : 0;
    const perDelivery = 2;
    const quantity = Math.max(1, deliveries) * perDelivery;
    const items = products.map((productId, n) => ({
      _id: new ObjectId(),
      productId,
      name: `Bench product ${n + 1}`,
      sku: `B-${n + 1}`,
      price: UNIT_PRICE,
      quantity,
      subtotal: UNIT_PRICE * quantity,
      deliveredQuantity: done * perDelivery,
      remainingQuantity: quantity - done * perDelivery,
    }));
    const totalAmount = items.reduce((sum, item) => sum + item.subtotal, 0);
    const seller = sellers[i % sellers.length]!;
    const customer = customers[i % customers.length]!;
    const orderNumber = `SEED-${String(i + 1).padStart(7, '0')}`;
    const paid = status === 'completed' ? totalAmount : 0;
    return {
      orderNumber,
      checkoutId: `seed-${i}`,
      customer: {
        id: customer,
        name: `Customer ${i % customers.length}`,
        email: `customer${i % customers.length}@seed.local`,
        phone: `+91 90000 ${String(i % customers.length).padStart(5, '0')}`,
        deliveryAddress: `${i} Seed Street, Seedville`,
      },
      seller: { id: seller, name: `Seller ${i % sellers.length}` },
      items,
      totalAmount,
      currency: 'INR',
      status,
      paymentMethod: 'cash_on_delivery',
      paymentStatus: paid ? 'paid' : 'unpaid',
      paidAmount: paid,
      progress: deliveries ? Math.round((done / deliveries) * 100) : 0,
      inventoryStatus: status === 'cancelled' ? 'restored' : 'reduced',
      shortItems: [],
      deliveries: Array.from({ length: deliveries }, (_, d) => ({
        _id: new ObjectId(),
        deliveryNumber: `${orderNumber}-D${d + 1}`,
        items: products.map((productId) => ({ productId, quantity: perDelivery })),
        status: d < done ? 'delivered' : status === 'shipped' ? 'dispatched' : 'pending',
        ...(d < done ? { deliveredAt: new Date(createdAt.getTime() + (d + 1) * DAY_MS) } : {}),
        value: UNIT_PRICE * perDelivery * products.length,
        createdAt,
        updatedAt: createdAt,
      })),
      payments: paid ? [{ amount: paid, method: 'cash', paidAt: createdAt }] : [],
      deliveredUnits: done * perDelivery * products.length,
      version: 1,
      createdAt,
      updatedAt: createdAt,
    };
  }

  const client = new MongoClient(mongoUrl, { maxPoolSize: 4 });
  const started = performance.now();
  try {
    const collection = client.db().collection('orders');
    const batch = 500;
    let written = 0;
    let lastSaid = started;
    for (let from = 0; from < options.orders; from += batch) {
      const docs = Array.from({ length: Math.min(batch, options.orders - from) }, (_, k) => order(from + k));
      await collection.insertMany(docs, { ordered: false });
      written += docs.length;
      if (performance.now() - lastSaid > 10_000) {
        say(`  seeded ${written} of ${options.orders} orders…`);
        lastSaid = performance.now();
      }
    }
    const seconds = (performance.now() - started) / 1000;
    return { orders: written, deliveries: totalDeliveries, seconds, rate: written / seconds };
  } finally {
    await client.close();
  }
}
