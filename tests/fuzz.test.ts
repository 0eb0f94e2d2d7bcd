import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor, loginAdmin, registerCustomer, type Actor } from './helpers/actors.js';
import { httpClient, type HttpClient } from './helpers/http.js';
import { createProduct, orderBody } from './helpers/orders.js';
import { startTestApi, type TestApi } from './helpers/system.js';

/**
 * Generated attack traffic, driven by the API's own OpenAPI document: every
 * operation, with path and query parameters and bodies shaped like its schema
 * but filled with hostile values (wrong types, huge and control-character
 * strings, Mongo operators, prototype keys, bad ids), sent as a random actor or
 * nobody. Whatever comes back must be an answer, not a crash: never a 5xx, and
 * every 4xx a problem document. Bounded: about 2,000 requests.
 */

type Schema = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  parameters: Array<{ name: string; in: string; schema?: Schema }>;
  body?: Schema;
}

const RUNS = 2_000;
let api: TestApi;
let http: HttpClient;
let document: Schema;
let actors: Actor[];
let knownIds: string[];

beforeAll(async () => {
  api = await startTestApi();
  http = httpClient(api.url);
  const admin = await loginAdmin(http);
  const [seller, staff, customer] = await Promise.all([
    createActor(http, admin, 'seller'),
    createActor(http, admin, 'staff'),
    registerCustomer(http),
  ]);
  actors = [admin, seller, staff, customer];
  const product = await createProduct(http, seller, { stock: 1_000_000 });
  const placed = await http.post('/api/orders', orderBody([{ productId: product.id, quantity: 1 }]), {
    token: customer.token,
  });
  // Not the actors' own ids: a generated DELETE /users/{id} would sign them out for the rest of the run.
  knownIds = [product.id, placed.body.orders[0].id];
  document = (await http.get('/openapi.json')).body;
});
afterAll(() => api?.close());

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0007\u001b[31m',
  '\ud800',
  'x'.repeat(10_000),
  '{"$gt": ""}',
  '$where',
  '.*',
  '(a+)+$',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '__proto__',
  'constructor',
  '%00',
  '%',
  '-1',
  '1e309',
  'NaN',
  'null',
  'true',
  '0001-01-01',
  '9999-12-31T23:59:59Z',
  'ffffffffffffffffffffffff',
  '000000000000000000000000',
];
const HOSTILE_VALUES: unknown[] = [
  null,
  true,
  -1,
  0,
  1.5,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  1e308,
  -1e308,
  [],
  {},
  { $gt: '' },
  { $ne: null },
  { __proto__: { admin: true } },
  JSON.parse('{"__proto__": {"polluted": true}}'),
  { constructor: { prototype: { polluted: true } } },
  [[[[[]]]]],
];

const resolve = (schema: Schema | undefined): Schema | undefined => {
  if (!schema?.$ref) return schema;
  const name = String(schema.$ref).split('/').pop()!;
  return resolve(document.components?.schemas?.[name]);
};

const idArbitrary = () =>
  fc.oneof(
    fc.constantFrom(...knownIds),
    fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 24, maxLength: 24 }),
    fc.constantFrom(...HOSTILE_STRINGS),
  );

/** Values shaped like `schema` most of the time, anything hostile otherwise. */
function valueFor(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  const hostile = fc.oneof(
    fc.constantFrom(...HOSTILE_VALUES),
    fc.constantFrom(...HOSTILE_STRINGS),
    fc.jsonValue({ maxDepth: 2 }),
  );
  if (!s || depth > 4) return hostile;
  const variants = [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])];
  if (variants.length) return fc.oneof(...variants.map((v: Schema) => valueFor(v, depth + 1)), hostile);
  let shaped: fc.Arbitrary<unknown>;
  if (s.enum) shaped = fc.constantFrom(...s.enum);
  else if (s.type === 'object' || s.properties) {
    const props = Object.fromEntries(
      Object.entries(s.properties ?? {}).map(([key, value]) => [key, valueFor(value as Schema, depth + 1)]),
    );
    shaped = fc.record(props, { requiredKeys: [] });
  } else if (s.type === 'array') shaped = fc.array(valueFor(s.items, depth + 1), { maxLength: 4 });
  else if (s.type === 'integer') shaped = fc.oneof(fc.integer({ min: -1, max: 10 }), fc.integer(), fc.double());
  else if (s.type === 'number') shaped = fc.oneof(fc.double(), fc.integer());
  else if (s.type === 'boolean') shaped = fc.boolean();
  else if (s.type === 'string')
    shaped = fc.oneof(
      ...(s.example !== undefined ? [fc.constant(s.example)] : []),
      fc.string({ maxLength: 40 }),
      fc.constantFrom(...knownIds),
      fc.constantFrom(...HOSTILE_STRINGS),
    );
  else shaped = hostile;
  return fc.oneof({ weight: 4, arbitrary: shaped }, { weight: 1, arbitrary: hostile });
}

/** `encodeURIComponent`, with a lone surrogate (which it refuses) sent as U+FFFD. */
const encodePart = (text: string) =>
  encodeURIComponent(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));

function operations(): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths as Record<string, Schema>)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      // Ending the actors' sessions would turn the rest of the run into 401s (tests/sessions.test.ts covers them).
      if (/\/auth\/(logout|password)$|\/sessions\/revoke$/.test(path)) continue;
      ops.push({
        method: method.toUpperCase(),
        path,
        parameters: (op.parameters ?? []) as Operation['parameters'],
        body: op.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return ops;
}

describe('generated attack traffic from the OpenAPI document', () => {
  it(`${RUNS} requests across every operation: no 5xx, every 4xx a problem document, and the server still answers`, async () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(30);
    const requestArbitrary = fc.constantFrom(...ops).chain((op) =>
      fc.record({
        op: fc.constant(op),
        path: fc.record(
          Object.fromEntries(op.parameters.filter((p) => p.in === 'path').map((p) => [p.name, idArbitrary()])),
        ),
        query: fc.record(
          Object.fromEntries(
            op.parameters
              .filter((p) => p.in === 'query')
              .map((p) => [p.name, fc.oneof(valueFor(p.schema).map(String), fc.constantFrom(...HOSTILE_STRINGS))]),
          ),
          { requiredKeys: [] },
        ),
        body: op.body
          ? fc.oneof(
              { weight: 6, arbitrary: valueFor(op.body).map((value) => ({ json: value })) },
              { weight: 1, arbitrary: fc.string({ maxLength: 50 }).map((raw) => ({ raw })) },
            )
          : fc.constant(undefined),
        actor: fc.option(fc.constantFrom(...actors), { nil: undefined }),
      }),
    );

    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArbitrary, async ({ op, path, query, body, actor }) => {
        const url =
          op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodePart(String(path[name]))) +
          (Object.keys(query).length ? `?${new URLSearchParams(query as Record<string, string>)}` : '');
        const res = await http.request(op.method, url.startsWith('/api') ? url : `/api${url}`, {
          ...(actor ? { token: actor.token } : {}),
          ...(body && 'json' in body ? { body: body.json } : {}),
          ...(body && 'raw' in body ? { rawBody: body.raw } : {}),
        });
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        const what = `${op.method} ${url} → ${res.status} ${String(JSON.stringify(res.body)).slice(0, 300)}`;
        expect(res.status, what).toBeLessThan(500);
        if (res.status >= 400) expect(res.headers.get('content-type'), what).toContain('application/problem+json');
      }),
      { numRuns: RUNS },
    );
    // The traffic reached past validation too, not only 400s.
    expect(
      [...seen.keys()].some((status) => status < 300),
      JSON.stringify([...seen]),
    ).toBe(true);
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  }, 120_000);
});
