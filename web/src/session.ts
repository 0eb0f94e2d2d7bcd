import { setToken, signOut as apiSignOut, whenSessionEnds } from './api';
import { createStore } from './store';
import type { User } from './types';

/**
 * Who is signed in. The token lives in sessionStorage: it lasts as long as
 * the tab, and each tab signs in on its own. A 401 on a request made with it
 * (expired, or revoked: signed out elsewhere, password or role changed) ends
 * the session with a message saying so.
 */

export interface Session {
  token: string;
  user: User;
}

const KEY = 'orders.session';

function restore(): Session | null {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
    return saved?.token && saved.user ? saved : null;
  } catch {
    return null;
  }
}

export const session = createStore<Session | null>(restore());
/** Why the last session ended, shown on the sign-in page. */
export const sessionNotice = createStore<string | null>(null);

setToken(session.get()?.token);
session.subscribe((value) => {
  setToken(value?.token);
  if (value) sessionStorage.setItem(KEY, JSON.stringify(value));
  else sessionStorage.removeItem(KEY);
});

export function startSession(value: Session) {
  sessionNotice.set(null);
  session.set(value);
}

export function endSession(notice: string) {
  if (!session.get()) return;
  sessionNotice.set(notice);
  session.set(null);
}

whenSessionEnds(endSession);

export async function signOut() {
  // Best effort: the token is forgotten here whatever the API answers.
  await apiSignOut().catch(() => undefined);
  sessionNotice.set('You are signed out.');
  session.set(null);
}
