import { randomInt } from 'node:crypto';

// Crockford's base32: no I, L, O or U, so a number read over the phone is unambiguous.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A human-readable order number, `ORD-20261122-7K3QX9`: the day, then six
 * random characters (about 10^9 per day). Uniqueness is the unique index's
 * job; the caller retries on the rare collision. A counter document advanced
 * with `$inc` would read better, but FerretDB 1.24 loses concurrent `$inc`s
 * (see lib/locks.ts), and placing an order must not depend on Redis.
 */
export function newOrderNumber(now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += ALPHABET[randomInt(ALPHABET.length)];
  return `ORD-${day}-${suffix}`;
}
