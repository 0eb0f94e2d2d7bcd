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
import createClient from 'openapi-fetch';
export function createOrderClient({ baseUrl, token, ...options }) {
  const client = createClient({ ...options, baseUrl: baseUrl.replace(/\/+$/, '') });
  if (token !== undefined) {
    client.use({
      async onRequest({ request }) {
        const current = typeof token === 'function' ? await token() : token;
        if (current) request.headers.set('Authorization', `Bearer ${current}`);
        return request;
      },
    });
  }
  return client;
}
