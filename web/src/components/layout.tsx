import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { dateTime } from '../format';
import { alerts, dismissAlert, markAllRead, markRead, notices } from '../notices';
import { connection } from '../realtime';
import { navigate } from '../router';
import { session, signOut } from '../session';
import { beeps, muted, soundReady } from '../sound';
import { useStore } from '../store';
import type { Role } from '../types';
import { Link } from './ui';

const NAV: Record<Role, Array<{ to: string; label: string }>> = {
  customer: [
    { to: '/shop', label: 'Shop' },
    { to: '/checkout', label: 'Cart' },
    { to: '/orders', label: 'My orders' },
  ],
  seller: [
    { to: '/dashboard', label: 'Dashboard' },
    { to: '/products', label: 'Products' },
  ],
  staff: [{ to: '/staff', label: 'Orders' }],
  admin: [
    { to: '/staff', label: 'Orders' },
    { to: '/users', label: 'Accounts' },
  ],
};

export function Layout({ path, children }: { path: string; children: ComponentChildren }) {
  const current = useStore(session);
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar__inner">
          <Link to="/" class="brand">
            Orders
          </Link>
          {current && (
            <nav class="nav" aria-label="Main">
              {NAV[current.user.role].map((item) => (
                <Link key={item.to} to={item.to} aria-current={path.startsWith(item.to) ? 'page' : undefined}>
                  {item.label}
                </Link>
              ))}
            </nav>
          )}
          {current && (
            <div class="topbar__tools">
              <ConnectionIndicator />
              {current.user.role === 'seller' && <SoundToggle />}
              {current.user.role === 'seller' && <Bell />}
              <span class="who" title={current.user.email}>
                {current.user.name} <small>({current.user.role})</small>
              </span>
              <button
                type="button"
                class="button button--ghost"
                title="Ends your sessions on every device"
                onClick={() => void signOut().then(() => navigate('/sign-in'))}
              >
                Sign out
              </button>
            </div>
          )}
        </div>
      </header>
      <Alerts />
      <main id="main" class="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

const CONNECTION_LABELS = {
  online: 'Online',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
} as const;

function ConnectionIndicator() {
  const state = useStore(connection);
  return (
    <span class={`connection connection--${state}`} role="status" data-state={state} title="Live updates">
      <span class="connection__dot" aria-hidden="true" />
      {CONNECTION_LABELS[state]}
    </span>
  );
}

function SoundToggle() {
  const isMuted = useStore(muted);
  const ready = useStore(soundReady);
  const played = useStore(beeps);
  return (
    <button
      type="button"
      class="button button--ghost sound-toggle"
      aria-pressed={!isMuted}
      data-beeps={played}
      title={isMuted ? 'Sound is off' : ready ? 'Sound is on' : 'Sound turns on after your first click or key press'}
      onClick={() => muted.set(!isMuted)}
    >
      <SpeakerIcon muted={isMuted} />
      {isMuted ? 'Sound off' : 'Sound on'}
    </button>
  );
}

function Bell() {
  const { items, unread } = useStore(notices);
  const [open, setOpen] = useState(false);
  const [ringing, setRinging] = useState(false);
  const previous = useRef(unread);
  const panel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (unread > previous.current) {
      setRinging(true);
      const timer = setTimeout(() => setRinging(false), 1_200);
      previous.current = unread;
      return () => clearTimeout(timer);
    }
    previous.current = unread;
    return undefined;
  }, [unread]);

  useEffect(() => {
    if (!open) return undefined;
    const close = (event: Event) => {
      if (event instanceof KeyboardEvent ? event.key === 'Escape' : !panel.current?.contains(event.target as Node))
        setOpen(false);
    };
    document.addEventListener('keydown', close);
    document.addEventListener('pointerdown', close);
    return () => {
      document.removeEventListener('keydown', close);
      document.removeEventListener('pointerdown', close);
    };
  }, [open]);

  return (
    <div class="bell" ref={panel}>
      <button
        type="button"
        class={`button button--ghost bell__button${ringing ? ' bell__button--ringing' : ''}`}
        aria-expanded={open}
        aria-haspopup="true"
        aria-label={`Notifications, ${unread} unread`}
        onClick={() => setOpen(!open)}
      >
        <BellIcon />
        <span class="bell__count" data-testid="unread-count" hidden={unread === 0}>
          {unread}
        </span>
      </button>
      {open && (
        <div class="bell__panel" role="region" aria-label="Notifications">
          <div class="bell__head">
            <strong>Notifications</strong>
            <button
              type="button"
              class="button button--link"
              disabled={unread === 0}
              onClick={() => void markAllRead().catch(() => undefined)}
            >
              Mark all read
            </button>
          </div>
          {items.length === 0 ? (
            <p class="muted">Nothing yet.</p>
          ) : (
            <ul class="bell__list">
              {items.map((item) => (
                <li key={item.id} class={item.read ? 'bell__item' : 'bell__item bell__item--unread'}>
                  <Link
                    to={item.orderId ? `/orders/${item.orderId}` : '/dashboard'}
                    onClick={() => {
                      setOpen(false);
                      void markRead(item.id);
                    }}
                  >
                    <strong>{item.orderNumber}</strong> · {item.customerName} · {item.total}
                    <br />
                    <small>
                      {dateTime(item.createdAt)}
                      {item.missed && ' · while you were away'}
                    </small>
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

function Alerts() {
  const list = useStore(alerts);
  return (
    <div class="alerts" role="status" aria-live="polite">
      {list.map((alert) => (
        <div key={alert.id} class="alert" data-testid="order-alert">
          {alert.orderId ? <Link to={`/orders/${alert.orderId}`}>{alert.text}</Link> : <span>{alert.text}</span>}
          <button type="button" class="alert__close" aria-label="Dismiss" onClick={() => dismissAlert(alert.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

function BellIcon() {
  return (
    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d="M12 3a6 6 0 0 0-6 6v4l-2 3h16l-2-3V9a6 6 0 0 0-6-6Z" />
      <path d="M10 19a2 2 0 0 0 4 0" />
    </svg>
  );
}

function SpeakerIcon({ muted: off }: { muted: boolean }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d="M4 9h4l5-4v14l-5-4H4Z" />
      {off ? <path d="m17 9 5 6m0-6-5 6" /> : <path d="M17 8a5 5 0 0 1 0 8M19.5 5.5a8.5 8.5 0 0 1 0 13" />}
    </svg>
  );
}
