// What the mapping pages share: the integration filter (in the URL), write buttons that say why they
// are disabled, the API's refusal next to a form, and what a save started (a toast, and a notice
// with links to the reprocess jobs and their live status).

import { useQuery } from "@tanstack/react-query";
import { useSyncExternalStore, type ReactNode } from "react";
import { Link, useSearchParams } from "react-router";
import { keys } from "../../api/cache";
import { useApi, useIntegrationName, useIntegrations, useWriteBlocked } from "../../api/hooks";
import { reprocessOf, type Reprocess } from "../../api/mappings";
import { ACTIVE_STATUSES, type JobDetail } from "../../api/types";
import { StatusBadge } from "../../components/StatusBadge";
import { toast } from "../../components/toast";
import { plural, shortId } from "../../lib/format";

/** Jira integrations: mappings apply to them only. */
export function useJiraIntegrations() {
  const integrations = useIntegrations();
  return (integrations.data ?? []).filter((integration) => integration.provider === "jira");
}

/** The `integration` search parameter: "" for all. */
export function useIntegrationFilter(): [string, (value: string) => void] {
  const [params, setParams] = useSearchParams();
  const value = params.get("integration") ?? "";
  const set = (next: string) => {
    const copy = new URLSearchParams(params);
    if (next) copy.set("integration", next);
    else copy.delete("integration");
    setParams(copy, { replace: true });
  };
  return [value, set];
}

export function IntegrationFilter({ label = "Integration" }: { label?: string }) {
  const [value, set] = useIntegrationFilter();
  const jira = useJiraIntegrations();
  return (
    <label className="flex items-center gap-2 text-xs font-medium">
      {label}
      <select className="field" value={value} onChange={(event) => set(event.target.value)}>
        <option value="">All</option>
        {jira.map((integration) => (
          <option key={integration.id} value={integration.id}>
            {integration.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** "All integrations" or the integration's name. */
export function useScopeName(): (id: string | null) => string {
  const name = useIntegrationName();
  return (id) => (id ? name(id) : "All integrations");
}

export function ScopeSelect(props: { value: string; onChange: (value: string) => void; label?: string; id?: string }) {
  const jira = useJiraIntegrations();
  return (
    <select
      id={props.id}
      aria-label={props.label ?? "Scope"}
      className="field"
      value={props.value}
      onChange={(event) => props.onChange(event.target.value)}
    >
      <option value="">All integrations</option>
      {jira.map((integration) => (
        <option key={integration.id} value={integration.id}>
          Only {integration.name}
        </option>
      ))}
    </select>
  );
}

/** The API's message when it refused a write, in words beside the form. */
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <p role="alert" className="mt-2 text-sm break-words text-red-700 dark:text-red-300" data-testid="form-error">
      {message}
    </p>
  );
}

/** A button that changes something: disabled with the reason for a read-only key. */
export function WriteButton(props: {
  children: ReactNode;
  onClick?: () => void;
  type?: "button" | "submit";
  className?: string;
  disabled?: boolean;
  label?: string;
  title?: string;
}) {
  const blocked = useWriteBlocked();
  return (
    <span title={blocked ?? undefined}>
      <button
        type={props.type ?? "button"}
        className={`btn ${props.className ?? ""}`}
        disabled={blocked !== null || props.disabled}
        title={blocked ?? props.title}
        aria-label={props.label}
        onClick={props.onClick}
      >
        {props.children}
      </button>
    </span>
  );
}

// --- what the last save started ------------------------------------------------------------------

export interface Announcement {
  id: number;
  what: string;
  reprocess: Reprocess;
}

let last: Announcement | null = null;
let nextId = 1;
const listeners = new Set<() => void>();

export function clearAnnouncement() {
  last = null;
  listeners.forEach((listener) => listener());
}

export function useAnnouncement(): Announcement | null {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => last,
  );
}

/** "Saved — reprocessing 12 items in job 0b9d4c3e": what a save started, in words. */
export function reprocessWords(reprocess: Reprocess, integrationName: (id: string) => string): string {
  const jobs = reprocess.jobs ?? reprocess.started.map((job_id) => ({ job_id, integration_id: "", records: -1 }));
  const parts: string[] = [];
  if (jobs.length) {
    const records = jobs.reduce((sum, job) => sum + Math.max(job.records, 0), 0);
    const known = jobs.every((job) => job.records >= 0);
    const ids = jobs.map((job) => shortId(job.job_id)).join(", ");
    parts.push(`reprocessing ${known ? plural(records, "item") : "the affected items"} in job${jobs.length > 1 ? "s" : ""} ${ids}`);
  }
  if (reprocess.busy.length)
    parts.push(`${reprocess.busy.map(integrationName).join(", ")} ${reprocess.busy.length > 1 ? "are" : "is"} busy: reprocessed when the running job ends`);
  if (!parts.length && !reprocess.failed.length) parts.push("no work item needed reprocessing");
  return `Saved — ${parts.join("; ")}`;
}

/** After a write: a toast in words, and the notice above the page with the jobs' links. */
export function useAnnounce(): (what: string, answer: unknown) => void {
  const integrationName = useIntegrationName();
  return (what, answer) => {
    const reprocess = reprocessOf(answer);
    if (!reprocess) {
      toast(`Saved — ${what}`, { kind: "success" });
      return;
    }
    toast(reprocessWords(reprocess, integrationName), { kind: "success", description: what });
    for (const failure of reprocess.failed)
      toast(`Reprocessing ${integrationName(failure.integration_id)} did not start`, { kind: "error", description: failure.detail });
    last = { id: nextId++, what, reprocess };
    listeners.forEach((listener) => listener());
  };
}

function useLiveJob(id: string) {
  const client = useApi();
  return useQuery({
    queryKey: keys.job(id),
    queryFn: ({ signal }) => client.get<JobDetail>(`/api/v1/etl/jobs/${encodeURIComponent(id)}`, undefined, signal),
    // The events stream keeps it current; this is the fallback while it is down.
    refetchInterval: (query) => (query.state.data && !ACTIVE_STATUSES.includes(query.state.data.status) ? false : 3_000),
  });
}

function JobLink({ id, records }: { id: string; records: number }) {
  const job = useLiveJob(id);
  return (
    <li className="flex flex-wrap items-center gap-2" data-reprocess-job={id}>
      <Link className="link font-mono" to={`/jobs/${id}`} title={`reprocess job ${id}`}>
        job {shortId(id)}
      </Link>
      {records >= 0 && <span className="muted">{plural(records, "item")}</span>}
      {job.data ? <StatusBadge status={job.data.status} /> : <span className="muted">…</span>}
    </li>
  );
}

export function ReprocessNotice() {
  const announcement = useAnnouncement();
  const integrationName = useIntegrationName();
  if (!announcement) return null;
  const { reprocess } = announcement;
  const jobs = reprocess.jobs ?? reprocess.started.map((job_id) => ({ job_id, integration_id: "", records: -1 }));
  return (
    <section aria-label="Last change" className="panel mb-4 flex items-start gap-3 p-3 text-sm" data-testid="reprocess-notice">
      <div className="min-w-0 flex-1">
        <p className="font-medium break-words">
          {reprocessWords(reprocess, integrationName)} <span className="muted font-normal">({announcement.what})</span>
        </p>
        {jobs.length > 0 && <ul className="mt-1 flex flex-col gap-1">{jobs.map((job) => <JobLink key={job.job_id} id={job.job_id} records={job.records} />)}</ul>}
        {reprocess.failed.map((failure) => (
          <p key={failure.job_id} className="mt-1 text-red-700 dark:text-red-300">
            {integrationName(failure.integration_id)}: {failure.detail}
          </p>
        ))}
      </div>
      <button type="button" className="btn px-1.5 py-0" aria-label="Dismiss the notice" onClick={clearAnnouncement}>
        ×
      </button>
    </section>
  );
}

export function PanelHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 px-3 py-2 dark:border-slate-800">
      <h2 className="text-base font-semibold">{title}</h2>
      <div className="flex flex-wrap items-center gap-2">{children}</div>
    </div>
  );
}
