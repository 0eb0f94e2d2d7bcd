import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListOrdersQuerySchema } from '../src/features/orders/orders.schemas.js';
import { indexOrder, orderIndexKeys, rebuildOrderIndex, searchPrefix } from '../src/order-flow/order-index.js';
import { daysOf, searchFromIndex, searchLimits } from '../src/order-flow/order-search.js';
import { Order } from '../src/order-flow/order.model.js';
import { newOrderNumber } from '../src/features/orders/order-numbers.js';
import { createActor, loginAdmin, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { startTestApi, type TestApi } from './helpers/system.js';

// Every search is checked against a model of the contract computed here from
// the orders as they are (`expected`), through the index and through the
// MongoDB fallback, for every kind of caller, with filters, sorts and pages.
let api: TestApi;
let http: HttpClient;
let redis: Redis;
let admin: Actor;
let staff: Actor;
let sellers: Actor[];
let customers: Actor[];
/** Every order, as it is now (see refresh). */
let orders: any[] = [];

const unique = () => randomBytes(3).toString('hex');

const PEOPLE: Array<{ name: string; phone?: string; email: string }> = [
  { name: 'Asha Kumar', phone: '+91 98765 43210', email: 'Asha.Kumar' },
  { name: 'Ravi Kumar', phone: '+91 99887-76655', email: 'ravi' },
  { name: "Zara (VIP) O'Neil", phone: '(022) 555 0101', email: 'zara.oneil' },
  { name: 'José Núñez', phone: '+34 600 123 456', email: 'jose' },
  { name: 'Ravi Shankar Iyer', email: 'rsi' },
  // Asha's phone, written another way.
  { name: 'KUMAR', phone: '+919876543210', email: 'kumar' },
];

async function registerPerson(person: (typeof PEOPLE)[number]): Promise<Actor> {
  const email = `${person.email}.${unique()}@Example.Test`;
  const res = await http.post('/api/auth/register', {
    name: person.name,
    email,
    password: 'customer-pass-1',
    ...(person.phone ? { phone: person.phone } : {}),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return {
    id: res.body.user.id,
    token: res.body.token,
    email: email.toLowerCase(),
    role: 'customer',
    name: person.name,
  };
}

async function refresh() {
  orders = await Promise.all(
    orders.map(async (order) => {
      const res = await http.get(`/api/orders/${order.id}`, { token: admin.token });
      expect(res.status).toBe(200);
      return res.body;
    }),
  );
}

// ---------------------------------------------------------------- the model

const WS = /[\t\n\f\r \p{Z}]+/u;
const NOT_WORD = /[^\p{L}\p{N}\p{M}]+/u;
const digits = (text: string) => text.replace(/[^0-9]/g, '');

function wordsOfName(name: string): Set<string> {
  const words = new Set<string>();
  for (const token of name.toLowerCase().split(WS)) {
    const parts = token.split(NOT_WORD).filter(Boolean);
    if (parts.length) words.add(parts.join(''));
    for (const part of parts) words.add(part);
  }
  return words;
}

/** The contract: number or code prefix, exact phone, exact email, every word a word of the name. */
function matches(order: any, text: string): boolean {
  const q = text.trim();
  const number = order.orderNumber.toUpperCase();
  if (/^[A-Za-z0-9-]+$/.test(q) && number.startsWith(q.toUpperCase())) return true;
  const code = /^ORD-[0-9]{8}-([0-9A-Z]+)$/.exec(number)?.[1];
  if (/^[A-Za-z0-9]{3,}$/.test(q) && code?.startsWith(q.toUpperCase())) return true;
  const phone = digits(order.customer.phone ?? '');
  if (/^\+?[0-9 ()-]+$/.test(q) && phone && phone === digits(q)) return true;
  if (q.includes('@') && order.customer.email.toLowerCase() === q.toLowerCase()) return true;
  const words = q
    .toLowerCase()
    .split(WS)
    .map((token) => token.split(NOT_WORD).join(''))
    .filter(Boolean);
  const name = wordsOfName(order.customer.name);
  return words.length > 0 && words.every((word) => name.has(word));
}

const byId = (a: any, b: any) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const SORTS: Record<string, (a: any, b: any) => number> = {
  '-createdAt': (a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || byId(b, a),
  createdAt: (a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || byId(a, b),
  totalAmount: (a, b) => a.totalAmount - b.totalAmount || byId(a, b),
  '-totalAmount': (a, b) => b.totalAmount - a.totalAmount || byId(b, a),
  orderNumber: (a, b) => (a.orderNumber < b.orderNumber ? -1 : a.orderNumber > b.orderNumber ? 1 : 0),
};

function expected(actor: Actor, q: Record<string, string>) {
  const page = Number(q.page ?? 1);
  const limit = Number(q.limit ?? 20);
  const statuses = q.status?.split(',');
  const from = q.startDate ? Date.parse(`${q.startDate}T00:00:00.000Z`) : -Infinity;
  const to = q.endDate ? Date.parse(`${q.endDate}T23:59:59.999Z`) : Infinity;
  const found = orders.filter((o) => {
    if (actor.role === 'customer' && o.customer.id !== actor.id) return false;
    if (actor.role === 'seller' && o.seller.id !== actor.id) return false;
    if (q.sellerId && o.seller.id !== q.sellerId) return false;
    if (statuses && !statuses.includes(o.status)) return false;
    if (q.paymentStatus && o.paymentStatus !== q.paymentStatus) return false;
    const at = Date.parse(o.createdAt);
    return at >= from && at <= to && matches(o, q.search!);
  });
  found.sort(SORTS[q.sort ?? '-createdAt']);
  return {
    data: found.slice((page - 1) * limit, page * limit).map((o) => o.id),
    page,
    limit,
    total: found.length,
    totalPages: Math.ceil(found.length / limit),
  };
}

async function search(actor: Actor, q: Record<string, string>, path = '/api/orders') {
  const res = await http.get(`${path}?${new URLSearchParams(q)}`, { token: actor.token });
  expect(res.status, `${actor.role} ${JSON.stringify(q)}: ${JSON.stringify(res.body)}`).toBe(200);
  return { ...res.body, data: res.body.data.map((o: any) => o.id) };
}

const fromIndex = async (actor: Actor, q: Record<string, string>) =>
  searchFromIndex(redis, actor, ListOrdersQuerySchema.parse(q));

/** Checks each query, a few at a time, through the API, against the model. */
async function checkAll(cases: Array<[Actor, Record<string, string>]>, index: 'index' | 'fallback') {
  for (let i = 0; i < cases.length; i += 8) {
    await Promise.all(
      cases.slice(i, i + 8).map(async ([actor, q]) => {
        if (index === 'index') expect(await fromIndex(actor, q), JSON.stringify(q)).toBeDefined();
        expect(await search(actor, q), `${actor.role} ${actor.name} ${JSON.stringify(q)}`).toEqual(expected(actor, q));
      }),
    );
  }
}

// ---------------------------------------------------------------- fixture

let texts: { number: string[]; other: string[] };
let today: string;

async function deleteIndex() {
  const keys = await redis.keys(orderIndexKeys().pattern);
  if (keys.length) await redis.del(...keys);
}

/** Orders written straight to the database (an import): numbers the API would not give them. */
async function importOrder(like: any, orderNumber: string) {
  const doc = await Order.findById(like.id).lean();
  const _id = new Types.ObjectId();
  await Order.collection.insertOne({ ...doc!, _id, orderNumber, createdAt: new Date(), updatedAt: new Date() });
  orders.push({ id: _id.toHexString() });
}

beforeAll(async () => {
  api = await startTestApi();
  http = httpClient(api.url);
  redis = new Redis(api.config.REDIS_URL);
  admin = await loginAdmin(http);
  staff = await createActor(http, admin, 'staff');
  sellers = await Promise.all([1, 2, 3].map((n) => createActor(http, admin, 'seller', `Search Seller ${n}`)));
  customers = [];
  for (const person of PEOPLE) customers.push(await registerPerson(person));
  const products = await Promise.all(
    sellers.map((seller, n) => createProduct(http, seller, { price: 100 * (n + 1), stock: 10_000 })),
  );

  // 6 rounds of one order per customer, each from a seller that rotates; one
  // order per person gives another phone than the profile's.
  for (let round = 0; round < 6; round++) {
    for (let c = 0; c < customers.length; c++) {
      const product = products[(round + c) % products.length]!;
      const quantity = 1 + ((round * c) % 4);
      const extra = round === 2 && PEOPLE[c]!.phone ? { phone: '+44 20 7946 0000' } : {};
      const res = await http.post('/api/orders', orderBody([{ productId: product.id, quantity }], extra), {
        token: customers[c]!.token,
      });
      expect(res.status).toBe(201);
      orders.push(...res.body.orders);
    }
  }
  // A checkout split between two sellers: two orders created at the same instant.
  const split = await http.post(
    '/api/orders',
    orderBody([
      { productId: products[0]!.id, quantity: 2 },
      { productId: products[1]!.id, quantity: 2 },
    ]),
    { token: customers[0]!.token },
  );
  expect(split.status).toBe(201);
  orders.push(...split.body.orders);

  // Statuses and payments spread over them.
  const sellerOf = (order: any) => sellers.find((s) => s.id === order.seller.id)!;
  const customerOf = (order: any) => customers.find((c) => c.id === order.customer.id)!;
  for (const [i, order] of orders.entries()) {
    if (i % 4 === 1 || i % 5 === 2) {
      const res = await http.request('PUT', `/api/orders/${order.id}/confirm`, { token: sellerOf(order).token });
      expect(res.status).toBe(200);
    }
    if (i % 5 === 2) {
      // In progress: a delivery holds one unit (the status follows from deliveries).
      const res = await http.post(
        `/api/orders/${order.id}/deliveries`,
        { items: [{ productId: order.items[0].productId, quantity: 1 }] },
        { token: sellerOf(order).token },
      );
      expect(res.status).toBe(201);
      expect(res.body.order.status).toBe('in_progress');
    }
    const cancelled = i % 7 === 3 && i % 5 !== 2;
    if (cancelled) {
      expect((await http.request('DELETE', `/api/orders/${order.id}`, { token: customerOf(order).token })).status).toBe(
        200,
      );
    }
    if (!cancelled && (i % 6 === 0 || i % 9 === 4)) {
      const amount = i % 6 === 0 ? 50 : order.totalAmount;
      const res = await http.post(
        `/api/orders/${order.id}/payments`,
        { amount, method: 'cash' },
        { token: sellerOf(order).token },
      );
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    }
  }

  // Imports: a number of another day than the order's, and another numbering.
  const year = Number(orders[0].orderNumber.slice(4, 8));
  await importOrder(orders[1], `ORD-${year - 1}0101-ABC123`);
  await importOrder(orders[2], 'LEGACY-0042');
  await importOrder(orders[3], 'LEGACY-0043');
  await refresh();

  // Every API write filed its order as it went; the rebuild files the imports and marks the index ready.
  expect(await rebuildOrderIndex(redis)).toBe(orders.length);

  const number = orders[7].orderNumber as string;
  today = number.slice(4, 8) + '-' + number.slice(8, 10) + '-' + number.slice(10, 12);
  const asha = customers[0]!;
  texts = {
    number: [
      number,
      number.toLowerCase(),
      number.slice(0, 15),
      number.slice(0, 14).toLowerCase(),
      number.slice(0, 13),
      number.slice(0, 12).toLowerCase(),
      number.slice(0, 11),
      number.slice(0, 10),
      number.slice(0, 8).toLowerCase(),
      number.slice(0, 6),
      'ORD-',
      'ord',
      'O',
      `ord-${year - 1}`,
      `ORD-${year}13`,
      number.slice(-6),
      number.slice(-6, -3).toLowerCase(),
      'abc',
      'LEGACY',
      'legacy-0042',
    ],
    other: [
      '+91 98765 43210',
      '919876543210',
      '98765 43210',
      '(022) 555-0101',
      '+44 20 7946 0000',
      asha.email.toUpperCase(),
      customers[3]!.email,
      'kumar',
      'KUMAR',
      'ravi kumar',
      'Kumar  Ravi',
      'ravi',
      "o'neil",
      'neil',
      'ONEIL',
      '(vip',
      'zara (VIP)',
      'núñez',
      'NÚÑEZ',
      'jose',
      'kum',
      '.*',
      'Zara.*Neil',
      '[',
      '\\',
      'a|b',
      '$',
      '100%',
    ],
  };
});
afterAll(async () => {
  Object.assign(searchLimits, { walk: 2_000, irregular: 2_000, chunk: 1_000 });
  await redis?.quit();
  await api?.close();
});

const VARIANTS: Array<Record<string, string>> = [
  {},
  { status: 'pending' },
  { status: 'pending,confirmed,cancelled' },
  { sort: 'createdAt' },
  { sort: 'totalAmount' },
  { sort: '-totalAmount', status: 'confirmed,in_progress', limit: '3' },
  { sort: 'orderNumber' },
  { limit: '2', page: '2' },
  { paymentStatus: 'unpaid' },
  { paymentStatus: 'partially_paid', sort: 'createdAt' },
];

/** Who asks: each kind of caller, with and without sellerId. */
function callers(): Array<[Actor, Record<string, string>]> {
  return [
    [admin, {}],
    [staff, {}],
    ...sellers.map((s): [Actor, Record<string, string>] => [s, {}]),
    ...customers.map((c): [Actor, Record<string, string>] => [c, {}]),
    [admin, { sellerId: sellers[1]!.id }],
    [customers[0]!, { sellerId: sellers[0]!.id }],
    [sellers[0]!, { sellerId: sellers[1]!.id }],
  ];
}

function matrix(searchTexts: string[], wide: Array<[Actor, Record<string, string>]>) {
  const cases: Array<[Actor, Record<string, string>]> = [];
  for (const text of searchTexts) {
    for (const [actor, extra] of callers()) cases.push([actor, { search: text, ...extra }]);
    for (const [actor, extra] of wide) {
      for (const variant of VARIANTS) cases.push([actor, { search: text, ...extra, ...variant }]);
      cases.push([actor, { search: text, ...extra, startDate: today, endDate: today }]);
      cases.push([actor, { search: text, ...extra, endDate: '2001-01-01' }]);
    }
  }
  return cases;
}

describe('search from the index', () => {
  it('the fixture is what the checks assume', () => {
    const kumar = orders.filter((o) => matches(o, 'kumar')).map((o) => o.customer.name);
    expect(new Set(kumar)).toEqual(new Set(['Asha Kumar', 'Ravi Kumar', 'KUMAR']));
    const phone = orders.filter((o) => matches(o, '+91 98765 43210')).map((o) => o.customer.name);
    expect(new Set(phone)).toEqual(new Set(['Asha Kumar', 'KUMAR']));
    expect(orders.filter((o) => matches(o, "o'neil")).every((o) => o.customer.name.includes('Zara'))).toBe(true);
    expect(orders.filter((o) => matches(o, 'jose'))).toEqual([]);
    expect(new Set(orders.map((o) => o.status)).size).toBeGreaterThanOrEqual(4);
    expect(new Set(orders.map((o) => o.paymentStatus))).toEqual(new Set(['unpaid', 'partially_paid', 'paid']));
    // newOrderNumber's shape is what the index calls regular.
    expect(newOrderNumber(new Date('2026-11-22T23:59:59Z'))).toMatch(/^ORD-20261122-[0-9A-Z]{6}$/);
  });

  it('finds by order-number prefix, code, phone, email and name words as the contract says, for every caller', async () => {
    const wide: Array<[Actor, Record<string, string>]> = [
      [admin, {}],
      [sellers[0]!, {}],
      [customers[0]!, {}],
      [admin, { sellerId: sellers[2]!.id }],
    ];
    await checkAll(matrix([...texts.number, ...texts.other], wide), 'index');
    // Every scratch set of those searches is gone.
    expect(await redis.keys(`${searchPrefix()}tmp:*`)).toEqual([]);
    // Which way each was answered: staff's one word is read from the word's sets as a stream, and
    // words intersected (with each other, or with a caller's own orders) from those intersections,
    // one per status; sorted otherwise, every match is collected.
    const via = async (actor: Actor, q: Record<string, string>) => (await fromIndex(actor, q))?.via;
    expect(await via(admin, { search: 'kumar' })).toBe('stream');
    expect(await via(admin, { search: 'kumar', sort: 'totalAmount' })).toBe('collected');
    expect(await via(admin, { search: 'ravi kumar' })).toBe('stream');
    expect(await via(customers[0]!, { search: 'kumar' })).toBe('stream');
    expect(await via(customers[0]!, { search: 'kumar', paymentStatus: 'unpaid' })).toBe('collected');
    expect(await via(admin, { search: texts.number[8]! })).toBe('collected');
    // A few by hand, in case the model and the index share a mistake.
    const names = async (text: string, actor = admin) =>
      (await search(actor, { search: text, limit: '100' })).data.map(
        (id: string) => orders.find((o) => o.id === id).customer.name,
      );
    expect(new Set(await names('kumar'))).toEqual(new Set(['Asha Kumar', 'Ravi Kumar', 'KUMAR']));
    expect(new Set(await names('ravi kumar'))).toEqual(new Set(['Ravi Kumar']));
    expect(new Set(await names("ZARA O'NEIL"))).toEqual(new Set(["Zara (VIP) O'Neil"]));
    expect(new Set(await names('kumar', sellers[1]!))).toEqual(
      new Set(orders.filter((o) => o.seller.id === sellers[1]!.id && matches(o, 'kumar')).map((o) => o.customer.name)),
    );
    expect(await names('98765')).toEqual([]);
    const one = await search(customers[2]!, { search: orders[8].orderNumber.toLowerCase() });
    expect(one.data).toEqual(orders[8].customer.id === customers[2]!.id ? [orders[8].id] : []);
  }, 180_000);

  it('answers the same when broad prefixes take the other paths (time ranges, walks over several calls), a few ids at a time', async () => {
    const wide: Array<[Actor, Record<string, string>]> = [
      [admin, {}],
      [customers[0]!, {}],
      [admin, { sellerId: sellers[2]!.id }],
    ];
    try {
      // Every prefix with more than one match is broad: "ORD-YYYY…" prefixes are time ranges.
      Object.assign(searchLimits, { walk: 1, irregular: 100, chunk: 2 });
      const via = async (actor: Actor, q: Record<string, string>) => (await fromIndex(actor, q))?.via;
      expect(await via(admin, { search: texts.number[8]! })).toBe('stream');
      expect(await via(admin, { search: 'ord' })).toBe('stream');
      expect(await via(admin, { search: texts.number[8]!, sort: 'orderNumber' })).toBe('collected');
      expect(await via(admin, { search: 'legacy' })).toBe('walked');
      expect(await via(customers[0]!, { search: 'ord', sellerId: sellers[0]!.id })).toBe('collected');
      await checkAll(matrix(texts.number, wide), 'index');
      // Too many irregular orders for that: every broad prefix is walked, one member per call.
      Object.assign(searchLimits, { walk: 1, irregular: 0, chunk: 3 });
      expect(await via(admin, { search: texts.number[8]! })).toBe('walked');
      await checkAll(matrix(texts.number.slice(0, 14), wide.slice(0, 1)), 'index');
      // Names and phones, a few ids per command.
      Object.assign(searchLimits, { walk: 2_000, irregular: 2_000, chunk: 2 });
      await checkAll(matrix(texts.other.slice(0, 20), wide), 'index');
    } finally {
      Object.assign(searchLimits, { walk: 2_000, irregular: 2_000, chunk: 1_000 });
    }
  }, 180_000);

  it('answers the same from MongoDB when the index is not built, and from the index again once rebuilt', async () => {
    const cases: Array<[Actor, Record<string, string>]> = [];
    for (const text of [...texts.number.slice(0, 16), ...texts.other]) {
      cases.push([admin, { search: text }]);
      cases.push([customers[0]!, { search: text, sellerId: sellers[0]!.id }]);
      cases.push([sellers[0]!, { search: text, status: 'pending,confirmed', sort: 'totalAmount' }]);
    }
    await deleteIndex();
    expect(await fromIndex(admin, { search: 'kumar' })).toBeUndefined();
    await checkAll(cases, 'fallback');
    // Also through the seller's own route.
    expect(await search(sellers[0]!, { search: 'kumar' }, '/api/orders/seller')).toEqual(
      expected(sellers[0]!, { search: 'kumar' }),
    );

    expect(await rebuildOrderIndex(redis)).toBe(orders.length);
    await checkAll(cases, 'index');
    expect(await search(sellers[0]!, { search: 'kumar' }, '/api/orders/seller')).toEqual(
      expected(sellers[0]!, { search: 'kumar' }),
    );
  }, 120_000);

  it('follows every write: a new order is found at once, and status and payment filters follow its changes', async () => {
    const meera = await registerPerson({ name: 'Meera Kumar', phone: '+91 90000 11111', email: 'meera' });
    const product = await createProduct(http, sellers[2]!, { price: 999, stock: 10 });
    const placed = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 1 }]), {
      token: meera.token,
    });
    expect(placed.status).toBe(201);
    const order = placed.body.orders[0];
    orders.push(order);
    const ids = async (q: Record<string, string>) => {
      expect(await fromIndex(admin, q)).toBeDefined();
      return (await search(admin, q)).data;
    };
    expect(await ids({ search: 'meera' })).toEqual([order.id]);
    expect(await ids({ search: '+91-90000-11111' })).toEqual([order.id]);
    expect(await ids({ search: 'MEERA KUMAR', status: 'pending' })).toEqual([order.id]);

    expect((await http.request('PUT', `/api/orders/${order.id}/confirm`, { token: sellers[2]!.token })).status).toBe(
      200,
    );
    expect(await ids({ search: 'meera', status: 'pending' })).toEqual([]);
    expect(await ids({ search: 'meera', status: 'confirmed' })).toEqual([order.id]);
    expect(await ids({ search: 'meera', paymentStatus: 'unpaid' })).toEqual([order.id]);
    const paid = await http.post(
      `/api/orders/${order.id}/payments`,
      { amount: 999, method: 'upi' },
      { token: sellers[2]!.token },
    );
    expect(paid.status).toBeLessThan(300);
    expect(await ids({ search: 'meera', paymentStatus: 'unpaid' })).toEqual([]);
    expect(await ids({ search: 'meera', paymentStatus: 'paid' })).toEqual([order.id]);

    // A later version filed without the search fields (they never change) keeps them.
    const current = (await http.get(`/api/orders/${order.id}`, { token: admin.token })).body;
    await indexOrder(redis, {
      id: order.id,
      version: current.version,
      createdAt: current.createdAt,
      status: current.status,
      paymentStatus: current.paymentStatus,
      sellerId: current.seller.id,
      customerId: current.customer.id,
    });
    expect(await ids({ search: 'meera', status: 'confirmed' })).toEqual([order.id]);
    await refresh();
    await checkAll(
      ['kumar', 'meera kumar', order.orderNumber].map((text): [Actor, Record<string, string>] => [
        admin,
        { search: text, sort: '-totalAmount' },
      ]),
      'index',
    );
  });

  it('handles control characters and regex syntax as before: 400 for the first, literal text for the second', async () => {
    for (const bad of ['a\u0000b', '\u0007', 'zara\nneil']) {
      const res = await http.get(`/api/orders?search=${encodeURIComponent(bad)}`, { token: admin.token });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.errors[0].path).toBe('query.search');
    }
    expect((await http.get(`/api/orders?search=${'a'.repeat(101)}`, { token: admin.token })).status).toBe(400);
    for (const text of ['.*', '(', '[a-z]+', '\\d', 'ORD.*', '^ORD', 'kumar$', '(?i)KUMAR', 'a{2}', '%', '*']) {
      const q = { search: text };
      expect(await search(admin, q), text).toEqual(expected(admin, q));
    }
    // Punctuation around words is no word of its own: "(kumar)" is "kumar".
    expect((await search(admin, { search: '(kumar)' })).total).toBe((await search(admin, { search: 'kumar' })).total);
  });
});

describe('daysOf: the days a digit prefix of YYYYMMDD names', () => {
  const day = (iso: string) => Date.parse(`${iso}T00:00:00.000Z`);
  const range = (first: string, last: string) => ({ first: day(first), last: day(last) + 86_400_000 - 1 });
  it('is a contiguous range of valid days, or none', () => {
    expect(daysOf('')).toEqual({ first: -Infinity, last: Infinity });
    expect(daysOf('2026')).toEqual(range('2026-01-01', '2026-12-31'));
    expect(daysOf('202')).toEqual(range('2020-01-01', '2029-12-31'));
    expect(daysOf('20261')).toEqual(range('2026-10-01', '2026-12-31'));
    expect(daysOf('20260')).toEqual(range('2026-01-01', '2026-09-30'));
    expect(daysOf('202602')).toEqual(range('2026-02-01', '2026-02-28'));
    expect(daysOf('202402')).toEqual(range('2024-02-01', '2024-02-29'));
    expect(daysOf('2026113')).toEqual(range('2026-11-30', '2026-11-30'));
    expect(daysOf('2026110')).toEqual(range('2026-11-01', '2026-11-09'));
    expect(daysOf('20261122')).toEqual(range('2026-11-22', '2026-11-22'));
    for (const none of ['2026114', '20262', '202613', '202600', '2026023', '20261100', '20260230']) {
      expect(daysOf(none), none).toBe('none');
    }
  });
});
