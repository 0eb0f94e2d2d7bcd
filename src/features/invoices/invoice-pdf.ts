import PDFDocument from 'pdfkit';
import type { PublicInvoice } from './invoices.service.js';

/** Minor units as a printable amount with its currency code (the standard PDF fonts have no ₹ glyph). */
export function formatMoney(minor: number, currency: string): string {
  const major = new Intl.NumberFormat('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(
    minor / 100,
  );
  return `${currency} ${major}`;
}

/** A printable A4 invoice: issuer, customer, lines, totals and the payments received. */
export function renderInvoicePdf(invoice: PublicInvoice): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    info: { Title: invoice.invoiceNumber, Author: invoice.seller.name },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const money = (minor: number) => formatMoney(minor, invoice.currency);

  doc.fontSize(20).text('Invoice', { align: 'right' });
  doc.fontSize(10).text(invoice.invoiceNumber, { align: 'right' });
  doc.text(`Issued ${invoice.issuedAt.slice(0, 10)}`, { align: 'right' });
  doc.text(`Order ${invoice.orderNumber}`, { align: 'right' });
  doc.moveDown();
  doc.fontSize(12).text(invoice.seller.name);
  doc.moveDown();
  doc.fontSize(10).text('Bill to:');
  doc.text(invoice.customer.name);
  doc.text(invoice.customer.deliveryAddress);
  doc.moveDown();

  const columns = [50, 250, 330, 380, 470];
  const row = (cells: string[], bold = false) => {
    const y = doc.y;
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica');
    cells.forEach((cell, i) => doc.text(cell, columns[i]!, y, { width: (columns[i + 1] ?? 545) - columns[i]! - 5 }));
    doc.moveDown(0.5);
  };
  row(['Item', 'SKU', 'Qty', 'Price', 'Amount'], true);
  for (const line of invoice.lines)
    row([line.name, line.sku, String(line.quantity), money(line.price), money(line.amount)]);
  doc.moveDown();
  doc.x = 50;
  doc.font('Helvetica-Bold').text(`Total: ${money(invoice.total)}`, { align: 'right' });
  doc.font('Helvetica');
  if (invoice.advanceApplied) doc.text(`Advance applied: ${money(invoice.advanceApplied)}`, { align: 'right' });
  for (const payment of invoice.payments) {
    doc.text(
      `Paid ${payment.paidAt.slice(0, 10)} (${payment.method}${payment.reference ? `, ${payment.reference}` : ''}): ${money(payment.amount)}`,
      {
        align: 'right',
      },
    );
  }
  doc.text(`Amount paid: ${money(invoice.amountPaid)}`, { align: 'right' });
  doc.font('Helvetica-Bold').text(`Amount due: ${money(invoice.amountDue)}`, { align: 'right' });
  doc.end();
  return done;
}
