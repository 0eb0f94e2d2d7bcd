import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { startTestApi, type TestApi } from './helpers/system.js';

let api: TestApi;
let http: HttpClient;
let admin: Actor;
let sellerA: Actor;
let sellerB: Actor;
let staff: Actor;
let customer: Actor;

beforeAll(async () => {
  api = await startTestApi();
  http = httpClient(api.url);
  admin = await loginAdmin(http);
  [sellerA, sellerB, staff, customer] = await Promise.all([
    createActor(http, admin, 'seller', 'Seller A'),
    createActor(http, admin, 'seller', 'Seller B'),
    createActor(http, admin, 'staff'),
    registerCustomer(http),
  ]);
});
afterAll(() => api.close());

const product = (sku: string, extra: Record<string, unknown> = {}) => ({
  name: `Product ${sku}`,
  sku,
  price: 12_50,
  stock: 10,
  ...extra,
});

describe('products owned by sellers', () => {
  it('a seller adds a product to its own shop, priced in minor units of the configured currency', async () => {
    const res = await http.post('/api/products', product('A-1'), { token: sellerA.token });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ sellerId: sellerA.id, sku: 'A-1', price: 1250, stock: 10, currency: 'INR' });
    // Buyers see whose shop it is, in the product, the list and the product's own page.
    expect(res.body.sellerName).toBe('Seller A');
    const page = await http.get(`/api/products?sellerId=${sellerA.id}`, { token: customer.token });
    expect(page.body.data.map((p: { sellerName: string }) => p.sellerName)).toEqual(['Seller A']);
    expect((await http.get(`/api/products/${res.body.id}`, { token: customer.token })).body.sellerName).toBe(
      'Seller A',
    );
  });

  it('a seller cannot add a product to another seller', async () => {
    const res = await http.post('/api/products', product('A-2', { sellerId: sellerB.id }), { token: sellerA.token });
    expect(res.status).toBe(403);
  });

  it('an admin adds a product for a named seller, and must name one that is a seller', async () => {
    const ok = await http.post('/api/products', product('B-1', { sellerId: sellerB.id }), { token: admin.token });
    expect(ok.status).toBe(201);
    expect(ok.body.sellerId).toBe(sellerB.id);

    const missing = await http.post('/api/products', product('B-2'), { token: admin.token });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].path).toBe('sellerId');

    const notSeller = await http.post('/api/products', product('B-3', { sellerId: customer.id }), {
      token: admin.token,
    });
    expect(notSeller.status).toBe(400);
  });

  it('customers and staff cannot add products', async () => {
    for (const actor of [customer, staff]) {
      expect((await http.post('/api/products', product('C-1'), { token: actor.token })).status, actor.role).toBe(403);
    }
  });

  it('a sku is unique per seller, not across sellers', async () => {
    expect((await http.post('/api/products', product('SHARED'), { token: sellerA.token })).status).toBe(201);
    expect((await http.post('/api/products', product('SHARED'), { token: sellerB.token })).status).toBe(201);
    const dup = await http.post('/api/products', product('SHARED'), { token: sellerA.token });
    expect(dup.status).toBe(409);
    expect(dup.body.detail).toContain('SHARED');
  });

  it('refuses fractional money and negative stock', async () => {
    const res = await http.post('/api/products', product('BAD', { price: 12.5, stock: -1 }), { token: sellerA.token });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['price', 'stock']);
  });
});

describe('editing a product', () => {
  let productId: string;
  beforeAll(async () => {
    productId = (await http.post('/api/products', product('EDIT-1'), { token: sellerA.token })).body.id;
  });

  it('the owner seller changes name, price and stock', async () => {
    const res = await http.patch(
      `/api/products/${productId}`,
      { name: 'Renamed', price: 999, stock: 3 },
      { token: sellerA.token },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Renamed', price: 999, stock: 3 });
  });

  it('another seller cannot edit it, and nothing changes', async () => {
    const res = await http.patch(`/api/products/${productId}`, { price: 1 }, { token: sellerB.token });
    expect(res.status).toBe(403);
    expect((await http.get(`/api/products/${productId}`, { token: sellerB.token })).body.price).toBe(999);
  });

  it('an admin can edit any product; staff and customers cannot', async () => {
    expect((await http.patch(`/api/products/${productId}`, { stock: 7 }, { token: admin.token })).status).toBe(200);
    expect((await http.patch(`/api/products/${productId}`, { stock: 8 }, { token: staff.token })).status).toBe(403);
    expect((await http.patch(`/api/products/${productId}`, { stock: 9 }, { token: customer.token })).status).toBe(403);
  });

  it('refuses an empty change, an unknown field and a change of owner', async () => {
    expect((await http.patch(`/api/products/${productId}`, {}, { token: sellerA.token })).status).toBe(400);
    expect((await http.patch(`/api/products/${productId}`, { sku: 'NEW' }, { token: sellerA.token })).status).toBe(400);
    expect(
      (await http.patch(`/api/products/${productId}`, { sellerId: sellerB.id }, { token: admin.token })).status,
    ).toBe(400);
  });

  it('answers 404 for an unknown product and 400 for a malformed id', async () => {
    expect(
      (await http.patch('/api/products/0123456789abcdef01234567', { stock: 1 }, { token: admin.token })).status,
    ).toBe(404);
    expect((await http.get('/api/products/0123456789abcdef01234567', { token: admin.token })).status).toBe(404);
    const bad = await http.get('/api/products/not-an-id', { token: admin.token });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('param.id');
  });
});

describe('listing and searching', () => {
  let lister: Actor;
  beforeAll(async () => {
    lister = await createActor(http, admin, 'seller', 'Lister');
    for (let i = 1; i <= 12; i++) {
      const name = i % 3 === 0 ? `Green tea ${i}` : `Coffee ${i}`;
      await http.post('/api/products', { name, sku: `L-${i}`, price: 100 * i, stock: i }, { token: lister.token });
    }
  });

  it('pages through a seller’s products, newest first', async () => {
    const first = await http.get(`/api/products?sellerId=${lister.id}&limit=5`, { token: customer.token });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ page: 1, limit: 5, total: 12, totalPages: 3 });
    expect(first.body.data.map((p: { sku: string }) => p.sku)).toEqual(['L-12', 'L-11', 'L-10', 'L-9', 'L-8']);
    const last = await http.get(`/api/products?sellerId=${lister.id}&limit=5&page=3`, { token: customer.token });
    expect(last.body.data.map((p: { sku: string }) => p.sku)).toEqual(['L-2', 'L-1']);
  });

  it('searches name and sku case-insensitively, treating the text literally', async () => {
    const res = await http.get(`/api/products?sellerId=${lister.id}&search=GREEN`, { token: customer.token });
    expect(res.body.total).toBe(4);
    const literal = await http.get(`/api/products?sellerId=${lister.id}&search=.*`, { token: customer.token });
    expect(literal.body.total).toBe(0);
  });

  it('refuses out-of-range paging', async () => {
    for (const query of ['limit=0', 'limit=101', 'page=0', 'page=abc', 'sellerId=xyz']) {
      expect((await http.get(`/api/products?${query}`, { token: customer.token })).status, query).toBe(400);
    }
  });

  it('requires sign-in', async () => {
    expect((await http.get('/api/products')).status).toBe(401);
  });

  it('refuses control characters in a search with 400, never a 500 (a NUL cannot go into a regex)', async () => {
    for (const search of ['%00', 'a%00b', '%07tea']) {
      const res = await http.get(`/api/products?search=${search}`, { token: sellerA.token });
      expect(res.status, search).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.errors[0]).toMatchObject({
        path: 'query.search',
        message: 'must not contain control characters',
      });
    }
    // Regex syntax is literal text, as before.
    expect((await http.get('/api/products?search=a.*%5B', { token: sellerA.token })).status).toBe(200);
  });
});
