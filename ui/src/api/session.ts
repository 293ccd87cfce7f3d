// The signed-in key: in this tab's sessionStorage only (gone when the tab closes), as the old
// /dashboard kept it; never in localStorage, a cookie or a URL.

import { useSyncExternalStore } from "react";

export const TOKEN_STORAGE = "pulse-etl.console.token";

interface SessionState {
  token: string | null;
  /** Why the last session ended (the API's 401 message, or "signed out"), shown on the sign-in page. */
  message: string | null;
}

function readStored(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_STORAGE);
  } catch {
    return null;
  }
}

let state: SessionState = { token: readStored(), message: null };
const listeners = new Set<() => void>();

function set(next: SessionState) {
  state = next;
  for (const listener of listeners) listener();
}

export const session = {
  get: () => state,
  token: () => state.token,
  signIn(token: string) {
    try {
      sessionStorage.setItem(TOKEN_STORAGE, token);
    } catch {
      /* kept in memory for this page only */
    }
    set({ token, message: null });
  },
  signOut(message: string | null = null) {
    try {
      sessionStorage.removeItem(TOKEN_STORAGE);
    } catch {
      /* nothing stored */
    }
    set({ token: null, message });
  },
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  /** Tests: read the storage again. */
  reload() {
    set({ token: readStored(), message: null });
  },
};

export function useSession(): SessionState {
  return useSyncExternalStore(session.subscribe, session.get, session.get);
}
