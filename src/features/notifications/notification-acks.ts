/**
 * What a seller's socket may acknowledge, checked without reading the
 * database: a `notification:ack` carries at most `MAX_ACK_IDS` well-formed ids,
 * and only ids the server itself sent to that socket (replayed on connect or
 * delivered live to its `seller:{id}` room) are applied. Those are known to be
 * the seller's own, so the write (notifications.service.ts) needs no read per
 * id to check the recipient, which on FerretDB is one command per id (any
 * filter but `{_id}` scans the collection).
 */

export const MAX_ACK_IDS = 100;

const OBJECT_ID = /^[0-9a-fA-F]{24}$/;

export type AckRefusal = { error: 'too_many_ids' | 'invalid payload'; message: string };

/** `{ids}` of a `notification:ack`: distinct lower-case 24-hex ids, or why the event is refused whole. */
export function parseNotificationAck(raw: unknown): { ids: string[] } | { refusal: AckRefusal } {
  const ids: unknown = typeof raw === 'object' && raw !== null ? (raw as { ids?: unknown }).ids : undefined;
  if (!Array.isArray(ids)) return { refusal: { error: 'invalid payload', message: 'expected {ids: string[]}' } };
  // Checked before the ids themselves, so an oversized list costs nothing more.
  if (ids.length > MAX_ACK_IDS) {
    return {
      refusal: {
        error: 'too_many_ids',
        message: `at most ${MAX_ACK_IDS} ids per notification:ack, got ${ids.length}; nothing was acknowledged`,
      },
    };
  }
  if (!ids.every((id): id is string => typeof id === 'string' && OBJECT_ID.test(id))) {
    return { refusal: { error: 'invalid payload', message: 'every id must be a 24-character hex string' } };
  }
  return { ids: [...new Set(ids.map((id) => id.toLowerCase()))] };
}

/**
 * The `order_notification` ids one socket was sent and has not acknowledged,
 * oldest first. Bounded: past `limit` the oldest are forgotten, and an
 * acknowledgement of a forgotten one is ignored; it is still unacknowledged,
 * so the next connect replays it.
 */
export class SentNotifications {
  private readonly ids = new Set<string>();

  constructor(private readonly limit = 1_000) {}

  remember(id: string): void {
    this.ids.delete(id);
    this.ids.add(id);
    if (this.ids.size > this.limit) this.ids.delete(this.ids.values().next().value!);
  }

  /** Of `ids`, the ones this socket was sent. */
  sentOf(ids: readonly string[]): string[] {
    return ids.filter((id) => this.ids.has(id));
  }

  /** Once acknowledged: a repeat of the ack then costs no write. */
  forget(ids: readonly string[]): void {
    for (const id of ids) this.ids.delete(id);
  }
}
