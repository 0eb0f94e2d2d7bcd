import type { Redis } from 'ioredis';
import { unauthorized, type Authenticator, type Principal, type TokenService } from '../../lib/tokens.js';
import { sessionState } from '../users/user-sessions.js';

/**
 * Tokens as sessions that can end. Each token carries the user's token
 * generation at signing (`gen`); it is accepted only while the user exists,
 * still has that generation and still has the role the token names. Sign-out,
 * a password or role change and an admin's revoke bump the generation, and
 * deleting the user ends them too (users.service.ts), so every token issued
 * before stops working on the next request, on every instance.
 *
 * The check costs one Redis GET (user-sessions.ts caches each user's
 * generation and role), or a read by `_id` on a miss or while Redis is down.
 */
export class SessionService implements Authenticator {
  constructor(
    private readonly tokens: TokenService,
    private readonly redis: Redis,
  ) {}

  /** A token for the user in their current generation, with their current role. */
  async sign(principal: Principal): Promise<string> {
    const state = await sessionState(this.redis, principal.id);
    if (!state) throw unauthorized('the account no longer exists');
    return this.tokens.sign({ ...principal, role: state.role, generation: state.generation });
  }

  /** The caller a token names, if its session still stands; 401 otherwise. */
  async authenticate(token: string): Promise<Principal> {
    const claims = await this.tokens.verify(token);
    const state = await sessionState(this.redis, claims.id);
    if (!state || state.generation !== claims.generation || state.role !== claims.role) {
      throw unauthorized('this session has ended; sign in again');
    }
    return { id: claims.id, role: claims.role, name: claims.name };
  }
}
