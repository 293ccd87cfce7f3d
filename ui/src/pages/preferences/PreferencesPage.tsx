import { useMemo, type ReactNode } from "react";
import { dateTime } from "../../lib/format";
import {
  browserTimeZone,
  PAGE_SIZES,
  setPreferences,
  timeZoneChoices,
  usePreferences,
  type PageSize,
} from "../../lib/preferences";
import { setTheme, useTheme, type Theme } from "../../lib/theme";

function Row({ id, label, hint, children }: { id: string; label: string; hint: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-[12rem_1fr] items-start gap-4 border-t border-slate-100 py-4 first:border-t-0 dark:border-slate-800">
      <label htmlFor={id} className="pt-1 text-sm font-medium">
        {label}
      </label>
      <div>
        {children}
        <p className="muted mt-1 text-xs">{hint}</p>
      </div>
    </div>
  );
}

export function PreferencesPage() {
  const theme = useTheme();
  const prefs = usePreferences();
  const zones = useMemo(() => timeZoneChoices(prefs.timeZone), [prefs.timeZone]);
  const browserZone = browserTimeZone();
  // dateTime() reads the preferences when it runs: this render follows a change of zone.
  const now = dateTime(new Date().toISOString());
  return (
    <div className="max-w-3xl">
      <h1 className="text-xl font-semibold">Preferences</h1>
      <p className="muted mt-1 text-sm">
        Kept in this browser only (its local storage), for every key signed in here; nothing is sent to the API. Another
        browser or a private window starts from the defaults.
      </p>
      <div className="panel mt-4 px-4">
        <Row id="pref-theme" label="Colour theme" hint="System follows your operating system's light or dark setting.">
          <select id="pref-theme" className="field" value={theme} onChange={(event) => setTheme(event.target.value as Theme)}>
            <option value="system">System</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </Row>
        <Row id="pref-zone" label="Time zone for display" hint={`Dates and times in the console are shown in this zone. Now: ${now}`}>
          <select
            id="pref-zone"
            className="field max-w-full"
            value={prefs.timeZone}
            onChange={(event) => setPreferences({ timeZone: event.target.value })}
          >
            <option value="">This browser's zone ({browserZone})</option>
            {zones.map((zone) => (
              <option key={zone} value={zone}>
                {zone}
              </option>
            ))}
          </select>
        </Row>
        <Row id="pref-page-size" label="Rows per page" hint="How many rows a list loads at a time (jobs, raw data, …).">
          <select
            id="pref-page-size"
            className="field"
            value={prefs.pageSize}
            onChange={(event) => setPreferences({ pageSize: Number(event.target.value) as PageSize })}
          >
            {PAGE_SIZES.map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
          </select>
        </Row>
      </div>
    </div>
  );
}
