import { createRoute, z } from '@hono/zod-openapi';
import { QUEUE_NAMES } from '../../jobs/queues.js';
import { bearerAuth, json, problems } from '../../lib/openapi.js';
import { ORDER_JOB_NAMES, PER_VERSION_JOBS, type OrderJobName } from '../../order-flow/order-jobs.js';

const tags = ['jobs'];
const security = bearerAuth;

const HEX_ID = '[0-9a-f]{24}';
/**
 * The ids `orderJobId` and `invoiceJobId` make: `<name>_<orderId>`, with the
 * order version for jobs that follow each change, with the delivery for invoices.
 */
const ORDER_JOB_ID = new RegExp(
  `^(?:${ORDER_JOB_NAMES.map((name) => {
    if (name === 'create-invoice') return `${name}_${HEX_ID}_${HEX_ID}`;
    return PER_VERSION_JOBS.has(name) ? `${name}_${HEX_ID}_[1-9][0-9]{0,9}` : `${name}_${HEX_ID}`;
  }).join('|')})$`,
);

export const JobParamsSchema = z.object({
  id: z
    .string()
    .regex(ORDER_JOB_ID, 'expected an order job id, e.g. create-invoice_<orderId>_<deliveryId>')
    .openapi({
      param: { name: 'id', in: 'path' },
      example: 'create-invoice_665f1c2e8b3f4a0012345678_665f1c2e8b3f4a00123456ab',
    }),
});

export const JOB_STATES = ['waiting', 'delayed', 'active', 'completed', 'failed', 'unknown'] as const;

export const JobSchema = z
  .object({
    id: z.string(),
    queue: z.enum(QUEUE_NAMES),
    name: z.enum(ORDER_JOB_NAMES as [OrderJobName, ...OrderJobName[]]),
    state: z.enum(JOB_STATES).openapi({
      description:
        '`delayed` includes waiting for a retry; `failed` means out of retries or given up (owed work that ' +
        'failed is sent again by the reconciler); `waiting` also covers owed work that Redis lost and the ' +
        'reconciler will send again.',
    }),
    progress: z.union([z.number(), z.record(z.string(), z.unknown())]),
    attemptsMade: z.number().int().openapi({ description: '0 when the job is no longer in Redis' }),
    result: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'What a completed job produced, e.g. `{ invoiceId, invoiceNumber }`' }),
    failedReason: z.string().optional(),
    timestamps: z.object({
      createdAt: z.string().optional(),
      processedAt: z.string().optional(),
      finishedAt: z.string().optional(),
    }),
  })
  .openapi('Job');

export const getJobRoute = createRoute({
  method: 'get',
  path: '/jobs/{id}',
  operationId: 'getJob',
  tags,
  security,
  summary: "A queued job's state (the `Location` of a 202), for whoever may see the job's order",
  request: { params: JobParamsSchema },
  responses: {
    200: json(JobSchema, 'The job'),
    ...problems(400, 401, 403, 404, 429, 503),
  },
});
