import { useCallback, useEffect, useState } from 'preact/hooks';
import { deliveriesToday, orderStats } from '../api';
import { OrderList } from '../components/order-list';
import { ErrorMessage } from '../components/ui';
import { money, shownCurrency } from '../format';
import { notices } from '../notices';
import { useReconnect, useSocketEvent } from '../realtime';
import { useStore } from '../store';
import type { OrderStats, TodaysDeliveries } from '../types';

export function MyOrdersPage() {
  return (
    <section>
      <h1>My orders</h1>
      <OrderList show="seller" allowCancel />
    </section>
  );
}

export function SellerDashboardPage() {
  const { unread } = useStore(notices);
  return (
    <section>
      <div class="page-head">
        <h1>Dashboard</h1>
        <p class="muted" aria-live="polite">
          {unread === 0 ? 'No unread notifications' : `${unread} unread notification${unread === 1 ? '' : 's'}`}
        </p>
      </div>
      <Counters />
      <OrderList show="customer" />
    </section>
  );
}

export function StaffPage() {
  return (
    <section>
      <div class="page-head">
        <h1>All orders</h1>
        <p class="links">
          <a href="/docs">API reference</a> · <a href="/admin/queues">Queues</a>
        </p>
      </div>
      <Counters />
      <OrderList show="both" sellerFilter />
    </section>
  );
}

/** The order counters and today's deliveries, read again when an order changes (at most every 2 s). */
function Counters() {
  const [stats, setStats] = useState<OrderStats | null>(null);
  const [today, setToday] = useState<TodaysDeliveries | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [stale, setStale] = useState(0);
  const load = useCallback(() => {
    Promise.all([orderStats(), deliveriesToday()]).then(([s, t]) => {
      setStats(s);
      setToday(t);
      setError(null);
    }, setError);
  }, []);
  useEffect(load, [load]);
  useReconnect(load);
  useEffect(() => {
    if (!stale) return undefined;
    const timer = setTimeout(load, 2_000);
    return () => clearTimeout(timer);
  }, [stale, load]);
  const changed = () => setStale((n) => n + 1);
  useSocketEvent('order:created', changed);
  useSocketEvent('order:progress-updated', changed);

  if (error) return <ErrorMessage error={error} />;
  if (!stats) return null;
  const cards: Array<[string, number | string]> = [
    ['Open', stats.openOrders],
    ['In progress', stats.inProgressOrders],
    ['Completed', stats.completedOrders],
    ['Cancelled', stats.cancelledOrders],
    ['Unpaid', stats.unpaidOrders],
    ['All orders', stats.totalOrders],
  ];
  return (
    <div class="counters">
      <dl class="stats" aria-label="Order counters">
        {cards.map(([label, value]) => (
          <div key={label} class="stat">
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {today && (
        <p class="muted today">
          Today's deliveries: {today.count} ({today.pending} pending, {today.dispatched} dispatched, {today.delivered}{' '}
          delivered, {today.failed} failed), worth {money(today.totalValue, shownCurrency())}
        </p>
      )}
    </div>
  );
}
