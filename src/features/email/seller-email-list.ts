import type { ListSellerEmailsQuery } from './email.schemas.js';
import { SellerEmail, type SellerEmailDoc } from './seller-email.model.js';

const iso = (date: Date | undefined) => (date ? new Date(date).toISOString() : undefined);

export function toPublicSellerEmail(email: SellerEmailDoc) {
  return {
    id: email._id,
    sellerId: email.sellerId.toHexString(),
    ...(email.to ? { to: email.to } : {}),
    state: email.state,
    orderNumbers: email.orderNumbers ?? [],
    attempts: email.attempts ?? 0,
    ...(email.error ? { error: email.error } : {}),
    createdAt: iso(email.createdAt)!,
    ...(email.lastAttemptAt ? { lastAttemptAt: iso(email.lastAttemptAt) } : {}),
    ...(email.sentAt ? { sentAt: iso(email.sentAt) } : {}),
    ...(email.failedAt ? { failedAt: iso(email.failedAt) } : {}),
  };
}

/**
 * The emails sellers were sent, newest first, for staff and admins. On
 * FerretDB this reads the whole `selleremails` collection (one small document
 * per email sent): an operator's occasional look, not a hot path.
 */
export async function listSellerEmails(query: ListSellerEmailsQuery) {
  const filter = {
    ...(query.state ? { state: query.state } : {}),
    ...(query.sellerId ? { sellerId: query.sellerId } : {}),
  };
  const [total, docs] = await Promise.all([
    SellerEmail.countDocuments(filter),
    SellerEmail.find(filter)
      .sort({ createdAt: -1, _id: -1 })
      .skip((query.page - 1) * query.limit)
      .limit(query.limit)
      .lean<SellerEmailDoc[]>(),
  ]);
  return {
    data: docs.map(toPublicSellerEmail),
    page: query.page,
    limit: query.limit,
    total,
    totalPages: Math.ceil(total / query.limit),
  };
}
