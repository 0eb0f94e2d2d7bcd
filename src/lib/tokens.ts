import { webcrypto } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
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

const ClaimsSchema = z.object({
  sub: z.string().regex(/^[0-9a-f]{24}$/),
  role: RoleSchema,
  name: z.string(),
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

  async sign(principal: Principal): Promise<string> {
    return new SignJWT({ role: principal.role, name: principal.name })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(principal.id)
      .setIssuedAt()
      .setExpirationTime(this.expiresIn)
      .sign(await this.key);
  }

  /** Verifies signature, algorithm (HS256 only, so `alg: none` is refused) and expiry. */
  async verify(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, await this.key, {
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'sub'],
      });
      const claims = ClaimsSchema.parse(payload);
      return { id: claims.sub, role: claims.role, name: claims.name };
    } catch (error) {
      const detail = error instanceof joseErrors.JWTExpired ? 'token has expired' : 'token is invalid';
      throw new AppError('unauthorized', detail, { headers: { 'WWW-Authenticate': 'Bearer' } });
    }
  }
}
