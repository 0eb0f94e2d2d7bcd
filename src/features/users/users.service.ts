import type { Redis } from 'ioredis';
import { AppError } from '../../lib/errors.js';
import { readThrough } from '../../lib/read-through.js';
import type { Logger } from '../../lib/logger.js';
import { isDuplicateKeyError } from '../../lib/mongo.js';
import { hashPassword, verifyPassword } from '../../lib/passwords.js';
import type { Role } from '../../lib/tokens.js';
import { toPublicUser, User, type PublicUser, type UserDoc } from './user.model.js';

export interface NewUser {
  name: string;
  email: string;
  password: string;
  role: Role;
  phone?: string | undefined;
  shopName?: string | undefined;
}

export async function createUser(input: NewUser, hashCost: number): Promise<PublicUser> {
  const passwordHash = await hashPassword(input.password, hashCost);
  try {
    const user = await User.create({
      name: input.name,
      email: input.email.toLowerCase(),
      passwordHash,
      role: input.role,
      phone: input.phone,
      // A seller always has a shop name to show on orders and invoices.
      shopName: input.shopName ?? (input.role === 'seller' ? input.name : undefined),
    });
    return toPublicUser(user.toObject() as UserDoc);
  } catch (error) {
    if (isDuplicateKeyError(error)) throw new AppError('conflict', 'an account with this email already exists');
    throw error;
  }
}

// Verified against when the email is unknown, so a miss costs as long as a hit
// and response times do not reveal which emails have accounts.
let decoyHash: Promise<string> | undefined;

export async function authenticate(email: string, password: string, hashCost: number): Promise<PublicUser> {
  const user = await User.findOne({ email: email.toLowerCase() }).lean<UserDoc>();
  decoyHash ??= hashPassword('decoy-password', hashCost);
  const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyHash));
  if (!user || !ok) throw new AppError('unauthorized', 'email or password is incorrect');
  return toPublicUser(user);
}

export async function getUser(id: string): Promise<PublicUser> {
  const user = await User.findById(id).lean<UserDoc>();
  if (!user) throw new AppError('not_found', `user ${id} does not exist`);
  return toPublicUser(user);
}

export async function findUser(id: string): Promise<UserDoc | null> {
  return User.findById(id).lean<UserDoc>();
}

/** What a checkout needs of a customer or seller: names and contact. */
export type UserCard = Pick<UserDoc, 'name' | 'email' | 'phone' | 'shopName' | 'role'> & { id: string };

/** How long a user's card stays cached; accounts are never renamed today, so this only bounds staleness. */
const USER_CARD_SECONDS = 60;

/**
 * Users' cards for a checkout, read through a Redis cache (a returning
 * customer's checkout reads no user from the database), misses by `_id` one
 * at a time (see findProducts). Missing ids are left out.
 */
export async function userCards(redis: Redis, ids: readonly string[]): Promise<Map<string, UserCard>> {
  const found = await readThrough(
    redis,
    ids.map((id) => `catalog:user:${id}`),
    USER_CARD_SECONDS,
    (indexes) =>
      Promise.all(
        indexes.map(async (i) => {
          const user = await User.findById(ids[i], {
            name: 1,
            email: 1,
            phone: 1,
            shopName: 1,
            role: 1,
          }).lean<UserDoc>();
          return (
            user && {
              id: user._id.toHexString(),
              name: user.name,
              email: user.email,
              phone: user.phone,
              shopName: user.shopName,
              role: user.role,
            }
          );
        }),
      ),
    { encode: (card: UserCard) => JSON.stringify(card), decode: (text) => JSON.parse(text) as UserCard },
  );
  return new Map(found.filter((card) => card !== null).map((card) => [card.id, card]));
}

/** Creates the configured admin once; safe when several API instances start together. */
export async function ensureAdmin(
  email: string,
  password: string | undefined,
  hashCost: number,
  log: Logger,
): Promise<void> {
  if (!password) {
    log.warn('ADMIN_PASSWORD is not set: no admin account is bootstrapped');
    return;
  }
  const existing = await User.findOne({ email: email.toLowerCase() }).lean<UserDoc>();
  if (existing) {
    if (existing.role !== 'admin') log.warn({ email }, 'ADMIN_EMAIL belongs to a non-admin account; left unchanged');
    return;
  }
  try {
    await createUser({ name: 'Administrator', email, password, role: 'admin' }, hashCost);
    log.info({ email }, 'admin account created from ADMIN_EMAIL/ADMIN_PASSWORD');
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'conflict')) throw error;
  }
}
