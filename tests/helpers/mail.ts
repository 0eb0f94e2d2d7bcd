import { io as connect, type Socket } from 'socket.io-client';
import { freePort, mailServer, type MailServerOptions } from '../../scripts/embedded-services.js';

/** A message as the local mail server (scripts/mail-server.ts) received it. */
export interface ReceivedMail {
  id: number;
  messageId?: string;
  from?: string;
  to: string[];
  subject?: string;
  text?: string;
  html?: string;
}

/** The local mail server `npm start` uses, as a real process on free ports. */
export async function startMailServer(options: Partial<MailServerOptions> = {}) {
  const server = mailServer({ smtpPort: await freePort(), webPort: await freePort(), ...options });
  await server.start();
  return server;
}

/** What the mail server counts: messages kept, messages being held before acceptance, 451 answers given. */
export async function mailStatus(webUrl: string): Promise<{ received: number; holding: number; tempFailed: number }> {
  return (await fetch(`${webUrl}/api/status`)).json() as never;
}

/** Everything the mail server at `webUrl` received for `address`. */
export async function mailTo(webUrl: string, address: string): Promise<ReceivedMail[]> {
  const all = (await (await fetch(`${webUrl}/api/messages`)).json()) as ReceivedMail[];
  return all.filter((mail) => mail.to.includes(address));
}

/**
 * A seller's dashboard: connected over Socket.IO, it acknowledges every
 * `order_notification` it gets, replayed (the ack callback) or live
 * (`notification:ack`), as the web app does.
 */
export async function ackingDashboard(url: string, token: string): Promise<{ socket: Socket; acked: string[] }> {
  const socket = connect(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  const acked: string[] = [];
  socket.on('order_notification', (payload: { notificationId: string }, ack?: unknown) => {
    if (typeof ack === 'function') {
      (ack as () => void)();
      acked.push(payload.notificationId);
      return;
    }
    void socket
      .timeout(5_000)
      .emitWithAck('notification:ack', { ids: [payload.notificationId] })
      .then(() => acked.push(payload.notificationId));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => reject(error));
  });
  return { socket, acked };
}
