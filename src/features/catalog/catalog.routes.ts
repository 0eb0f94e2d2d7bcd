import { createRoute } from '@hono/zod-openapi';
import { IdParamsSchema } from '../../lib/http.js';
import { bearerAuth, json, jsonBody, problems } from '../../lib/openapi.js';
import {
  CreateProductSchema,
  ListProductsQuerySchema,
  ProductPageSchema,
  ProductSchema,
  UpdateProductSchema,
} from './catalog.schemas.js';

export const createProductRoute = createRoute({
  method: 'post',
  path: '/products',
  operationId: 'createProduct',
  tags: ['catalog'],
  summary: 'Add a product (seller: own shop; admin: any seller)',
  security: bearerAuth,
  request: { body: jsonBody(CreateProductSchema) },
  responses: { 201: json(ProductSchema, 'The new product'), ...problems(400, 401, 403, 409, 413, 415, 503) },
});

export const listProductsRoute = createRoute({
  method: 'get',
  path: '/products',
  operationId: 'listProducts',
  tags: ['catalog'],
  summary: 'List and search products',
  security: bearerAuth,
  request: { query: ListProductsQuerySchema },
  responses: { 200: json(ProductPageSchema, 'One page of products, newest first'), ...problems(400, 401, 503) },
});

export const getProductRoute = createRoute({
  method: 'get',
  path: '/products/{id}',
  operationId: 'getProduct',
  tags: ['catalog'],
  summary: 'One product',
  security: bearerAuth,
  request: { params: IdParamsSchema },
  responses: { 200: json(ProductSchema, 'The product'), ...problems(400, 401, 404, 503) },
});

export const updateProductRoute = createRoute({
  method: 'patch',
  path: '/products/{id}',
  operationId: 'updateProduct',
  tags: ['catalog'],
  summary: "Change a product's name, price or stock (owner seller, admin)",
  security: bearerAuth,
  request: { params: IdParamsSchema, body: jsonBody(UpdateProductSchema) },
  responses: { 200: json(ProductSchema, 'The updated product'), ...problems(400, 401, 403, 404, 413, 415, 503) },
});
