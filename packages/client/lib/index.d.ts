/**
 * A typed client of the order backend's HTTP API: openapi-fetch over the types
 * openapi-typescript generated from the API's OpenAPI document (schema.d.ts),
 * so paths, parameters, bodies and answers are checked by the compiler. Every
 * call resolves to `{ data, error, response }`: `data` on a 2xx, `error` (a
 * problem document, RFC 9457) otherwise; it never throws on a status.
 *
 *   const api = createOrderClient({ baseUrl: 'http://localhost:3000', token });
 *   const { data, error } = await api.GET('/api/orders/{id}', { params: { path: { id } } });
 *
 * The socket event catalogue (events.ts) is exported here too, as types.
 */
import { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './schema.js';
export type { components, operations, paths } from './schema.js';
export type * from './events.js';
/** The API's schemas by name: `Schemas['Order']`, `Schemas['Product']`… */
export type Schemas = components['schemas'];
/** Every error answer: `type`, `title`, `status`, `detail`, and `errors[{path,message}]` for validation. */
export type Problem = components['schemas']['Problem'];
export type OrderClient = Client<paths>;
export interface OrderClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where the API is, e.g. `http://localhost:3000` (the paths carry `/api`). */
  baseUrl: string;
  /**
   * The Bearer token (from `POST /api/auth/login` or `/api/auth/register`), or
   * a function asked before each request, for a token that changes. None: no
   * `Authorization` header.
   */
  token?: string | (() => string | undefined | Promise<string | undefined>);
}
export declare function createOrderClient({ baseUrl, token, ...options }: OrderClientOptions): OrderClient;
