import { useCallback, useEffect, useState } from 'preact/hooks';
import { cancelOrder, listOrders } from '../api';
import { dateTime, money, paymentLabel } from '../format';
import { useReconnect, useSocketEvent } from '../realtime';
import { setQuery, useLocation } from '../router';
import type { Order, OrderStatus, Page } from '../types';
import { ErrorMessage, Link, Loading, Pagination, ProgressBar, StatusBadge } from './ui';

/**
 * A live list of orders, scoped by the API to who is asking (a customer's
 * own, a seller's own, everyone's for staff). Filters and page live in the
 * address, so a filtered view can be bookmarked. New orders appear at the top
 * of the first page and changes land in place as their events arrive.
 */

const FILTERS: Array<{ label: string; statuses: OrderStatus[] }> = [
  { label: 'All', statuses: [] },
  { label: 'New', statuses: ['pending'] },
  { label: 'Confirmed', statuses: ['confirmed'] },
  { label: 'On the way', statuses: ['in_progress', 'shipped', 'partial_delivered'] },
  { label: 'Delivered', statuses: ['delivered', 'completed'] },
  { label: 'Cancelled', statuses: ['cancelled'] },
];

const PAGE_SIZE = 10;

export function OrderList({
  show,
  allowCancel = false,
  sellerFilter = false,
}: {
  show: 'customer' | 'seller' | 'both';
  allowCancel?: boolean;
  sellerFilter?: boolean;
}) {
  const { query } = useLocation();
  const status = query.get('status') ?? '';
  const search = query.get('search') ?? '';
  const sellerId = query.get('sellerId') ?? '';
  const page = Number(query.get('page') ?? '1') || 1;
  const [result, setResult] = useState<Page<Order> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [typed, setTyped] = useState(search);
  const [typedSeller, setTypedSeller] = useState(sellerId);

  const load = useCallback(() => {
    let current = true;
    listOrders({
      status: status || undefined,
      search: search || undefined,
      sellerId: sellerId || undefined,
      page,
      limit: PAGE_SIZE,
    }).then(
      (page) => {
        if (!current) return;
        setResult(page);
        setError(null);
      },
      (caught: unknown) => current && setError(caught),
    );
    return () => {
      current = false;
    };
  }, [status, search, sellerId, page]);

  useEffect(load, [load]);
  useReconnect(load);

  useEffect(() => {
    if (typed.trim() === search) return undefined;
    const timer = setTimeout(() => setQuery({ search: typed.trim() || undefined, page: undefined }), 350);
    return () => clearTimeout(timer);
  }, [typed, search]);

  const wanted = status ? status.split(',') : [];
  const replace = (order: Order) =>
    setResult(
      (current) =>
        current && {
          ...current,
          data: current.data.map((o) => (o.id === order.id && order.version >= o.version ? order : o)),
        },
    );

  useSocketEvent<{ order: Order }>('order:created', ({ order }) => {
    const matches =
      page === 1 &&
      !search &&
      (!sellerId || order.seller.id === sellerId) &&
      (!wanted.length || wanted.includes(order.status));
    if (!matches) return;
    setResult((current) => {
      if (!current || current.data.some((o) => o.id === order.id)) return current;
      const total = current.total + 1;
      return {
        ...current,
        data: [order, ...current.data].slice(0, current.limit),
        total,
        totalPages: Math.ceil(total / current.limit),
      };
    });
    setFresh((ids) => new Set(ids).add(order.id));
  });
  useSocketEvent<{ order: Order }>('order:updated', ({ order }) => replace(order));
  useSocketEvent<{ order: Order }>('order:payment-updated', ({ order }) => replace(order));
  useSocketEvent<{ order: Order }>('delivery:created', ({ order }) => replace(order));
  useSocketEvent<{ orderId: string; progress: number; status: OrderStatus }>('order:progress-updated', (event) =>
    setResult(
      (current) =>
        current && {
          ...current,
          data: current.data.map((o) =>
            o.id === event.orderId ? { ...o, progress: event.progress, status: event.status } : o,
          ),
        },
    ),
  );

  const [cancelError, setCancelError] = useState<unknown>(null);
  async function cancel(order: Order) {
    if (!confirm(`Cancel order ${order.orderNumber}?`)) return;
    setCancelError(null);
    try {
      replace(await cancelOrder(order.id));
    } catch (caught) {
      setCancelError(caught);
    }
  }

  return (
    <div class="order-list">
      <div class="filters" role="group" aria-label="Filter by status">
        {FILTERS.map((filter) => {
          const value = filter.statuses.join(',');
          return (
            <button
              key={filter.label}
              type="button"
              class="chip"
              aria-pressed={value === status}
              onClick={() => setQuery({ status: value || undefined, page: undefined })}
            >
              {filter.label}
            </button>
          );
        })}
      </div>
      <form
        role="search"
        class="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          setQuery({ search: typed.trim() || undefined, sellerId: typedSeller.trim() || undefined, page: undefined });
        }}
      >
        <label class="visually-hidden" for="order-search">
          Search orders
        </label>
        <input
          id="order-search"
          type="search"
          placeholder="Order number, customer name, phone or email"
          value={typed}
          onInput={(event) => setTyped((event.target as HTMLInputElement).value)}
        />
        {sellerFilter && (
          <>
            <label class="visually-hidden" for="seller-filter">
              Seller id
            </label>
            <input
              id="seller-filter"
              placeholder="Seller id"
              value={typedSeller}
              onInput={(event) => setTypedSeller((event.target as HTMLInputElement).value)}
            />
          </>
        )}
        <button class="button button--ghost" type="submit">
          Search
        </button>
      </form>
      <ErrorMessage error={error ?? cancelError} />
      {!result && !error && <Loading what="Loading orders" />}
      {result && result.data.length === 0 && <p class="muted">No orders here yet.</p>}
      {result && result.data.length > 0 && (
        <ul class="orders" aria-label="Orders">
          {result.data.map((order) => (
            <li
              key={order.id}
              class={`card order-row${fresh.has(order.id) ? ' order-row--new' : ''}`}
              data-order-id={order.id}
              data-status={order.status}
            >
              <div class="order-row__main">
                <Link to={`/orders/${order.id}`} class="order-row__number">
                  {order.orderNumber}
                </Link>
                {fresh.has(order.id) && <span class="badge badge--new">New</span>}
                <StatusBadge status={order.status} />
              </div>
              <div class="order-row__meta">
                {(show === 'customer' || show === 'both') && (
                  <span>
                    {order.customer.name}
                    {order.customer.phone ? ` · ${order.customer.phone}` : ''}
                  </span>
                )}
                {(show === 'seller' || show === 'both') && <span>from {order.seller.name}</span>}
                <span>{money(order.totalAmount, order.currency)}</span>
                <span>{paymentLabel(order.paymentStatus)}</span>
                <span class="muted">{dateTime(order.createdAt)}</span>
              </div>
              <ProgressBar value={order.progress} label={`Delivery progress of ${order.orderNumber}`} />
              {allowCancel && ['pending', 'confirmed'].includes(order.status) && (
                <button type="button" class="button button--link" onClick={() => void cancel(order)}>
                  Cancel order {order.orderNumber}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {result && (
        <p class="muted" aria-live="polite">
          {result.total} order{result.total === 1 ? '' : 's'}
        </p>
      )}
      {result && (
        <Pagination
          label="Order pages"
          page={result.page}
          totalPages={result.totalPages}
          onPage={(next) => setQuery({ page: next })}
        />
      )}
    </div>
  );
}
