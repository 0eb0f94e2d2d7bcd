import { z } from '@hono/zod-openapi';
import { RoleSchema } from '../../lib/tokens.js';
import { NO_CONTROL_CHARS } from '../../lib/text.js';

export const NameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'at most 100 characters')
  .regex(NO_CONTROL_CHARS, 'must not contain control characters');

export const EmailSchema = z.email('expected an email address').max(254).openapi({ example: 'asha@example.com' });

export const PasswordSchema = z
  .string()
  .min(8, 'at least 8 characters')
  .max(128, 'at most 128 characters')
  .openapi({ example: 'correct horse battery' });

export const PhoneSchema = z
  .string()
  .trim()
  .regex(/^\+?[0-9 ()-]{6,20}$/, 'expected a phone number such as +91 98765 43210');

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
  })
  .openapi('CreateUserRequest');
export type CreateUserInput = z.infer<typeof CreateUserSchema>;

export const UpdateUserSchema = z
  .strictObject({ name: NameSchema.optional(), role: RoleSchema.optional() })
  .refine((changes) => changes.name !== undefined || changes.role !== undefined, 'name or role is required')
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
    createdAt: z.string(),
  })
  .openapi('User');

export const AuthResultSchema = z.object({ token: z.string(), user: UserSchema }).openapi('AuthResult');
