import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpClient, type HttpClient } from './helpers/http.js';
import { startTestApi, type TestApi } from './helpers/system.js';

/**
 * What an integrator meets first: the document Swagger UI, generated clients and
 * client-side validators are built from. Its patterns, ids and examples must be usable.
 */

type Json = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  op: Json;
}

let api: TestApi;
let http: HttpClient;
let doc: Json;
let operations: Operation[];

beforeAll(async () => {
  api = await startTestApi();
  http = httpClient(api.url);
  doc = (await http.get('/openapi.json')).body;
  operations = Object.entries(doc.paths as Record<string, Json>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method, path, op })),
  );
});
afterAll(() => api?.close());

/** Values every documented pattern is meant to accept, for patterns whose schema has no `example`. */
const VALID_SAMPLES: Record<string, string[]> = {
  '^[0-9a-fA-F]{24}$': ['665f1c2e8b3f4a0012345678', '665F1C2E8B3F4A0012345678'],
  '^[^\\p{Cc}]*$': ['Asha Rao', '12 MG Road, Bengaluru', 'Ünïcödé ✓ 東京', ''],
  '^(?:[^\\p{Cc}]|\\r?\\n)*$': ['Leave it at the gate\nRing twice', '14 Park Street\r\nKolkata 700016'],
  '^\\+?[0-9 ()-]{6,20}$': ['+91 98765 43210', '(080) 2222-3333'],
  '^[\\x21-\\x7e]+$': ['checkout-2026-11-24-7f3a', 'b1f0c6d2-4c1e-4f6e-9d8a-1a2b3c4d5e6f'],
  '^[A-Za-z0-9][A-Za-z0-9._-]*$': ['TEA-ASSAM-250', 'sku_1.b'],
  '^[A-Z0-9-]{1,32}$': ['19AABCT1332L1ZT'],
};

interface PatternUse {
  where: string;
  pattern: string;
  example: unknown;
}

/** Every `pattern` in the document, components included, with the example that goes with it. */
function patternsIn(node: unknown, where: string, inheritedExample?: unknown): PatternUse[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => patternsIn(item, `${where}/${i}`));
  if (!node || typeof node !== 'object') return [];
  const object = node as Json;
  const found: PatternUse[] =
    typeof object.pattern === 'string'
      ? [{ where, pattern: object.pattern, example: object.example ?? inheritedExample }]
      : [];
  for (const [key, value] of Object.entries(object)) {
    // A parameter may carry its example beside its schema rather than in it.
    const example = key === 'schema' ? object.example : undefined;
    found.push(...patternsIn(value, `${where}/${key}`, example));
  }
  return found;
}

describe('the OpenAPI document, as an integrator uses it', () => {
  it('gives every operation a unique camelCase operationId', () => {
    expect(operations.length).toBeGreaterThan(30);
    const ids = operations.map(({ method, path, op }) => {
      expect(op.operationId, `${method.toUpperCase()} ${path}`).toMatch(/^[a-z][a-zA-Z0-9]*$/);
      return op.operationId as string;
    });
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(repeated).toEqual([]);
  });

  it('documents 429 with Retry-After and the RateLimit headers on every /api operation', () => {
    const api = operations.filter(({ path }) => path.startsWith('/api/'));
    expect(api.length).toBeGreaterThan(30);
    for (const { method, path, op } of api) {
      const name = `${method.toUpperCase()} ${path}`;
      const tooMany = op.responses['429'];
      expect(tooMany, name).toBeDefined();
      expect(Object.keys(tooMany.headers ?? {}).sort(), name).toEqual(
        ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After'].sort(),
      );
    }
  });

  it('documents 413 (body too large) and 415 (not JSON) on every operation that takes a JSON body', () => {
    const withBody = operations.filter(({ op }) => op.requestBody?.content?.['application/json']);
    expect(withBody.length).toBeGreaterThan(10);
    for (const { method, path, op } of withBody) {
      const name = `${method.toUpperCase()} ${path}`;
      expect(Object.keys(op.responses), name).toEqual(expect.arrayContaining(['413', '415']));
    }
  });

  it('has only patterns a JSON Schema validator can use: they compile, accept valid values and refuse control characters', () => {
    const uses = patternsIn(doc, '#');
    expect(uses.length).toBeGreaterThan(10);
    for (const { where, pattern, example } of uses) {
      // JSON Schema patterns are ECMA-262 regexes with the `u` flag implied.
      const regex = new RegExp(pattern, 'u');
      const samples = [...(typeof example === 'string' ? [example] : []), ...(VALID_SAMPLES[pattern] ?? [])];
      expect(samples, `no valid sample for ${pattern} at ${where}; add one to VALID_SAMPLES`).not.toEqual([]);
      for (const sample of samples) expect(regex.test(sample), `${pattern} at ${where} refuses ${sample}`).toBe(true);
      if (pattern.includes('\\p{Cc}')) {
        for (const bad of ['Asha\u0000Rao', 'Asha\u001bRao', 'Asha\tRao', 'Asha\u007fRao']) {
          expect(regex.test(bad), `${pattern} at ${where} accepts ${JSON.stringify(bad)}`).toBe(false);
        }
      }
    }
  });

  it('gives each problem response an example of its own status, and 503 its Retry-After', () => {
    let checked = 0;
    for (const { method, path, op } of operations) {
      for (const [code, response] of Object.entries(op.responses as Record<string, Json>)) {
        const problem = response.content?.['application/problem+json'];
        if (!problem) continue;
        const name = `${method.toUpperCase()} ${path} ${code}`;
        expect(problem.example, name).toMatchObject({
          status: Number(code),
          type: expect.stringMatching(/^\/problems\/[a-z-]+$/),
          title: expect.any(String),
          detail: expect.any(String),
        });
        if (code === '503') expect(response.headers?.['Retry-After'], name).toBeDefined();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('answers errors the way its examples say', async () => {
    const example = (path: string, method: string, code: number) =>
      doc.paths[path][method].responses[String(code)].content['application/problem+json'].example;
    const pick = ({ type, title, status }: Json) => ({ type, title, status });

    const anonymous = await http.get('/api/auth/me');
    expect(pick(anonymous.body)).toEqual(pick(example('/api/auth/me', 'get', 401)));
    expect(anonymous.body.detail).toBe(example('/api/auth/me', 'get', 401).detail);

    const notJson = await http.request('POST', '/api/auth/login', {
      rawBody: 'email=a',
      headers: { 'content-type': 'text/plain' },
    });
    expect(pick(notJson.body)).toEqual(pick(example('/api/auth/login', 'post', 415)));

    const tooLarge = await http.request('POST', '/api/auth/login', {
      rawBody: JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(200_000) }),
    });
    expect(pick(tooLarge.body)).toEqual(pick(example('/api/auth/login', 'post', 413)));

    const invalid = await http.post('/api/auth/login', { email: 'not an email', password: 'x' });
    expect(pick(invalid.body)).toEqual(pick(example('/api/auth/login', 'post', 400)));
  });

  it('says where it is served and what each tag covers', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    const described = new Map((doc.tags as Json[]).map((tag) => [tag.name, tag.description]));
    for (const { op } of operations) {
      for (const tag of op.tags ?? []) expect(described.get(tag), tag).toEqual(expect.any(String));
    }
  });
});
