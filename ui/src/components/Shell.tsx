import { useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { NavLink } from "react-router";
import { applyLiveEvent, pollJobs } from "../api/cache";
import { useMe } from "../api/hooks";
import { startLive, type LiveState } from "../api/live";
import { session } from "../api/session";
import { setTheme, useTheme, type Theme } from "../lib/theme";
import { ErrorBoundary } from "./ErrorBoundary";

const LiveContext = createContext<LiveState>("connecting");
export const useLiveState = () => useContext(LiveContext);

/** The one events connection of the app, feeding the query cache; polling while it is down. */
function useLiveUpdates(): LiveState {
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>("connecting");
  useEffect(() => {
    const live = startLive({
      getToken: session.token,
      onEvent: (event) => applyLiveEvent(queryClient, event),
      onPoll: () => pollJobs(queryClient),
      onState: setState,
      onUnauthorized: (message) => session.signOut(message),
    });
    return live.stop;
  }, [queryClient]);
  return state;
}

const LIVE_TEXT: Record<LiveState, [string, string, string]> = {
  connecting: ["Connecting…", "bg-slate-400", "opening the live updates"],
  live: ["Live", "bg-green-500", "jobs update as they change"],
  polling: ["Polling every 5 s", "bg-amber-500", "the live updates are down: reading jobs every 5 s and reconnecting"],
  stopped: ["Offline", "bg-slate-400", "live updates stopped"],
};

function LiveIndicator({ state }: { state: LiveState }) {
  const [text, dot, title] = LIVE_TEXT[state];
  return (
    <span className="muted inline-flex items-center gap-1.5 text-xs" title={title} data-live={state} aria-live="polite">
      <span className={`inline-block size-2 rounded-full ${dot}`} aria-hidden="true" />
      {text}
    </span>
  );
}

function ThemePicker() {
  const theme = useTheme();
  return (
    <label className="muted inline-flex items-center gap-1 text-xs">
      Theme
      <select className="field py-0.5 text-xs" value={theme} onChange={(event) => setTheme(event.target.value as Theme)}>
        <option value="system">System</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}

/** The areas of the console, in the order an admin meets them: connect, map, watch, inspect. */
const NAV: readonly (readonly [string, string])[] = [
  ["/", "Home"],
  ["/integrations", "Integrations"],
  ["/mappings", "Mappings"],
  ["/jobs", "Jobs"],
  ["/raw", "Raw data"],
  ["/data", "Data"],
  ["/queues", "Queues"],
  ["/keys", "API keys"],
  ["/notifications", "Notifications"],
  ["/preferences", "Preferences"],
];

const navClass = ({ isActive }: { isActive: boolean }) =>
  `rounded-md px-2.5 py-1 text-sm font-medium ${
    isActive
      ? "bg-slate-200 text-slate-900 dark:bg-slate-800 dark:text-white"
      : "text-slate-600 hover:text-slate-900 dark:text-slate-300 dark:hover:text-white"
  }`;

export function Shell({ children }: { children: ReactNode }) {
  const me = useMe();
  const live = useLiveUpdates();
  const readOnly = !me.scopes.includes("write");
  return (
    <LiveContext.Provider value={live}>
      <header className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
        <div className="mx-auto flex max-w-[1400px] flex-wrap items-center gap-x-6 gap-y-2 px-5 py-2.5">
          <span className="font-semibold">pulse-etl</span>
          <nav aria-label="Main" className="flex flex-wrap gap-1">
            {NAV.map(([to, label]) => (
              <NavLink key={to} to={to} end={to === "/"} className={navClass}>
                {label}
              </NavLink>
            ))}
          </nav>
          <div className="ml-auto flex flex-wrap items-center gap-4">
            <LiveIndicator state={live} />
            <span className="text-sm" data-testid="tenant">
              <span className="muted">Tenant </span>
              <strong>{me.tenant_name}</strong>
              {readOnly && (
                <span className="ml-2 rounded bg-amber-100 px-1.5 py-0.5 text-xs text-amber-900 dark:bg-amber-900/40 dark:text-amber-200" title="this key is read-only: it can look but not change anything">
                  read-only
                </span>
              )}
            </span>
            <ThemePicker />
            <button type="button" className="btn" onClick={() => session.signOut("Signed out.")}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-[1400px] px-5 py-5">
        <ErrorBoundary>{children}</ErrorBoundary>
      </main>
    </LiveContext.Provider>
  );
}
