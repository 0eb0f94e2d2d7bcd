/**
 * Something to try the web app with on a fresh `npm start`: two sellers with a
 * few products each and a customer, created through the API itself as the
 * admin. Development only (scripts/start.ts calls it when NODE_ENV is
 * `development`), never in tests' or production databases, and only when the
 * database has no products yet; running it again changes nothing.
 */

export interface DemoAccount {
  role: 'seller' | 'customer';
  name: string;
  email: string;
  password: string;
}

/** The accounts the README lists; products carry SKUs starting with `DEMO-`. */
export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  { role: 'seller', name: 'Tea House', email: 'tea@example.com', password: 'tea-house-1' },
  { role: 'seller', name: 'Spice Market', email: 'spice@example.com', password: 'spice-market-1' },
  { role: 'customer', name: 'Asha Rao', email: 'asha@example.com', password: 'asha-customer-1' },
];

const DEMO_PRODUCTS: Record<string, Array<{ name: string; sku: string; price: number; stock: number }>> = {
  'tea@example.com': [
    { name: 'Assam tea, 250 g', sku: 'DEMO-TEA-ASSAM', price: 24900, stock: 40 },
    { name: 'Darjeeling first flush, 100 g', sku: 'DEMO-TEA-DARJ', price: 39900, stock: 25 },
    { name: 'Masala chai blend, 200 g', sku: 'DEMO-TEA-CHAI', price: 19900, stock: 60 },
  ],
  'spice@example.com': [
    { name: 'Green cardamom, 100 g', sku: 'DEMO-SPICE-CARD', price: 29900, stock: 30 },
    { name: 'Kashmiri saffron, 1 g', sku: 'DEMO-SPICE-SAFF', price: 49900, stock: 10 },
    { name: 'Turmeric powder, 200 g', sku: 'DEMO-SPICE-TURM', price: 9900, stock: 80 },
  ],
};

async function call<T>(url: string, method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function expectOk<T>(result: Promise<{ status: number; body: T }>, what: string): Promise<T> {
  const { status, body } = await result;
  if (status >= 300) throw new Error(`${what}: ${status} ${JSON.stringify(body)}`);
  return body;
}

/**
 * Seeds an empty catalog. Answers the demo accounts when they are there to
 * sign in with (seeded now or on an earlier start), or none when the
 * database holds products of its own.
 */
export async function seedDevelopmentData(
  url: string,
  admin: { email: string; password: string },
): Promise<{ seeded: boolean; accounts: readonly DemoAccount[] }> {
  const { token } = await expectOk(
    call<{ token: string }>(url, 'POST', '/api/auth/login', undefined, admin),
    'admin sign-in',
  );
  const products = await expectOk(call<{ total: number }>(url, 'GET', '/api/products?limit=1', token), 'products');
  if (products.total > 0) {
    const demo = await expectOk(
      call<{ total: number }>(url, 'GET', '/api/products?limit=1&search=DEMO-', token),
      'demo products',
    );
    return { seeded: false, accounts: demo.total > 0 ? DEMO_ACCOUNTS : [] };
  }

  for (const account of DEMO_ACCOUNTS) {
    const created = await call<{ id: string }>(url, 'POST', '/api/users', token, account);
    let id = created.body?.id;
    if (created.status === 409) {
      // Made on an earlier start whose products were since removed: sign in to learn its id.
      const login = await expectOk(
        call<{ user: { id: string } }>(url, 'POST', '/api/auth/login', undefined, account),
        `sign-in of ${account.email}`,
      );
      id = login.user.id;
    } else if (created.status !== 201) {
      throw new Error(`creating ${account.email}: ${created.status} ${JSON.stringify(created.body)}`);
    }
    for (const product of DEMO_PRODUCTS[account.email] ?? []) {
      const made = await call(url, 'POST', '/api/products', token, { ...product, sellerId: id });
      if (made.status !== 201 && made.status !== 409) {
        throw new Error(`creating ${product.sku}: ${made.status} ${JSON.stringify(made.body)}`);
      }
    }
  }
  return { seeded: true, accounts: DEMO_ACCOUNTS };
}
