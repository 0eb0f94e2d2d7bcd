import type { Redis } from 'ioredis';
import { Types } from 'mongoose';
import type { Config } from '../../env.js';
import { withLock } from '../../lib/locks.js';
import { EmailPreferences, type EmailPreferencesDoc } from './email-preferences.model.js';

/** Whether a seller gets emails about unacknowledged orders, and after how long. */
export interface SellerEmailChoice {
  enabled: boolean;
  delaySeconds: number;
}

export const configuredEmailDefaults = (config: Config): SellerEmailChoice => ({
  enabled: config.SELLER_EMAIL_ENABLED,
  delaySeconds: config.SELLER_EMAIL_AFTER_SECONDS,
});

/** A seller's stored choices over the defaults. */
export function effectiveChoice(stored: EmailPreferencesDoc | null, defaults: SellerEmailChoice): SellerEmailChoice {
  return {
    enabled: stored?.enabled ?? defaults.enabled,
    delaySeconds: stored?.delaySeconds ?? defaults.delaySeconds,
  };
}

/** What the API shows: the choice in force, what the seller chose, and the defaults the rest follows. */
export interface EmailPreferencesView extends SellerEmailChoice {
  chosen: Partial<SellerEmailChoice>;
  defaults: SellerEmailChoice;
}

function toView(stored: EmailPreferencesDoc | null, defaults: SellerEmailChoice): EmailPreferencesView {
  return {
    ...effectiveChoice(stored, defaults),
    chosen: {
      ...(stored?.enabled !== undefined && stored.enabled !== null ? { enabled: stored.enabled } : {}),
      ...(stored?.delaySeconds !== undefined && stored.delaySeconds !== null
        ? { delaySeconds: stored.delaySeconds }
        : {}),
    },
    defaults,
  };
}

export async function readEmailPreferences(sellerId: string, defaults: SellerEmailChoice) {
  return toView(await EmailPreferences.findById(sellerId).lean<EmailPreferencesDoc>(), defaults);
}

/** The choices in force for each seller, one read by `_id` each (FerretDB scans for `$in`). */
export async function emailChoicesOf(
  sellerIds: readonly string[],
  defaults: SellerEmailChoice,
): Promise<Map<string, SellerEmailChoice>> {
  const stored = await Promise.all(sellerIds.map((id) => EmailPreferences.findById(id).lean<EmailPreferencesDoc>()));
  return new Map(sellerIds.map((id, i) => [id, effectiveChoice(stored[i] ?? null, defaults)]));
}

/** `null` goes back to following the default. */
export interface EmailPreferencesChange {
  enabled?: boolean | null | undefined;
  delaySeconds?: number | null | undefined;
}

/**
 * A seller changes their choices. Under `lock:emailprefs:{id}`, since
 * FerretDB rewrites the whole document: two tabs saving at once must not undo
 * each other's field.
 */
export async function changeEmailPreferences(
  redis: Redis,
  sellerId: string,
  change: EmailPreferencesChange,
  defaults: SellerEmailChoice,
): Promise<EmailPreferencesView> {
  return withLock(redis, `lock:emailprefs:${sellerId}`, async () => {
    const set: Partial<EmailPreferencesDoc> = { updatedAt: new Date() };
    const unset: Record<string, ''> = {};
    for (const field of ['enabled', 'delaySeconds'] as const) {
      const value = change[field];
      if (value === null) unset[field] = '';
      else if (value !== undefined) (set as Record<string, unknown>)[field] = value;
    }
    await EmailPreferences.updateOne(
      { _id: new Types.ObjectId(sellerId) },
      { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) },
      { upsert: true },
    );
    return readEmailPreferences(sellerId, defaults);
  });
}
