import { webcrypto } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { AppError } from './errors.js';

export const ROLES = ['customer', 'seller', 'staff', 'admin'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

/** Who is calling, as carried by a verified token. */
export interface Principal {
  id: string;
  role: Role;
  name: string;
}

/** What a token says: who, and the user's session generation it was issued in (see SessionService). */
export interface TokenClaims extends Principal {
  generation: number;
}

/**
 * Turns a bearer token into the caller, session check included: what
 * `requireAuth` and the Socket.IO handshake are given (SessionService).
 */
export interface Authenticator {
  authenticate(token: string): Promise<Principal>;
}

/** The 401 every refused token gets. */
export function unauthorized(detail: string): AppError {
  return new AppError('unauthorized', detail, { headers: { 'WWW-Authenticate': 'Bearer' } });
}

const ClaimsSchema = z.object({
  sub: z.string().regex(/^[0-9a-f]{24}$/),
  role: RoleSchema,
  name: z.string(),
  // Tokens issued before sessions could be revoked carry no generation: they count as 0.
  gen: z.number().int().nonnegative().default(0),
});

export class TokenService {
  // Imported once: handed raw bytes, jose imports a WebCrypto key on every call,
  // which was about a tenth of the API's CPU under load (bench profile).
  private readonly key: Promise<webcrypto.CryptoKey>;

  constructor(
    secret: string,
    private readonly expiresIn: string,
  ) {
    this.key = webcrypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
  }

  /** Signs the claims as they are; SessionService.sign is what gives a token the user's current generation. */
  async sign(claims: TokenClaims): Promise<string> {
    return new SignJWT({ role: claims.role, name: claims.name, gen: claims.generation })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.id)
      .setIssuedAt()
      .setExpirationTime(this.expiresIn)
      .sign(await this.key);
  }

  /**
   * Tokens verified already, until they expire: a client sends the same token with every
   * request, and verifying it (base64, HMAC, JSON, claims) was 7% of the API's CPU under
   * cached reads. Only verified tokens go in, keyed by the whole token, so a changed byte
   * is a miss and is verified; whether the session still stands is checked on every request
   * all the same (SessionService.authenticate).
   */
  private readonly verified = new LRUCache<string, TokenClaims>({ max: 10_000 });

  /**
   * Verifies signature, algorithm (HS256 only, so `alg: none` is refused) and
   * expiry; not whether the session still stands (SessionService.authenticate).
   */
  async verify(token: string): Promise<TokenClaims> {
    const known = this.verified.get(token);
    if (known) return { ...known };
    try {
      const { payload } = await jwtVerify(token, await this.key, {
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'sub'],
      });
      const claims = ClaimsSchema.parse(payload);
      const verified = { id: claims.sub, role: claims.role, name: claims.name, generation: claims.gen };
      // Kept until the token expires (`exp` is required above), not a moment longer.
      this.verified.set(token, verified, { ttl: Math.max(payload.exp! * 1000 - Date.now(), 1) });
      return { ...verified };
    } catch (error) {
      throw unauthorized(error instanceof joseErrors.JWTExpired ? 'token has expired' : 'token is invalid');
    }
  }
}
