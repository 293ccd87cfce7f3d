// The schedule editor: an interval in minutes, or a cron expression read in a time zone. As you type
// (debounced) the API's preview shows the next three runs, computed as the dispatcher computes them,
// or its 422 message.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { keys } from "../../api/cache";
import { useApi, useWriteBlocked } from "../../api/hooks";
import {
  PATH,
  integrationKeys,
  integrationPath,
  scheduleWords,
  type IntegrationFull,
  type ScheduleIn,
  type SchedulePreview,
} from "../../api/integrations";
import { toast } from "../../components/toast";
import { dateTime } from "../../lib/format";

type Mode = "interval" | "cron";

export function useDebounced<T>(value: T, ms = 400): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (what: string) => string[] };
  const zones = intl.supportedValuesOf ? intl.supportedValuesOf("timeZone") : [];
  return ["UTC", ...zones.filter((zone) => zone !== "UTC")];
}

/** The body the preview and PATCH take, or null when the input is not even a schedule yet. */
export function scheduleOf(mode: Mode, minutes: string, cron: string, zone: string): ScheduleIn | null {
  if (mode === "interval") {
    if (!/^\d+$/.test(minutes.trim())) return null;
    return { every_minutes: Number(minutes.trim()) };
  }
  if (!cron.trim()) return null;
  return zone && zone !== "UTC" ? { cron: cron.trim(), timezone: zone } : { cron: cron.trim() };
}

export function ScheduleEditor({ integration }: { integration: IntegrationFull }) {
  const client = useApi();
  const queryClient = useQueryClient();
  const blocked = useWriteBlocked();
  const [mode, setMode] = useState<Mode>(integration.schedule_cron ? "cron" : "interval");
  const [minutes, setMinutes] = useState(String(integration.schedule_interval_minutes ?? 30));
  const [cron, setCron] = useState(integration.schedule_cron ?? "0 6 * * mon-fri");
  const [zone, setZone] = useState(integration.schedule_timezone ?? "UTC");
  const zones = useMemo(timeZones, []);
  const schedule = scheduleOf(mode, minutes, cron, zone);
  const debounced = useDebounced(schedule);
  const settled = JSON.stringify(debounced) === JSON.stringify(schedule);

  const preview = useQuery({
    queryKey: integrationKeys.preview(debounced ?? {}, integration.id),
    queryFn: () =>
      client.request<SchedulePreview>("POST", `${PATH}/schedule-preview`, { body: debounced, query: { integration_id: integration.id } }),
    enabled: debounced !== null && blocked === null,
    retry: false,
    staleTime: 30_000,
  });
  const save = useMutation({
    mutationFn: (body: ScheduleIn | null) => client.request<IntegrationFull>("PATCH", integrationPath(integration.id), { body: { schedule: body } }),
    onSuccess: (result, body) => {
      queryClient.setQueryData(integrationKeys.one(integration.id), result);
      void queryClient.invalidateQueries({ queryKey: keys.integrations });
      toast(body ? `Schedule saved: ${scheduleWords(result)}` : "Schedule removed", { kind: "success" });
    },
    onError: (error) => toast("The schedule was not saved", { description: error instanceof Error ? error.message : String(error), kind: "error" }),
  });

  const hasSchedule = Boolean(integration.schedule_cron || integration.schedule_interval_minutes);
  return (
    <section className="panel space-y-3 p-4" aria-labelledby="schedule-title">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="schedule-title" className="font-semibold">Schedule</h2>
        <span className="muted text-xs">
          Now: {scheduleWords(integration)}
          {hasSchedule && !integration.enabled ? " (disabled: not synced on schedule)" : ""}
          {integration.next_sync_at ? ` · next due ${dateTime(integration.next_sync_at)}` : ""}
        </span>
      </div>
      <fieldset disabled={blocked !== null} className="flex flex-wrap items-end gap-3" title={blocked ?? undefined}>
        <div role="radiogroup" aria-label="Kind of schedule" className="flex gap-3 text-sm">
          <label className="inline-flex items-center gap-1">
            <input type="radio" name="schedule-mode" checked={mode === "interval"} onChange={() => setMode("interval")} /> Every N minutes
          </label>
          <label className="inline-flex items-center gap-1">
            <input type="radio" name="schedule-mode" checked={mode === "cron"} onChange={() => setMode("cron")} /> Cron
          </label>
        </div>
        {mode === "interval" ? (
          <label className="flex flex-col gap-0.5 text-xs font-medium">
            Minutes
            <input className="field w-28" inputMode="numeric" value={minutes} onChange={(e) => setMinutes(e.target.value)} />
          </label>
        ) : (
          <>
            <label className="flex flex-col gap-0.5 text-xs font-medium">
              Cron (minute hour day month weekday)
              <input className="field w-56 font-mono" value={cron} onChange={(e) => setCron(e.target.value)} />
            </label>
            <label className="flex flex-col gap-0.5 text-xs font-medium">
              Time zone
              <select className="field w-56" value={zone} onChange={(e) => setZone(e.target.value)}>
                {zones.map((name) => (
                  <option key={name} value={name}>{name}</option>
                ))}
              </select>
            </label>
          </>
        )}
        <button type="button" className="btn btn-primary" disabled={blocked !== null || !schedule || save.isPending || !preview.isSuccess || !settled}
          title={blocked ?? undefined} onClick={() => save.mutate(schedule)}>
          Save schedule
        </button>
        <button type="button" className="btn" disabled={blocked !== null || !hasSchedule || save.isPending} title={blocked ?? undefined}
          onClick={() => save.mutate(null)}>
          Remove schedule
        </button>
      </fieldset>
      <div aria-live="polite" data-testid="schedule-preview" className="text-sm">
        {blocked ? null : schedule === null ? (
          <p className="text-red-700 dark:text-red-300">{mode === "interval" ? "interval must be a whole number of minutes" : "enter a cron expression"}</p>
        ) : !settled || preview.isPending ? (
          <p className="muted">Working out the next runs…</p>
        ) : preview.isError ? (
          <p role="alert" className="text-red-700 dark:text-red-300">{preview.error.message}</p>
        ) : (
          <div>
            <p>
              <span className="font-medium">{preview.data.summary}</span>
              <span className="muted"> · next runs:</span>
            </p>
            <ol className="mt-1 list-inside list-decimal">
              {preview.data.next_runs.map((run) => (
                <li key={run}>{dateTime(run)}</li>
              ))}
            </ol>
          </div>
        )}
      </div>
    </section>
  );
}
