// The reader's display preferences: time zone and page size, kept in this browser's localStorage
// (preferences, not secrets). The theme has its own store (lib/theme.ts) because it must apply
// before the first paint.

import { useSyncExternalStore } from "react";

export const PAGE_SIZES = [25, 50, 100, 200] as const;
export type PageSize = (typeof PAGE_SIZES)[number];

export interface Preferences {
  /** An IANA zone to show times in; "" for this browser's own zone. */
  timeZone: string;
  /** Rows per page in the console's tables. */
  pageSize: PageSize;
}

export const PREFERENCES_STORAGE = "pulse-etl.console.preferences";
export const DEFAULT_PREFERENCES: Preferences = { timeZone: "", pageSize: 50 };

/** A zone the browser knows (Intl accepts it), else false. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** What is stored, with anything unreadable or stale replaced by its default. */
export function parsePreferences(text: string | null): Preferences {
  let raw: Partial<Record<keyof Preferences, unknown>> = {};
  try {
    const value: unknown = text ? JSON.parse(text) : {};
    if (value && typeof value === "object") raw = value as typeof raw;
  } catch {
    /* defaults */
  }
  const timeZone = typeof raw.timeZone === "string" && (raw.timeZone === "" || isTimeZone(raw.timeZone)) ? raw.timeZone : "";
  const pageSize = PAGE_SIZES.find((size) => size === raw.pageSize) ?? DEFAULT_PREFERENCES.pageSize;
  return { timeZone, pageSize };
}

function stored(): Preferences {
  try {
    return parsePreferences(localStorage.getItem(PREFERENCES_STORAGE));
  } catch {
    return DEFAULT_PREFERENCES;
  }
}

let current: Preferences = stored();
const listeners = new Set<() => void>();

export const preferences = (): Preferences => current;

export function setPreferences(change: Partial<Preferences>) {
  current = parsePreferences(JSON.stringify({ ...current, ...change }));
  try {
    localStorage.setItem(PREFERENCES_STORAGE, JSON.stringify(current));
  } catch {
    /* this page only */
  }
  listeners.forEach((listener) => listener());
}

export function usePreferences(): Preferences {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
  );
}

/** This browser's own zone, e.g. "Europe/Paris" (what "" means). */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** The zones to choose from: the browser's list (Intl.supportedValuesOf), with UTC and the current
 * choice always in it (a zone the list names by an alias stays selectable), sorted. */
export function timeZoneChoices(current = "", supported: () => string[] = () => Intl.supportedValuesOf("timeZone")): string[] {
  let zones: string[];
  try {
    zones = supported();
  } catch {
    zones = [];
  }
  const all = new Set(zones);
  all.add("UTC");
  if (current) all.add(current);
  return [...all].sort((a, b) => a.localeCompare(b));
}
