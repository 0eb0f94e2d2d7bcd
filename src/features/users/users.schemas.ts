import { z } from '@hono/zod-openapi';
import { matching } from '../../lib/openapi.js';
import { RoleSchema } from '../../lib/tokens.js';
import { NO_CONTROL_CHARS, NO_CONTROL_CHARS_BUT_NEWLINES } from '../../lib/text.js';

export const NameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'at most 100 characters')
  .apply(matching(NO_CONTROL_CHARS, 'must not contain control characters'));

export const EmailSchema = z.email('expected an email address').max(254).openapi({ example: 'asha@example.com' });

export const PasswordSchema = z
  .string()
  .min(8, 'at least 8 characters')
  .max(128, 'at most 128 characters')
  .openapi({ example: 'correct horse battery' });

export const PhoneSchema = z
  .string()
  .trim()
  .apply(matching(/^\+?[0-9 ()-]{6,20}$/, 'expected a phone number such as +91 98765 43210'));

/** A seller's postal address as printed on their invoices: several lines allowed. */
export const PostalAddressSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(300, 'at most 300 characters')
  .apply(matching(NO_CONTROL_CHARS_BUT_NEWLINES, 'must not contain control characters other than line breaks'))
  .openapi({ example: '14 Park Street\nKolkata 700016' });

/** A seller's tax id as printed on their invoices (a GSTIN in India); letters are upper-cased. */
export const TaxIdSchema = z
  .string()
  .trim()
  .toUpperCase()
  .apply(matching(/^[A-Z0-9-]{1,32}$/, 'expected 1-32 letters, digits or hyphens, such as a GSTIN'))
  .openapi({ example: '19AABCT1332L1ZT' });

export const RegisterSchema = z
  .strictObject({ name: NameSchema, email: EmailSchema, password: PasswordSchema, phone: PhoneSchema.optional() })
  .openapi('RegisterRequest');
export type RegisterInput = z.infer<typeof RegisterSchema>;

export const LoginSchema = z
  .strictObject({ email: EmailSchema, password: z.string().min(1).max(128) })
  .openapi('LoginRequest');
export type LoginInput = z.infer<typeof LoginSchema>;

export const CreateUserSchema = z
  .strictObject({
    name: NameSchema,
    email: EmailSchema,
    password: PasswordSchema,
    role: RoleSchema,
    phone: PhoneSchema.optional(),
    shopName: NameSchema.optional(),
    address: PostalAddressSchema.optional(),
    taxId: TaxIdSchema.optional(),
  })
  .openapi('CreateUserRequest');
export type CreateUserInput = z.infer<typeof CreateUserSchema>;

export const UpdateUserSchema = z
  .strictObject({
    name: NameSchema.optional(),
    role: RoleSchema.optional(),
    address: PostalAddressSchema.nullable().optional().openapi({ description: '`null` removes it' }),
    taxId: TaxIdSchema.nullable().optional().openapi({ description: '`null` removes it' }),
  })
  .refine(
    (changes) => Object.values(changes).some((value) => value !== undefined),
    'name, role, address or taxId is required',
  )
  .openapi('UpdateUserRequest');
export type UpdateUserInput = z.infer<typeof UpdateUserSchema>;

export const ChangePasswordSchema = z
  .strictObject({ currentPassword: z.string().min(1).max(128), newPassword: PasswordSchema })
  .openapi('ChangePasswordRequest');
export type ChangePasswordInput = z.infer<typeof ChangePasswordSchema>;

export const UserSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    role: RoleSchema,
    phone: z.string().optional(),
    shopName: z.string().optional(),
    address: z.string().optional(),
    taxId: z.string().optional(),
    createdAt: z.string(),
  })
  .openapi('User');

export const AuthResultSchema = z.object({ token: z.string(), user: UserSchema }).openapi('AuthResult');
