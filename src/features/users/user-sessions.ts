import type { Redis } from 'ioredis';
import { withLuaCommand } from '../../lib/redis.js';
import { RoleSchema, type Role } from '../../lib/tokens.js';
import { User, type UserDoc } from './user.model.js';

/**
 * Each user's session state, `{generation, role}`, which every authenticated
 * request and socket handshake checks its token against. Cached in Redis
 * (`session:user:{id}`, 30 s) so a request costs one GET; read by `_id` on a
 * miss, and on every request while Redis is down.
 *
 * A change that ends sessions writes the new state through right after its
 * database write (a deleted user's entry says "gone"), so the next request on
 * every instance sees it. Every write of an entry keeps the newest generation:
 * a request that read the user just before the change and fills the cache just
 * after it cannot put the old generation back (a plain delete could not stop
 * that), and nothing overwrites "gone".
 */

export interface SessionState {
  generation: number;
  role: Role;
}

const SESSION_SECONDS = 30;
const GONE = 'gone';
const sessionKey = (userId: string) => `session:user:${userId}`;

// KEYS[1] the entry; ARGV: the value, its generation (above any for "gone"), TTL in seconds.
const RECORD_NEWEST = `
local current = redis.call('GET', KEYS[1])
if current == '${GONE}' then return 0 end
if current then
  local generation = tonumber(string.match(current, '^(%d+):'))
  if generation and generation >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1`;

function decode(text: string): SessionState | undefined {
  const match = /^(\d+):(\w+)$/.exec(text);
  const role = RoleSchema.safeParse(match?.[2]);
  return match && role.success ? { generation: Number(match[1]), role: role.data } : undefined;
}

/** The user's current session state; null when the user does not exist. */
export async function sessionState(redis: Redis, userId: string): Promise<SessionState | null> {
  // undefined: Redis is unreachable, so the database answers and nothing is cached.
  const cached = await redis.get(sessionKey(userId)).catch(() => undefined);
  if (cached === GONE) return null;
  const hit = cached ? decode(cached) : undefined;
  if (hit) return hit;
  const user = await User.findById(userId, { role: 1, tokenGeneration: 1 }).lean<UserDoc>();
  const state = user && { generation: user.tokenGeneration ?? 0, role: user.role };
  if (cached !== undefined) await recordSessionState(redis, userId, state).catch(() => undefined);
  return state;
}

/**
 * Records the user's new session state (null: the user is gone) after the
 * database write that changed it. Throws when Redis does not take it: the
 * entry other instances hold would then stand for up to 30 s.
 */
export async function recordSessionState(redis: Redis, userId: string, state: SessionState | null): Promise<void> {
  const client = withLuaCommand(redis, 'recordSessionState', RECORD_NEWEST);
  const [value, generation] = state
    ? [`${state.generation}:${state.role}`, state.generation]
    : [GONE, Number.MAX_SAFE_INTEGER];
  await client.recordSessionState(1, sessionKey(userId), value, generation, SESSION_SECONDS);
}
