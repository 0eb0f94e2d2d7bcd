import { z } from '@hono/zod-openapi';
import { ObjectIdSchema } from '../../lib/http.js';
import { PageQuerySchema, pageOf } from '../../lib/openapi.js';

/** A week: a longer wait is not a fallback any more. */
const MAX_DELAY_SECONDS = 7 * 24 * 3600;

const DelaySecondsSchema = z
  .number({ error: 'expected a whole number of seconds' })
  .int('expected a whole number of seconds')
  .min(0, 'expected 0 or more seconds')
  .max(MAX_DELAY_SECONDS, `at most ${MAX_DELAY_SECONDS} seconds (a week)`);

const ChoiceSchema = z.object({
  enabled: z.boolean().openapi({ description: 'Whether order emails are sent at all' }),
  delaySeconds: z.number().int().openapi({
    description: 'How long an order notification stays unacknowledged before the email goes',
    example: 300,
  }),
});

export const EmailPreferencesSchema = ChoiceSchema.extend({
  chosen: ChoiceSchema.partial().openapi({ description: 'What the seller set; the rest follows `defaults`' }),
  defaults: ChoiceSchema.openapi({
    description: 'The configured defaults (SELLER_EMAIL_ENABLED, SELLER_EMAIL_AFTER_SECONDS)',
  }),
}).openapi('EmailPreferences');

export const EmailPreferencesChangeSchema = z
  .strictObject({
    enabled: z.boolean().nullable().optional().openapi({ description: '`null` follows the default again' }),
    delaySeconds: DelaySecondsSchema.nullable().optional().openapi({ description: '`null` follows the default again' }),
  })
  .refine(
    (change) => change.enabled !== undefined || change.delaySeconds !== undefined,
    'enabled or delaySeconds is required',
  )
  .openapi('EmailPreferencesChange');

export const SELLER_EMAIL_STATES = ['sending', 'sent', 'failed', 'superseded'] as const;

export const SellerEmailSchema = z
  .object({
    id: z.string().openapi({ description: 'Also in the Message-ID: `<id.seller-orders@domain>`' }),
    sellerId: z.string(),
    to: z.string().optional(),
    state: z.enum(SELLER_EMAIL_STATES),
    orderNumbers: z.array(z.string()),
    attempts: z.number().int(),
    error: z.string().optional().openapi({ description: 'Why it failed (the SMTP answer), or the last retried error' }),
    createdAt: z.string(),
    lastAttemptAt: z.string().optional(),
    sentAt: z.string().optional(),
    failedAt: z.string().optional(),
  })
  .openapi('SellerEmail');

export const SellerEmailPageSchema = pageOf(SellerEmailSchema, 'SellerEmailPage');

export const ListSellerEmailsQuerySchema = z.object({
  state: z.enum(SELLER_EMAIL_STATES).optional(),
  sellerId: ObjectIdSchema.optional(),
  ...PageQuerySchema,
});
export type ListSellerEmailsQuery = z.infer<typeof ListSellerEmailsQuerySchema>;
