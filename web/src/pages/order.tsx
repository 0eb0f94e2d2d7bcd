import { useCallback, useEffect, useState } from 'preact/hooks';
import {
  ApiError,
  cancelOrder,
  confirmOrder,
  createDelivery,
  getOrder,
  invoicePdf,
  listDeliveries,
  listInvoices,
  payInvoice,
  requestInvoice,
  setDeliveryStatus,
  shipOrder,
  type FieldErrors,
} from '../api';
import { ErrorMessage, Field, Link, Loading, ProgressBar, StatusBadge } from '../components/ui';
import { date, dateTime, minorDigits, money, parseMoney, paymentLabel, todayIso } from '../format';
import { useReconnect, useSocketEvent } from '../realtime';
import { session } from '../session';
import { useStore } from '../store';
import {
  PAYMENT_METHODS,
  type Delivery,
  type DeliveryStatus,
  type Invoice,
  type Order,
  type OrderStatus,
  type PaymentMethod,
} from '../types';

/**
 * One order, live: its status, progress and remaining quantities change as
 * the events arrive. Customers see it and may cancel it while allowed; the
 * seller (and staff) manage it from here: confirm, ship, partial deliveries,
 * invoices and payments.
 */
export function OrderPage({ id }: { id: string }) {
  const user = useStore(session)?.user;
  const [order, setOrder] = useState<Order | null>(null);
  const [deliveries, setDeliveries] = useState<Delivery[]>([]);
  const [invoices, setInvoices] = useState<Invoice[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const update = useCallback(
    (next: Order) => setOrder((current) => (current && current.version > next.version ? current : next)),
    [],
  );
  const loadDeliveries = useCallback(
    () =>
      listDeliveries(id).then(
        (r) => setDeliveries(r.data),
        () => undefined,
      ),
    [id],
  );
  const loadInvoices = useCallback(
    () =>
      listInvoices(id).then(
        (r) => setInvoices(r.data),
        () => undefined,
      ),
    [id],
  );
  const load = useCallback(() => {
    setError(null);
    getOrder(id).then(setOrder, setError);
    void loadDeliveries();
    void loadInvoices();
  }, [id, loadDeliveries, loadInvoices]);

  useEffect(load, [load]);
  useReconnect(load);

  const mine = (event: { orderId?: string; order?: Order }) => (event.order?.id ?? event.orderId) === id;
  useSocketEvent<{ order: Order }>('order:updated', (e) => mine(e) && update(e.order));
  useSocketEvent<{ order: Order }>('order:payment-updated', (e) => {
    if (!mine(e)) return;
    update(e.order);
    void loadInvoices();
  });
  useSocketEvent<{ orderId: string; progress: number; status: OrderStatus }>('order:progress-updated', (e) => {
    if (mine(e)) setOrder((o) => o && { ...o, progress: e.progress, status: e.status });
  });
  useSocketEvent<{ delivery: Delivery; order: Order }>('delivery:created', (e) => {
    if (!mine(e)) return;
    update(e.order);
    setDeliveries((list) => (list.some((d) => d.id === e.delivery.id) ? list : [...list, e.delivery]));
  });
  useSocketEvent<{ deliveryId: string; status: DeliveryStatus }>('delivery:status-updated', (e) => {
    if (deliveries.some((d) => d.id === e.deliveryId)) void loadDeliveries();
  });
  useSocketEvent<{ invoice: Invoice }>('invoice:generated', (e) => {
    if (e.invoice.orderId === id) void loadInvoices();
  });

  if (error) return <ErrorMessage error={error} />;
  if (!order || !user) return <Loading what="Loading the order" />;

  const manager = user.role !== 'customer';
  const isOwnerSeller = user.role === 'seller' && order.seller.id === user.id;
  const remainingUnits = order.items.reduce((sum, item) => sum + item.remainingQuantity, 0);
  const open = !['cancelled', 'completed', 'delivered'].includes(order.status);
  const delivered = order.items.some((item) => item.deliveredQuantity > 0);
  const canCancel =
    !delivered &&
    open &&
    (user.role === 'customer' ? ['pending', 'confirmed'].includes(order.status) : user.role !== 'staff');

  async function act(name: string, run: () => Promise<void>) {
    if (busy) return;
    setBusy(name);
    setActionError(null);
    try {
      await run();
    } catch (caught) {
      setActionError(caught);
    } finally {
      setBusy(null);
    }
  }

  return (
    <article class="order-page">
      <div class="page-head">
        <h1>
          Order {order.orderNumber} <StatusBadge status={order.status} />
        </h1>
        <Link to={user.role === 'customer' ? '/orders' : user.role === 'seller' ? '/dashboard' : '/staff'}>
          ← All orders
        </Link>
      </div>
      <div class="columns">
        <section class="card" aria-labelledby="summary">
          <h2 id="summary" class="card__title">
            Summary
          </h2>
          <dl class="facts">
            <dt>Status</dt>
            <dd data-testid="order-status">
              <StatusBadge status={order.status} />
            </dd>
            <dt>Progress</dt>
            <dd>
              <ProgressBar value={order.progress} label="Delivery progress" />
            </dd>
            <dt>Total</dt>
            <dd>{money(order.totalAmount, order.currency)}</dd>
            <dt>Payment</dt>
            <dd>
              {paymentLabel(order.paymentStatus)} ({money(order.paidAmount, order.currency)} paid, cash on delivery)
            </dd>
            <dt>Placed</dt>
            <dd>{dateTime(order.createdAt)}</dd>
            {order.estimatedDelivery && (
              <>
                <dt>Estimated delivery</dt>
                <dd data-testid="estimated-delivery">{date(order.estimatedDelivery)}</dd>
              </>
            )}
            <dt>Seller</dt>
            <dd>{order.seller.name}</dd>
            <dt>Customer</dt>
            <dd>
              {order.customer.name}
              {manager && (
                <>
                  <br />
                  <a href={`mailto:${order.customer.email}`}>{order.customer.email}</a>
                  {order.customer.phone && (
                    <>
                      {' · '}
                      <a href={`tel:${order.customer.phone}`}>{order.customer.phone}</a>
                    </>
                  )}
                </>
              )}
            </dd>
            <dt>Deliver to</dt>
            <dd class="pre">{order.customer.deliveryAddress}</dd>
            {order.notes && (
              <>
                <dt>Notes</dt>
                <dd class="pre">{order.notes}</dd>
              </>
            )}
            {order.cancelReason && (
              <>
                <dt>Cancelled because</dt>
                <dd>{order.cancelReason}</dd>
              </>
            )}
          </dl>
          {order.inventoryStatus === 'short' && (
            <p class="warning">Some items were short in stock when the order was placed.</p>
          )}
          {canCancel && (
            <button
              type="button"
              class="button button--danger"
              disabled={busy !== null}
              onClick={() =>
                confirm(`Cancel order ${order.orderNumber}?`) &&
                void act('cancel', async () => update(await cancelOrder(order.id)))
              }
            >
              Cancel order
            </button>
          )}
        </section>

        <section class="card" aria-labelledby="items">
          <h2 id="items" class="card__title">
            Items
          </h2>
          <div class="table-wrap">
            <table class="table" data-testid="items">
              <thead>
                <tr>
                  <th scope="col">Product</th>
                  <th scope="col">Ordered</th>
                  <th scope="col">Delivered</th>
                  <th scope="col">Remaining</th>
                  <th scope="col">Amount</th>
                </tr>
              </thead>
              <tbody>
                {order.items.map((item) => (
                  <tr key={item.productId} data-product-id={item.productId}>
                    <th scope="row">
                      {item.name}
                      <br />
                      <small class="muted">{item.sku}</small>
                    </th>
                    <td>{item.quantity}</td>
                    <td data-testid="delivered">{item.deliveredQuantity}</td>
                    <td data-testid="remaining">{item.remainingQuantity}</td>
                    <td>{money(item.subtotal, order.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      </div>

      <ErrorMessage error={actionError} />

      {isOwnerSeller && order.status === 'pending' && (
        <ConfirmForm order={order} busy={busy !== null} onConfirmed={update} />
      )}
      {isOwnerSeller && open && order.status !== 'pending' && remainingUnits > 0 && (
        <section class="card">
          <h2 class="card__title">Ship</h2>
          <p class="muted">Dispatches everything that remains as one delivery.</p>
          <button
            type="button"
            class="button button--primary"
            disabled={busy !== null}
            onClick={() =>
              void act('ship', async () => {
                const result = await shipOrder(order.id);
                update(result.order);
                setDeliveries((list) => [...list.filter((d) => d.id !== result.delivery.id), result.delivery]);
              })
            }
          >
            {busy === 'ship' ? 'Shipping…' : 'Ship everything remaining'}
          </button>
        </section>
      )}
      {manager && open && order.status !== 'pending' && remainingUnits > 0 && (
        <DeliveryForm
          order={order}
          onCreated={(delivery, next) => {
            update(next);
            setDeliveries((list) => [...list.filter((d) => d.id !== delivery.id), delivery]);
          }}
        />
      )}

      <Deliveries
        order={order}
        deliveries={deliveries}
        invoices={invoices}
        manager={manager}
        onChanged={(delivery, next) => {
          update(next);
          setDeliveries((list) => list.map((d) => (d.id === delivery.id ? delivery : d)));
        }}
        onInvoice={(invoice) => setInvoices((list) => [...list.filter((i) => i.id !== invoice.id), invoice])}
        reloadInvoices={loadInvoices}
      />

      {invoices.length > 0 && (
        <Invoices
          invoices={invoices}
          manager={manager}
          onPaid={(next, invoice) => {
            update(next);
            if (invoice) setInvoices((list) => list.map((i) => (i.id === invoice.id ? invoice : i)));
          }}
        />
      )}
    </article>
  );
}

function ConfirmForm({ order, busy, onConfirmed }: { order: Order; busy: boolean; onConfirmed: (o: Order) => void }) {
  const [estimate, setEstimate] = useState('');
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<unknown>(null);
  const [sending, setSending] = useState(false);
  return (
    <form
      class="card"
      onSubmit={(event) => {
        event.preventDefault();
        if (sending) return;
        setSending(true);
        setError(null);
        setFields({});
        confirmOrder(order.id, estimate || undefined)
          .then(onConfirmed, (caught: unknown) => {
            if (caught instanceof ApiError) setFields(caught.fields);
            setError(caught);
          })
          .finally(() => setSending(false));
      }}
    >
      <h2 class="card__title">Confirm</h2>
      <Field label="Estimated delivery date" error={fields.estimatedDelivery} hint="Optional; the customer sees it.">
        {(a) => (
          <input
            {...a}
            type="date"
            min={todayIso()}
            value={estimate}
            onInput={(e) => setEstimate((e.target as HTMLInputElement).value)}
          />
        )}
      </Field>
      {!fields.estimatedDelivery && <ErrorMessage error={error} />}
      <button class="button button--primary" type="submit" disabled={busy || sending}>
        {sending ? 'Confirming…' : 'Confirm order'}
      </button>
    </form>
  );
}

function DeliveryForm({ order, onCreated }: { order: Order; onCreated: (d: Delivery, o: Order) => void }) {
  const [quantities, setQuantities] = useState<Record<string, string>>({});
  const [scheduled, setScheduled] = useState('');
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<unknown>(null);
  const [sending, setSending] = useState(false);
  const open = order.items.filter((item) => item.remainingQuantity > 0);

  function submit(event: Event) {
    event.preventDefault();
    if (sending) return;
    const items = open
      .map((item) => ({ productId: item.productId, quantity: Math.floor(Number(quantities[item.productId] || 0)) }))
      .filter((item) => item.quantity > 0);
    if (!items.length) {
      setError(new Error('Enter a quantity for at least one item.'));
      return;
    }
    setSending(true);
    setError(null);
    setFields({});
    createDelivery(order.id, { items, ...(scheduled ? { scheduledDate: scheduled } : {}) })
      .then(
        ({ delivery, order: next }) => {
          setQuantities({});
          setScheduled('');
          onCreated(delivery, next);
        },
        (caught: unknown) => {
          if (caught instanceof ApiError) setFields(caught.fields);
          setError(caught);
        },
      )
      .finally(() => setSending(false));
  }

  return (
    <form class="card" onSubmit={submit} aria-labelledby="new-delivery">
      <h2 id="new-delivery" class="card__title">
        New delivery
      </h2>
      <p class="muted">Deliver part of the order: up to what remains of each item.</p>
      <div class="delivery-grid">
        {open.map((item) => (
          <Field key={item.productId} label={`${item.name} (${item.remainingQuantity} remaining)`}>
            {(a) => (
              <input
                {...a}
                type="number"
                min={0}
                max={item.remainingQuantity}
                inputMode="numeric"
                value={quantities[item.productId] ?? ''}
                onInput={(e) =>
                  setQuantities((q) => ({ ...q, [item.productId]: (e.target as HTMLInputElement).value }))
                }
              />
            )}
          </Field>
        ))}
        <Field label="Scheduled date (optional)" error={fields.scheduledDate}>
          {(a) => (
            <input
              {...a}
              type="date"
              value={scheduled}
              onInput={(e) => setScheduled((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
      </div>
      <ErrorMessage error={error} />
      <button class="button" type="submit" disabled={sending}>
        {sending ? 'Creating…' : 'Create delivery'}
      </button>
    </form>
  );
}

const NEXT_STATUSES: Partial<Record<DeliveryStatus, Array<{ status: DeliveryStatus; label: string }>>> = {
  pending: [
    { status: 'dispatched', label: 'Dispatch' },
    { status: 'delivered', label: 'Mark delivered' },
    { status: 'failed', label: 'Mark failed' },
    { status: 'cancelled', label: 'Cancel' },
  ],
  dispatched: [
    { status: 'delivered', label: 'Mark delivered' },
    { status: 'failed', label: 'Mark failed' },
  ],
};

function Deliveries({
  order,
  deliveries,
  invoices,
  manager,
  onChanged,
  onInvoice,
  reloadInvoices,
}: {
  order: Order;
  deliveries: Delivery[];
  invoices: Invoice[];
  manager: boolean;
  onChanged: (delivery: Delivery, order: Order) => void;
  onInvoice: (invoice: Invoice) => void;
  reloadInvoices: () => Promise<void>;
}) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [waiting, setWaiting] = useState<Set<string>>(new Set());
  const names = new Map(order.items.map((item) => [item.productId, item.name]));

  useEffect(() => {
    // The invoice job's event normally ends the wait; reading again covers a missed event.
    if (!waiting.size) return undefined;
    const timer = setInterval(() => void reloadInvoices(), 2_000);
    return () => clearInterval(timer);
  }, [waiting.size, reloadInvoices]);
  useEffect(() => {
    const done = [...waiting].filter((id) => invoices.some((i) => i.deliveryId === id));
    if (done.length) setWaiting((w) => new Set([...w].filter((id) => !done.includes(id))));
  }, [invoices, waiting]);

  async function run(key: string, action: () => Promise<void>) {
    if (busy) return;
    setBusy(key);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(null);
    }
  }

  if (!deliveries.length) return null;
  return (
    <section class="card" aria-labelledby="deliveries">
      <h2 id="deliveries" class="card__title">
        Deliveries
      </h2>
      <ErrorMessage error={error} />
      <ul class="deliveries">
        {deliveries.map((delivery) => {
          const invoice = invoices.find((i) => i.deliveryId === delivery.id);
          return (
            <li key={delivery.id} class="delivery" data-delivery-id={delivery.id}>
              <div class="delivery__head">
                <strong>{delivery.deliveryNumber}</strong> <StatusBadge status={delivery.status} />
                <span class="muted">
                  {money(delivery.value, order.currency)}
                  {delivery.scheduledDate && ` · scheduled ${date(delivery.scheduledDate)}`}
                  {delivery.deliveredAt && ` · delivered ${dateTime(delivery.deliveredAt)}`}
                </span>
              </div>
              <p class="muted">
                {delivery.items
                  .map((item) => `${item.quantity} × ${names.get(item.productId) ?? item.productId}`)
                  .join(', ')}
              </p>
              {manager && (
                <div class="actions">
                  {(NEXT_STATUSES[delivery.status] ?? []).map((next) => (
                    <button
                      key={next.status}
                      type="button"
                      class={
                        next.status === 'failed' || next.status === 'cancelled' ? 'button button--ghost' : 'button'
                      }
                      disabled={busy !== null}
                      aria-label={`${next.label}: ${delivery.deliveryNumber}`}
                      onClick={() =>
                        void run(`${delivery.id}:${next.status}`, async () => {
                          const result = await setDeliveryStatus(delivery.id, next.status);
                          onChanged(result.delivery, result.order);
                        })
                      }
                    >
                      {next.label}
                    </button>
                  ))}
                  {!invoice && !['failed', 'cancelled'].includes(delivery.status) && (
                    <button
                      type="button"
                      class="button button--ghost"
                      disabled={busy !== null || waiting.has(delivery.id)}
                      onClick={() =>
                        void run(`${delivery.id}:invoice`, async () => {
                          const result = await requestInvoice(delivery.id);
                          if (result.invoice) onInvoice(result.invoice);
                          else setWaiting((w) => new Set(w).add(delivery.id));
                        })
                      }
                    >
                      {waiting.has(delivery.id) ? 'Generating invoice…' : 'Generate invoice'}
                    </button>
                  )}
                </div>
              )}
              {invoice && <DownloadInvoice invoice={invoice} />}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function DownloadInvoice({ invoice }: { invoice: Invoice }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function download() {
    setBusy(true);
    setError(null);
    try {
      // Fetched with the Bearer token (a plain link could not send it), then saved from memory.
      const pdf = await invoicePdf(invoice.id);
      const url = URL.createObjectURL(pdf);
      const link = document.createElement('a');
      link.href = url;
      link.download = `${invoice.invoiceNumber}.pdf`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }
  return (
    <p class="invoice-link">
      Invoice <strong>{invoice.invoiceNumber}</strong>{' '}
      <button type="button" class="button button--link" disabled={busy} onClick={() => void download()}>
        Download PDF
      </button>
      <ErrorMessage error={error} />
    </p>
  );
}

function Invoices({
  invoices,
  manager,
  onPaid,
}: {
  invoices: Invoice[];
  manager: boolean;
  onPaid: (order: Order, invoice?: Invoice) => void;
}) {
  return (
    <section class="card" aria-labelledby="invoices">
      <h2 id="invoices" class="card__title">
        Invoices
      </h2>
      <ul class="invoices">
        {invoices.map((invoice) => (
          <li key={invoice.id} class="invoice" data-invoice-id={invoice.id}>
            <div>
              <strong>{invoice.invoiceNumber}</strong> · total {money(invoice.total, invoice.currency)} · paid{' '}
              {money(invoice.amountPaid, invoice.currency)} · due{' '}
              <span data-testid="amount-due">{money(invoice.amountDue, invoice.currency)}</span> ·{' '}
              {paymentLabel(invoice.paymentStatus)}
            </div>
            {manager && invoice.amountDue > 0 && <PaymentForm invoice={invoice} onPaid={onPaid} />}
          </li>
        ))}
      </ul>
    </section>
  );
}

function PaymentForm({ invoice, onPaid }: { invoice: Invoice; onPaid: (order: Order, invoice?: Invoice) => void }) {
  const [amount, setAmount] = useState('');
  const [method, setMethod] = useState<PaymentMethod>('cash');
  const [reference, setReference] = useState('');
  const [fields, setFields] = useState<FieldErrors>({});
  const [error, setError] = useState<unknown>(null);
  const [sending, setSending] = useState(false);
  function submit(event: Event) {
    event.preventDefault();
    if (sending) return;
    const minor = parseMoney(amount, invoice.currency);
    if (minor === undefined || minor <= 0) {
      setFields({ amount: 'Enter an amount such as 250 or 249.50' });
      return;
    }
    setSending(true);
    setFields({});
    setError(null);
    payInvoice(invoice.id, { amount: minor, method, ...(reference.trim() ? { reference: reference.trim() } : {}) })
      .then(
        (result) => {
          setAmount('');
          setReference('');
          onPaid(result.order, result.invoice);
        },
        (caught: unknown) => {
          if (caught instanceof ApiError) setFields(caught.fields);
          setError(caught);
        },
      )
      .finally(() => setSending(false));
  }
  return (
    <form class="payment-form" onSubmit={submit} noValidate>
      <Field label={`Amount (${invoice.currency})`} error={fields.amount}>
        {(a) => (
          <input
            {...a}
            inputMode="decimal"
            placeholder={(invoice.amountDue / 10 ** minorDigits(invoice.currency)).toFixed(
              minorDigits(invoice.currency),
            )}
            value={amount}
            onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
          />
        )}
      </Field>
      <Field label="Method" error={fields.method}>
        {(a) => (
          <select
            {...a}
            value={method}
            onChange={(e) => setMethod((e.target as HTMLSelectElement).value as PaymentMethod)}
          >
            {PAYMENT_METHODS.map((m) => (
              <option key={m} value={m}>
                {m.replace('_', ' ')}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Reference (optional)" error={fields.reference}>
        {(a) => <input {...a} value={reference} onInput={(e) => setReference((e.target as HTMLInputElement).value)} />}
      </Field>
      {!Object.keys(fields).length && <ErrorMessage error={error} />}
      <button class="button" type="submit" disabled={sending}>
        {sending ? 'Recording…' : 'Record payment'}
      </button>
    </form>
  );
}
