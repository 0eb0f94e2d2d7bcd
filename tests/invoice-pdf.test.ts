import { fileURLToPath } from 'node:url';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerSystem } from '../workers/system.js';
import { loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { eventually } from './helpers/processes.js';
import { startTestApi, startTestWorkers, type TestApi } from './helpers/system.js';

let api: TestApi;
let workers: WorkerSystem;
let http: HttpClient;
let admin: Actor;

beforeAll(async () => {
  api = await startTestApi();
  workers = startTestWorkers(api.config);
  http = httpClient(api.url);
  admin = await loginAdmin(http);
});
afterAll(async () => {
  await workers?.close();
  await api?.close();
});

const SELLER_ADDRESS = '14 Park Street\nKolkata 700016';
const GSTIN = '19AABCT1332L1ZT';

async function createSeller(extra: Record<string, unknown>) {
  const email = `seller-${Math.random().toString(36).slice(2, 10)}@test.local`;
  const password = 'seller-pass-123';
  const created = await http.post(
    '/api/users',
    { name: 'Chai Point', email, password, role: 'seller', ...extra },
    { token: admin.token },
  );
  expect(created.status).toBe(201);
  const login = await http.post('/api/auth/login', { email, password });
  expect(login.status).toBe(200);
  const actor: Actor = { id: created.body.id, token: login.body.token, email, role: 'seller', name: 'Chai Point' };
  return { ...actor, body: created.body };
}

/**
 * The PDF's text as written: pdfjs's items in content order, a new line where
 * the baseline moves, in NFC. (pdfjs's own `hasEOL` flags land on the wrong
 * item at the start of a Devanagari line, so the baseline decides.)
 */
async function pdfText(bytes: Uint8Array): Promise<string> {
  const standardFontDataUrl = fileURLToPath(new URL('../node_modules/pdfjs-dist/standard_fonts/', import.meta.url));
  const pdf = await getDocument({ data: bytes.slice(), standardFontDataUrl }).promise;
  try {
    const content = await (await pdf.getPage(1)).getTextContent();
    let text = '';
    let baseline: number | undefined;
    for (const item of content.items) {
      if (!('str' in item) || item.str === '') continue;
      const y = item.transform[5] as number;
      if (baseline !== undefined && Math.abs(y - baseline) > 1) text += '\n';
      baseline = y;
      text += item.str;
    }
    return text.normalize('NFC');
  } finally {
    await pdf.destroy();
  }
}

describe('the invoice PDF in Indian scripts', () => {
  it('prints a Devanagari and Polish name, a Hindi product, the seller’s address, GSTIN and the delivery number', async () => {
    const seller = await createSeller({ address: SELLER_ADDRESS, taxId: GSTIN.toLowerCase() });
    expect(seller.body).toMatchObject({ address: SELLER_ADDRESS, taxId: GSTIN });
    const customer = await registerCustomer(http, 'ज़ोया Łukasz');
    const product = await createProduct(http, seller, { name: 'मसाला चाय', price: 123_456 });
    const placed = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 3 }]), {
      token: customer.token,
    });
    expect(placed.status).toBe(201);
    const orderId = placed.body.orders[0].id as string;
    expect((await http.request('PUT', `/api/orders/${orderId}/confirm`, { token: seller.token })).status).toBe(200);
    const delivery = await http.post(
      `/api/orders/${orderId}/deliveries`,
      { items: [{ productId: product.id, quantity: 2 }] },
      { token: seller.token },
    );
    expect(delivery.status).toBe(201);
    const { id: deliveryId, deliveryNumber } = delivery.body.delivery as { id: string; deliveryNumber: string };
    const delivered = await http.request('PATCH', `/api/orders/deliveries/${deliveryId}/status`, {
      body: { status: 'delivered' },
      token: seller.token,
    });
    expect(delivered.status).toBe(200);
    const invoice = await eventually(async () => {
      const res = await http.get(`/api/orders/deliveries/${deliveryId}/invoice`, { token: customer.token });
      expect(res.status).toBe(200);
      return res.body as { id: string; invoiceNumber: string };
    });

    // The seller moves after the invoice was issued: the issued invoice keeps the old address.
    const moved = await http.request('PATCH', `/api/users/${seller.id}`, {
      body: { address: '1 New Road\nMumbai 400001', taxId: null },
      token: admin.token,
    });
    expect(moved.status).toBe(200);
    expect(moved.body.address).toBe('1 New Road\nMumbai 400001');
    expect(moved.body.taxId).toBeUndefined();

    const res = await fetch(`${api.url}/api/invoices/${invoice.id}/pdf`, {
      headers: { authorization: `Bearer ${customer.token}` },
    });
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(Buffer.from(bytes.slice(0, 5)).toString()).toBe('%PDF-');
    const text = await pdfText(bytes);

    expect(text).toContain('ज़ोया Łukasz'.normalize('NFC'));
    expect(text).toContain('मसाला चाय'.normalize('NFC'));
    expect(text).toContain('14 Park Street');
    expect(text).toContain('Kolkata 700016');
    expect(text).not.toContain('Mumbai');
    expect(text).toContain(GSTIN);
    expect(text).toContain(deliveryNumber);
    expect(text).toContain(invoice.invoiceNumber);
    expect(text).toContain('Total: INR 2,469.12'); // 2 × 1,234.56
    expect(text).toContain('₹');

    // Every font is embedded (Noto, subset): none of the standard 14, which know no Devanagari, Ł or ₹.
    const raw = Buffer.from(bytes).toString('latin1');
    expect(raw).not.toMatch(/\/BaseFont\s*\/(Helvetica|Times|Courier|Symbol|ZapfDingbats)/);
    const fonts = [...raw.matchAll(/\/BaseFont\s*\/([A-Z]{6}\+[\w-]+)/g)].map((m) => m[1]!.split('+')[1]);
    expect(new Set(fonts)).toEqual(new Set(['NotoSans-Regular', 'NotoSans-Bold', 'NotoSansDevanagari-Regular']));
    expect(raw.match(/\/FontFile2/g)?.length).toBe(3);
  });

  it('refuses a tax id or address a printed invoice cannot hold', async () => {
    const seller = await createSeller({});
    const patch = (body: Record<string, unknown>) =>
      http.request('PATCH', `/api/users/${seller.id}`, { body, token: admin.token });
    expect((await patch({ taxId: 'GST IN!' })).status).toBe(400);
    expect((await patch({ taxId: 'X'.repeat(33) })).status).toBe(400);
    expect((await patch({ address: 'a\tb' })).status).toBe(400);
    expect((await patch({ address: 'x'.repeat(301) })).status).toBe(400);
    expect((await patch({})).status).toBe(400);
    const ok = await patch({ address: 'Shop 4\nPune 411001', taxId: '27aapfu0939f1zv' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ address: 'Shop 4\nPune 411001', taxId: '27AAPFU0939F1ZV' });
  });
});
