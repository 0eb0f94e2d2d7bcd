import { Schema, model, type InferSchemaType, type Types } from 'mongoose';
import { ROLES } from '../../lib/tokens.js';

const userSchema = new Schema(
  {
    name: { type: String, required: true, trim: true },
    // Stored lower-cased so the unique index is case-insensitive.
    email: { type: String, required: true, lowercase: true, trim: true },
    passwordHash: { type: String, required: true },
    role: { type: String, enum: ROLES, required: true, default: 'customer' },
    phone: { type: String },
    shopName: { type: String },
    // A seller's postal address and tax id (a GSTIN in India), printed on their invoices.
    address: { type: String },
    taxId: { type: String },
    // Bumped by every change that must end the user's sessions (sign-out, password or role
    // change); tokens carry the generation they were issued in. Accounts from before it: 0.
    tokenGeneration: { type: Number, default: 0 },
  },
  { timestamps: true, versionKey: false },
);

// Serves login and the duplicate-email check; unique makes concurrent registrations safe.
userSchema.index({ email: 1 }, { unique: true });
// Serves the admin's user list filtered by role, newest first.
userSchema.index({ role: 1, createdAt: -1 });

export type UserDoc = InferSchemaType<typeof userSchema> & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };

export const User = model('User', userSchema);

/** What the API shows of a user: never the password hash. */
export interface PublicUser {
  id: string;
  name: string;
  email: string;
  role: (typeof ROLES)[number];
  phone?: string;
  shopName?: string;
  address?: string;
  taxId?: string;
  createdAt: string;
}

export function toPublicUser(user: UserDoc): PublicUser {
  return {
    id: user._id.toHexString(),
    name: user.name,
    email: user.email,
    role: user.role,
    ...(user.phone ? { phone: user.phone } : {}),
    ...(user.shopName ? { shopName: user.shopName } : {}),
    ...(user.address ? { address: user.address } : {}),
    ...(user.taxId ? { taxId: user.taxId } : {}),
    createdAt: user.createdAt.toISOString(),
  };
}
