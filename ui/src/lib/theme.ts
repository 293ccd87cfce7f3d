// Light, dark or the system's: the choice is kept in localStorage (a preference, not a secret).

import { useSyncExternalStore } from "react";

export type Theme = "light" | "dark" | "system";
export const THEME_STORAGE = "pulse-etl.console.theme";

function stored(): Theme {
  try {
    const value = localStorage.getItem(THEME_STORAGE);
    return value === "light" || value === "dark" ? value : "system";
  } catch {
    return "system";
  }
}

let current: Theme = stored();
const listeners = new Set<() => void>();

function systemDark(): boolean {
  return typeof window.matchMedia === "function" && window.matchMedia("(prefers-color-scheme: dark)").matches;
}

export function applyTheme(theme: Theme = current) {
  const dark = theme === "dark" || (theme === "system" && systemDark());
  document.documentElement.classList.toggle("dark", dark);
}

export function setTheme(theme: Theme) {
  current = theme;
  try {
    if (theme === "system") localStorage.removeItem(THEME_STORAGE);
    else localStorage.setItem(THEME_STORAGE, theme);
  } catch {
    /* this page only */
  }
  applyTheme(theme);
  listeners.forEach((listener) => listener());
}

/** Follow the system's scheme while the choice is "system". */
export function watchSystemTheme() {
  if (typeof window.matchMedia !== "function") return;
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    if (current === "system") applyTheme();
  });
}

export function useTheme(): Theme {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
  );
}
