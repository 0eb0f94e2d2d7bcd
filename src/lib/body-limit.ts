import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/**
 * Hono's `bodyLimit`, without its cost on requests that declare their length.
 * It starts with `c.req.raw.body`, and that getter makes @hono/node-server
 * build a full Web `Request` (undici's, with a body stream and an
 * AbortController) for every request, GETs included: ~13% of the API's CPU
 * under the order benchmark. A request with `Content-Length` (or with neither
 * it nor `Transfer-Encoding`, so with no body) is judged from its headers, and
 * the handler later reads the body by node-server's direct path; only a
 * chunked body goes through `bodyLimit`, which counts it as it streams.
 */
export function declaredBodyLimit(maxSize: number, onError: () => never): MiddlewareHandler {
  const streamed = bodyLimit({ maxSize, onError });
  return async (c, next) => {
    if (c.req.header('transfer-encoding') !== undefined) return streamed(c, next);
    const length = c.req.header('content-length');
    if (length !== undefined && Number(length) > maxSize) onError();
    await next();
  };
}
