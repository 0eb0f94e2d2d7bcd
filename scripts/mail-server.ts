/**
 * A local SMTP server with a web mail UI, for `npm start` (when SMTP_URL is
 * unset) and the email tests: smtp-server takes the mail, mailparser reads
 * it, and a small page lists it. Messages live in memory (the last 500).
 *
 *   tsx scripts/mail-server.ts --smtp-port 1025 --web-port 1080
 *
 * Web: `/` the inbox, `/messages/<n>` one message (its HTML in a sandboxed
 * frame), `/api/messages` the same as JSON, `DELETE /api/messages` empties it,
 * `/api/status` counts. For tests that need an unhappy server:
 * `--reject-recipients <regex>` answers 550 to matching recipients,
 * `--temp-failures <n>` answers 451 to the first n messages, and
 * `--hold-ms <n>` waits that long before accepting each message (a message
 * whose client hung up meanwhile is not kept: it was never accepted).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

const { values: args } = parseArgs({
  options: {
    'smtp-port': { type: 'string', default: '1025' },
    'web-port': { type: 'string', default: '1080' },
    host: { type: 'string', default: '127.0.0.1' },
    'reject-recipients': { type: 'string' },
    'temp-failures': { type: 'string', default: '0' },
    'hold-ms': { type: 'string', default: '0' },
  },
});

interface StoredMessage {
  id: number;
  messageId?: string;
  from?: string;
  to: string[];
  subject?: string;
  date: string;
  text?: string;
  html?: string;
}

const MAX_MESSAGES = 500;
const messages: StoredMessage[] = [];
let nextId = 1;
let holding = 0;
let tempFailed = 0;
let tempFailuresLeft = Number(args['temp-failures']);
const holdMs = Number(args['hold-ms']);
const rejectRecipients = args['reject-recipients'] ? new RegExp(args['reject-recipients']) : undefined;
const closedSessions = new Set<string>();

const smtpError = (message: string, responseCode: number) => Object.assign(new Error(message), { responseCode });

const smtp = new SMTPServer({
  // Local and plain: any credentials are accepted, no TLS.
  authOptional: true,
  allowInsecureAuth: true,
  disabledCommands: ['STARTTLS'],
  size: 10 * 1024 * 1024,
  logger: false,
  onAuth: (auth, _session, callback) => callback(null, { user: auth.username ?? 'anyone' }),
  onRcptTo(address, _session, callback) {
    if (rejectRecipients?.test(address.address)) {
      return callback(smtpError(`mailbox ${address.address} unavailable`, 550));
    }
    callback();
  },
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => void accept(Buffer.concat(chunks), session, callback));
  },
  onClose: (session) => {
    closedSessions.add(session.id);
  },
});
smtp.on('error', (error) => process.stderr.write(`[mail] SMTP error: ${error.message}\n`));

async function accept(raw: Buffer, session: SMTPServerSession, callback: (error?: Error | null) => void) {
  if (tempFailuresLeft > 0) {
    tempFailuresLeft--;
    tempFailed++;
    return callback(smtpError('try again later', 451));
  }
  if (holdMs > 0) {
    holding++;
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    holding--;
    if (closedSessions.has(session.id)) return;
  }
  try {
    const parsed = await simpleParser(raw);
    messages.push({
      id: nextId++,
      ...(parsed.messageId ? { messageId: parsed.messageId } : {}),
      ...(parsed.from?.text ? { from: parsed.from.text } : {}),
      to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
      ...(parsed.subject ? { subject: parsed.subject } : {}),
      date: new Date().toISOString(),
      ...(parsed.text ? { text: parsed.text } : {}),
      ...(typeof parsed.html === 'string' ? { html: parsed.html } : {}),
    });
    if (messages.length > MAX_MESSAGES) messages.shift();
    callback();
  } catch (error) {
    callback(smtpError(`could not read the message: ${(error as Error).message}`, 554));
  }
}

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:.4rem;border-bottom:1px solid #ddd}pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}
iframe{width:100%;height:32rem;border:1px solid #ddd}</style></head><body>${body}</body></html>`;

function inbox(): string {
  const rows = [...messages]
    .reverse()
    .map(
      (m) =>
        `<tr><td>${escape(m.date)}</td><td>${escape(m.to.join(', '))}</td>` +
        `<td><a href="/messages/${m.id}">${escape(m.subject ?? '(no subject)')}</a></td></tr>`,
    )
    .join('');
  return page(
    'Local mail',
    `<meta http-equiv="refresh" content="5"><h1>Local mail</h1>
<p>Everything sent to the SMTP server on port ${escape(args['smtp-port'])} (newest first; kept in memory, the last ${MAX_MESSAGES}).</p>
<table><tr><th>received</th><th>to</th><th>subject</th></tr>${rows || '<tr><td colspan="3">nothing yet</td></tr>'}</table>`,
  );
}

function message(m: StoredMessage): string {
  const headers = [
    ['From', m.from ?? ''],
    ['To', m.to.join(', ')],
    ['Subject', m.subject ?? ''],
    ['Message-ID', m.messageId ?? ''],
    ['Received', m.date],
  ]
    .map(([name, value]) => `<tr><th>${name}</th><td>${escape(value!)}</td></tr>`)
    .join('');
  return page(
    m.subject ?? 'Message',
    `<p><a href="/">← inbox</a></p><table>${headers}</table>
${m.html ? `<h2>HTML</h2><iframe sandbox srcdoc="${escape(m.html)}"></iframe>` : ''}
<h2>Text</h2><pre>${escape(m.text ?? '')}</pre>`,
  );
}

function answer(res: ServerResponse, status: number, type: string, body: string) {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
  res.end(body);
}

const web = createServer((req: IncomingMessage, res: ServerResponse) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method === 'GET' && path === '/') return answer(res, 200, 'text/html', inbox());
  if (req.method === 'GET' && path === '/api/messages') {
    return answer(res, 200, 'application/json', JSON.stringify(messages));
  }
  if (req.method === 'DELETE' && path === '/api/messages') {
    messages.length = 0;
    return answer(res, 200, 'application/json', '{"deleted":true}');
  }
  if (req.method === 'GET' && path === '/api/status') {
    return answer(res, 200, 'application/json', JSON.stringify({ received: messages.length, holding, tempFailed }));
  }
  const match = /^\/messages\/(\d+)$/.exec(path);
  const found = match && messages.find((m) => m.id === Number(match[1]));
  if (req.method === 'GET' && found) return answer(res, 200, 'text/html', message(found));
  answer(res, 404, 'text/plain', 'not found');
});

smtp.listen(Number(args['smtp-port']), args.host, () => {
  web.listen(Number(args['web-port']), args.host, () => {
    process.stdout.write(
      `[mail] SMTP on ${args.host}:${args['smtp-port']}, web UI on http://${args.host}:${args['web-port']}/\n`,
    );
  });
});

const stop = () => {
  web.close();
  smtp.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
