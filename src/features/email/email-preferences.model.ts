import { Schema, model, type Types } from 'mongoose';

/**
 * A seller's own email choices, `_id` the seller's id; a field left out
 * follows the configured default (`SELLER_EMAIL_ENABLED`,
 * `SELLER_EMAIL_AFTER_SECONDS`), so changing the default changes it for
 * everyone who has not chosen. Kept apart from the user document so the sweep
 * reads a small document by `_id`, and a change needs no user lock.
 */
const emailPreferencesSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    enabled: { type: Boolean },
    delaySeconds: { type: Number },
    updatedAt: { type: Date },
  },
  { versionKey: false, collection: 'selleremailpreferences' },
);

export interface EmailPreferencesDoc {
  _id: Types.ObjectId;
  enabled?: boolean;
  delaySeconds?: number;
  updatedAt?: Date;
}

export const EmailPreferences = model<EmailPreferencesDoc>('EmailPreferences', emailPreferencesSchema);
