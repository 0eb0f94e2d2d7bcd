import type { TargetedMouseEvent } from 'preact';
import { createStore, useStore } from './store';

/**
 * A small history router for the app under /app/: paths in the address bar
 * are real (the API answers index.html for any of them), so a link to
 * /app/orders/<id> opens that order.
 */

export const BASE = '/app';

const currentUrl = () => new URL(location.href);
const url = createStore(currentUrl());

addEventListener('popstate', () => url.set(currentUrl()));

/** The path under /app, e.g. `/orders/123`. */
export function appPath(from: URL): string {
  const path = from.pathname.startsWith(BASE) ? from.pathname.slice(BASE.length) : from.pathname;
  return path === '' ? '/' : path;
}

export function useLocation(): { path: string; query: URLSearchParams } {
  const value = useStore(url);
  return { path: appPath(value), query: value.searchParams };
}

/** Goes to a path under /app (`/orders?status=pending`). */
export function navigate(to: string, options: { replace?: boolean } = {}) {
  const target = `${BASE}${to}`;
  if (options.replace) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  url.set(currentUrl());
  if (!options.replace) scrollTo(0, 0);
}

/** Changes query parameters of the current page (filters, page numbers), keeping the others. */
export function setQuery(changes: Record<string, string | number | undefined>) {
  const next = currentUrl();
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined || value === '') next.searchParams.delete(name);
    else next.searchParams.set(name, String(value));
  }
  history.replaceState(null, '', next);
  url.set(next);
}

/** Same-app links: the history API for plain clicks, the browser's own behaviour for new tabs. */
export function onLinkClick(event: TargetedMouseEvent<HTMLAnchorElement>) {
  const anchor = event.currentTarget;
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  if (anchor.target || !anchor.pathname.startsWith(BASE) || anchor.origin !== location.origin) return;
  event.preventDefault();
  navigate(`${appPath(new URL(anchor.href))}${anchor.search}`);
}
