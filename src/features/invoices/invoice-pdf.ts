import PDFDocument from 'pdfkit';
import { fontFor, invoiceFonts, latinAscent, scriptRuns, type InvoiceFont } from './invoice-fonts.js';
import type { PublicInvoice } from './invoices.service.js';

/** Digits after the decimal point of the currency's minor unit (2 for INR, 0 for JPY). */
function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2; // not a code Intl knows: cents, as everywhere else
  }
}

/** Integer minor units as a printable amount with its currency code: `INR 1,234.50`. */
export function formatMoney(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  const major = new Intl.NumberFormat('en-IN', { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(
    minor / 10 ** digits,
  );
  return `${currency} ${major}`;
}

/** The currency's own sign (₹ for INR), when it has one other than its code. */
function currencySign(currency: string): string | undefined {
  try {
    const parts = new Intl.NumberFormat('en-IN', { style: 'currency', currency, currencyDisplay: 'narrowSymbol' });
    const sign = parts.formatToParts(0).find((part) => part.type === 'currency')?.value;
    return sign && sign !== currency ? sign : undefined;
  } catch {
    return undefined;
  }
}

const LEFT = 50;
const RIGHT = 545; // A4 is 595 points wide; 50 of margin on each side
const BOTTOM = 842 - 60;

interface Cell {
  x: number;
  width: number;
  align?: 'left' | 'right';
  bold?: boolean;
  size?: number;
}

/**
 * Writes one piece of text at (x, y), each script run in its font, and returns
 * the y below it. Mixed-script text is set left-aligned: pdfkit aligns only
 * within one `text` call.
 */
function writeText(doc: PDFKit.PDFDocument, text: string, y: number, cell: Cell): number {
  const runs = scriptRuns(text);
  const size = cell.size ?? 10;
  doc.fontSize(size);
  if (runs.length === 0) return y;
  const bold = cell.bold ?? false;
  const options = {
    width: cell.width,
    align: runs.length === 1 ? (cell.align ?? 'left') : 'left',
    baseline: -latinAscent() * size, // pdfkit: a number is the baseline's offset from the top of the line
  } as const;
  runs.forEach((run, i) => {
    doc.font(fontFor(run.script, bold));
    const continued = i < runs.length - 1;
    if (i === 0) doc.text(run.text, cell.x, y, { ...options, continued });
    else doc.text(run.text, { baseline: options.baseline, continued });
  });
  return doc.y;
}

/** Writes several lines (an address) one under the other. */
function writeLines(doc: PDFKit.PDFDocument, text: string, y: number, cell: Cell): number {
  return text.split(/\r?\n/).reduce((top, line) => writeText(doc, line, top, cell), y);
}

function rule(doc: PDFKit.PDFDocument, y: number) {
  doc.moveTo(LEFT, y).lineTo(RIGHT, y).lineWidth(0.5).strokeColor('#999999').stroke();
}

// Item, SKU, then the right-aligned numbers: quantity, price, amount.
const COLUMNS: Cell[] = [
  { x: LEFT, width: 170 },
  { x: 225, width: 80 },
  { x: 305, width: 45, align: 'right' },
  { x: 355, width: 90, align: 'right' },
  { x: 450, width: RIGHT - 450, align: 'right' },
];
// Totals end where the amount column ends; each is one string ("Amount due: INR 1,469.12"), so text
// extraction and search find label and amount together.
const TOTALS: Cell = { x: 200, width: RIGHT - 200, align: 'right' };

/** A printable A4 invoice: issuer, customer, lines, totals and the payments received. */
export function renderInvoicePdf(invoice: PublicInvoice): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: LEFT,
    info: { Title: invoice.invoiceNumber, Author: invoice.seller.name },
  });
  for (const [name, data] of Object.entries(invoiceFonts())) doc.registerFont(name as InvoiceFont, data);
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const money = (minor: number) => formatMoney(minor, invoice.currency);

  // Header: the seller on the left, the invoice's numbers on the right.
  const sellerBlock: Cell = { x: LEFT, width: 270 };
  let left = writeText(doc, invoice.seller.name, LEFT, { ...sellerBlock, bold: true, size: 14 });
  if (invoice.seller.address) left = writeLines(doc, invoice.seller.address, left + 2, sellerBlock);
  if (invoice.seller.taxId) {
    const label = invoice.currency === 'INR' ? 'GSTIN' : 'Tax ID';
    left = writeText(doc, `${label}: ${invoice.seller.taxId}`, left + 2, sellerBlock);
  }
  const numbers: Cell = { x: 330, width: RIGHT - 330, align: 'right' };
  let right = writeText(doc, 'Invoice', LEFT, { ...numbers, bold: true, size: 20 });
  right = writeText(doc, invoice.invoiceNumber, right, numbers);
  right = writeText(doc, `Issued ${invoice.issuedAt.slice(0, 10)}`, right, numbers);
  right = writeText(doc, `Order ${invoice.orderNumber}`, right, numbers);
  if (invoice.deliveryNumber) right = writeText(doc, `Delivery ${invoice.deliveryNumber}`, right, numbers);

  let y = Math.max(left, right) + 20;
  y = writeText(doc, 'Bill to:', y, { x: LEFT, width: 300, bold: true });
  y = writeText(doc, invoice.customer.name, y, { x: LEFT, width: 300 });
  y = writeLines(doc, invoice.customer.deliveryAddress, y, { x: LEFT, width: 300 });
  const sign = currencySign(invoice.currency);
  y = writeText(doc, `Amounts in ${invoice.currency}${sign ? ` (${sign})` : ''}`, y + 10, { x: LEFT, width: 300 });

  const row = (cells: string[], bold = false) => {
    if (y > BOTTOM) {
      doc.addPage();
      y = LEFT;
    }
    const bottoms = cells.map((text, i) => writeText(doc, text, y, { ...COLUMNS[i]!, bold }));
    y = Math.max(...bottoms) + 4;
  };
  y += 16;
  row(['Item', 'SKU', 'Qty', 'Price', 'Amount'], true);
  rule(doc, y - 2);
  y += 2;
  for (const line of invoice.lines)
    row([line.name, line.sku, String(line.quantity), money(line.price), money(line.amount)]);
  rule(doc, y);
  y += 8;

  const total = (label: string, amount: number, bold = false) => {
    if (y > BOTTOM) {
      doc.addPage();
      y = LEFT;
    }
    y = writeText(doc, `${label} ${money(amount)}`, y, { ...TOTALS, bold }) + 2;
  };
  total('Total:', invoice.total, true);
  if (invoice.advanceApplied) total('Advance applied:', invoice.advanceApplied);
  for (const payment of invoice.payments) {
    const how = `${payment.method}${payment.reference ? `, ${payment.reference}` : ''}`;
    total(`Paid ${payment.paidAt.slice(0, 10)} (${how}):`, payment.amount);
  }
  total('Amount paid:', invoice.amountPaid);
  total('Amount due:', invoice.amountDue, true);
  doc.end();
  return done;
}
