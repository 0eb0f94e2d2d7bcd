import type { Redis } from 'ioredis';
import { AppError } from '../../lib/errors.js';
import { withLock } from '../../lib/locks.js';
import { forget, readThrough } from '../../lib/read-through.js';
import type { Logger } from '../../lib/logger.js';
import { isDuplicateKeyError, lockedWriteFilter } from '../../lib/mongo.js';
import { hashPassword, verifyPassword } from '../../lib/passwords.js';
import type { Principal, Role } from '../../lib/tokens.js';
import { toPublicUser, User, type PublicUser, type UserDoc } from './user.model.js';
import { recordSessionState } from './user-sessions.js';

export interface NewUser {
  name: string;
  email: string;
  password: string;
  role: Role;
  phone?: string | undefined;
  shopName?: string | undefined;
  address?: string | undefined;
  taxId?: string | undefined;
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
      address: input.address,
      taxId: input.taxId,
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

/** What a seller's invoices print of them besides their name, read when an invoice is issued. */
export async function sellerInvoiceDetails(id: string): Promise<{ address?: string; taxId?: string }> {
  const user = await User.findById(id, { address: 1, taxId: 1 }).lean<Pick<UserDoc, 'address' | 'taxId'>>();
  return { ...(user?.address ? { address: user.address } : {}), ...(user?.taxId ? { taxId: user.taxId } : {}) };
}

/** What a checkout needs of a customer or seller: names and contact. */
export type UserCard = Pick<UserDoc, 'name' | 'email' | 'phone' | 'shopName' | 'role'> & { id: string };

/** How long a user's card stays cached; a rename or role change drops it, so this only bounds staleness. */
const USER_CARD_SECONDS = 60;
const userCardKey = (id: string) => `catalog:user:${id}`;

/**
 * Users' cards for a checkout, read through a Redis cache (a returning
 * customer's checkout reads no user from the database), misses by `_id` one
 * at a time (see findProducts). Missing ids are left out.
 */
export async function userCards(redis: Redis, ids: readonly string[]): Promise<Map<string, UserCard>> {
  const found = await readThrough(
    redis,
    ids.map(userCardKey),
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

export interface UserChanges {
  name?: string | undefined;
  role?: Role | undefined;
  /** `null` removes it. */
  address?: string | null | undefined;
  taxId?: string | null | undefined;
}

/**
 * An admin renames a user, changes their role or their invoice details
 * (address, tax id); a role change ends the user's sessions.
 */
export async function updateUser(
  redis: Redis,
  actor: Principal,
  id: string,
  changes: UserChanges,
): Promise<PublicUser> {
  if (id === actor.id && changes.role !== undefined && changes.role !== actor.role) {
    throw new AppError('conflict', 'an admin cannot change its own role; another admin can');
  }
  return changeUser(redis, id, async (user) => {
    const set: Partial<Pick<UserDoc, 'name' | 'role' | 'shopName' | 'address' | 'taxId'>> = {};
    if (changes.name !== undefined && changes.name !== user.name) set.name = changes.name;
    // Issued invoices keep the address and tax id they were issued with (a snapshot).
    if (changes.address !== undefined && changes.address !== (user.address ?? null)) set.address = changes.address;
    if (changes.taxId !== undefined && changes.taxId !== (user.taxId ?? null)) set.taxId = changes.taxId;
    if (changes.role !== undefined && changes.role !== user.role) {
      set.role = changes.role;
      // As at creation: a seller always has a shop name to show on orders and invoices.
      if (changes.role === 'seller' && !user.shopName) set.shopName = set.name ?? user.name;
    }
    return { set, endSessions: set.role !== undefined };
  });
}

/** A user changes their own password; every other session of theirs ends. */
export async function changePassword(
  redis: Redis,
  userId: string,
  passwords: { currentPassword: string; newPassword: string },
  hashCost: number,
): Promise<PublicUser> {
  // Hashed before taking the lock, which then only waits for the check of the current one.
  const passwordHash = await hashPassword(passwords.newPassword, hashCost);
  return changeUser(redis, userId, async (user) => {
    if (!(await verifyPassword(passwords.currentPassword, user.passwordHash))) {
      throw new AppError('forbidden', 'the current password is incorrect');
    }
    return { set: { passwordHash }, endSessions: true };
  });
}

/** Ends every session of the user (sign-out everywhere, or an admin's revoke): their tokens stop working. */
export async function revokeSessions(redis: Redis, id: string): Promise<void> {
  await changeUser(redis, id, async () => ({ set: {}, endSessions: true }));
}

/**
 * An admin deletes an account; its tokens stop working at once. Orders keep
 * the names they embed, so nothing else needs the user document.
 */
export async function deleteUser(redis: Redis, actor: Principal, id: string): Promise<void> {
  if (id === actor.id) throw new AppError('conflict', 'an admin cannot delete its own account; another admin can');
  await withLock(redis, userLockKey(id), async () => {
    const { deletedCount } = await User.deleteOne({ _id: id });
    if (!deletedCount) throw new AppError('not_found', `user ${id} does not exist`);
    await recordSessionState(redis, id, null);
    await forget(redis, [userCardKey(id)]);
  });
}

const userLockKey = (id: string) => `lock:user:${id}`;

/**
 * Read-decide-write of one user under `lock:user:{id}`: FerretDB rewrites the
 * whole document on every update, so two unlocked writers (a password change
 * and a role change) could each undo the other's field. A change that ends
 * sessions bumps the token generation (`$inc`; two bumps that raced would
 * still leave it higher than every token issued before). The new session state
 * and the user's card are written through after the database write.
 */
async function changeUser(
  redis: Redis,
  id: string,
  decide: (user: UserDoc) => Promise<{ set: Partial<UserDoc>; endSessions: boolean }>,
): Promise<PublicUser> {
  return withLock(redis, userLockKey(id), async () => {
    const user = await User.findById(id).lean<UserDoc>();
    if (!user) throw new AppError('not_found', `user ${id} does not exist`);
    const { set, endSessions } = await decide(user);
    if (!endSessions && Object.keys(set).length === 0) return toPublicUser(user);
    const update = { $set: set, ...(endSessions ? { $inc: { tokenGeneration: 1 } } : {}) };
    // On MongoDB the filter also refuses a write whose lock lapsed while another writer changed the user.
    const { matchedCount } = await User.updateOne(lockedWriteFilter(user._id, { updatedAt: user.updatedAt }), update);
    if (!matchedCount) throw new AppError('conflict', 'the account changed meanwhile; retry', { retryable: true });
    const changed: UserDoc = { ...user, ...set, tokenGeneration: (user.tokenGeneration ?? 0) + (endSessions ? 1 : 0) };
    await recordSessionState(redis, id, { generation: changed.tokenGeneration, role: changed.role });
    await forget(redis, [userCardKey(id)]);
    return toPublicUser(changed);
  });
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
