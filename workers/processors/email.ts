import { createMailer } from '../../src/features/email/mailer.js';
import {
  SEND_SELLER_EMAIL,
  SellerEmailJobSchema,
  sendSellerEmail,
} from '../../src/features/email/seller-email.service.js';
import { defineJob } from '../../src/jobs/registry.js';
import type { WorkerContext } from '../context.js';

export const emailJobs = (ctx: WorkerContext) => {
  const mailer = ctx.config.SMTP_URL ? createMailer(ctx.config.SMTP_URL, ctx.config.MAIL_FROM) : undefined;
  return [
    defineJob({
      queue: 'email',
      name: SEND_SELLER_EMAIL,
      payload: SellerEmailJobSchema,
      run: (job) => sendSellerEmail({ ...ctx, mailer }, job),
    }),
  ];
};
