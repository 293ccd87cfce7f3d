import { preferences } from "./preferences";

const NUMBER = new Intl.NumberFormat("en-US");

export const n = (value: number | null | undefined) => NUMBER.format(value ?? 0);

export function plural(count: number, one: string, many = `${one}s`) {
  return `${n(count)} ${count === 1 ? one : many}`;
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, "0")} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  // In the zone the reader chose in Preferences, or this browser's own.
  const zone = preferences().timeZone;
  return date.toLocaleString(undefined, zone ? { timeZone: zone, timeZoneName: "short" } : undefined);
}

/** "5 min ago", "in 3 h": for times near now. */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const diff = t - now;
  const text = duration(Math.abs(diff)).replace(/ \d+ (s|min)$/, "");
  if (Math.abs(diff) < 45_000) return "just now";
  return diff < 0 ? `${text} ago` : `in ${text}`;
}

export const shortId = (id: string) => id.slice(0, 8);
