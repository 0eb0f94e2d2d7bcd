import nodemailer from 'nodemailer';
import type { SellerEmailContent } from './seller-email-content.js';

/** One message as the sender hands it over: the Message-ID is ours, so a resend is the same message. */
export interface OutgoingEmail extends SellerEmailContent {
  to: string;
  messageId: string;
}

export interface Mailer {
  send(email: OutgoingEmail): Promise<{ response: string }>;
  close(): void;
}

/**
 * An SMTP server's answer that a retry cannot change: a 5xx reply (no such
 * mailbox, relaying refused, bad credentials). Anything else, a 4xx reply
 * (greylisting, a full queue) or no answer at all (refused connection,
 * timeout), is worth retrying.
 */
export class PermanentMailError extends Error {
  constructor(
    message: string,
    readonly responseCode: number,
  ) {
    super(message);
    this.name = 'PermanentMailError';
  }
}

export function isPermanentSmtpFailure(error: unknown): error is Error & { responseCode: number } {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

/** Timeouts short enough that a dead server frees the job for its retry, long enough for a slow one. */
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 } as const;

/** The domain of `MAIL_FROM`, for Message-IDs (`<id@domain>`). */
export function mailDomain(from: string): string {
  return /@([^\s<>@]+)>?\s*$/.exec(from)?.[1] ?? 'localhost';
}

/** Sends over `SMTP_URL` (`smtp://user:pass@host:587`, or `smtps://` for TLS from the first byte). */
export function createMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport({ url: smtpUrl, ...TIMEOUTS });
  return {
    async send(email) {
      try {
        const info = await transport.sendMail({
          from,
          to: email.to,
          subject: email.subject,
          text: email.text,
          html: email.html,
          messageId: email.messageId,
        });
        return { response: String(info.response ?? '') };
      } catch (error) {
        if (isPermanentSmtpFailure(error)) throw new PermanentMailError(error.message, error.responseCode);
        throw error;
      }
    },
    close: () => transport.close(),
  };
}
