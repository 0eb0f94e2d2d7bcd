import { z } from '@hono/zod-openapi';
import { ObjectIdSchema } from '../../lib/http.js';
import { matching, PageQuerySchema, pageOf } from '../../lib/openapi.js';
import { NameSchema } from '../users/users.schemas.js';
import { NO_CONTROL_CHARS } from '../../lib/text.js';

/** Money is an integer count of minor units (paise/cents); no floats anywhere. */
export const MoneySchema = z
  .number()
  .int('expected an integer amount in minor units (e.g. paise)')
  .min(0)
  .max(1_000_000_000_00)
  .openapi({ example: 49900 });

const StockSchema = z.number().int('expected a whole number').min(0).max(10_000_000).openapi({ example: 25 });

const SkuSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .apply(matching(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only'))
  .openapi({ example: 'TEA-ASSAM-250' });

export const CreateProductSchema = z
  .strictObject({
    name: NameSchema.openapi({ example: 'Assam tea, 250 g' }),
    sku: SkuSchema,
    price: MoneySchema,
    stock: StockSchema,
    sellerId: ObjectIdSchema.optional().openapi({ description: 'Required when an admin creates the product' }),
  })
  .openapi('CreateProductRequest');
export type CreateProductInput = z.infer<typeof CreateProductSchema>;

export const UpdateProductSchema = z
  .strictObject({ name: NameSchema.optional(), price: MoneySchema.optional(), stock: StockSchema.optional() })
  .refine((body) => Object.keys(body).length > 0, { message: 'send at least one of name, price, stock' })
  .openapi('UpdateProductRequest');
export type UpdateProductInput = z.infer<typeof UpdateProductSchema>;

export const ListProductsQuerySchema = z.object({
  sellerId: ObjectIdSchema.optional(),
  // Control characters match nothing a product is named, and a NUL cannot go into a regex (BSON refuses it).
  search: z
    .string()
    .trim()
    .max(100)
    .apply(matching(NO_CONTROL_CHARS, 'must not contain control characters'))
    .optional(),
  ...PageQuerySchema,
});
export type ListProductsQuery = z.infer<typeof ListProductsQuerySchema>;

export const ProductSchema = z
  .object({
    id: z.string(),
    sellerId: z.string(),
    sellerName: z
      .string()
      .openapi({ description: "The seller's shop name (or name); `Unknown seller` if the account is gone" }),
    name: z.string(),
    sku: z.string(),
    price: z.number().int(),
    currency: z.string(),
    stock: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Product');

export const ProductPageSchema = pageOf(ProductSchema, 'ProductPage');
