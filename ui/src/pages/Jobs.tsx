import { Link, useSearchParams } from "react-router";
import { useIntegrationName, useIntegrations, useJobs } from "../api/hooks";
import { JOB_KINDS, JOB_STATUSES, TRIGGERS, type Job, type JobFilters } from "../api/types";
import { IntegrationName } from "../components/IntegrationName";
import { JobActions } from "../components/JobActions";
import { JobProgress } from "../components/Progress";
import { StatusBadge } from "../components/StatusBadge";
import { Empty, ErrorState, Loading } from "../components/States";
import { useLiveState } from "../components/Shell";
import { dateTime, duration, relative, shortId } from "../lib/format";
import { jobError } from "../lib/errors";

const FILTERS = ["status", "integration_id", "kind", "trigger", "since", "until"] as const;

export function elapsed(job: Job, now = Date.now()): string {
  if (job.status === "queued") return `waiting ${duration(now - Date.parse(job.created_at))}`;
  if (!job.started_at) return "—";
  const end = job.finished_at ? Date.parse(job.finished_at) : now;
  return duration(end - Date.parse(job.started_at));
}

/** The jobs table of the Jobs page and of an integration's page: columns that fit 1280 px. */
export function JobTable({ jobs, integrationName, className = "" }: {
  jobs: Job[];
  integrationName: (id: string) => string;
  className?: string;
}) {
  return (
    <table className={`w-full table-fixed border-collapse text-sm ${className}`}>
      <colgroup>
        <col className="w-28" />
        <col className="w-44" />
        <col className="w-28" />
        <col />
        <col className="w-32" />
        <col className="w-32" />
        <col className="w-40" />
      </colgroup>
      <thead className="bg-slate-50 dark:bg-slate-900/60">
        <tr>
          <th scope="col" className="th">Job</th>
          <th scope="col" className="th">Integration</th>
          <th scope="col" className="th">Status</th>
          <th scope="col" className="th">Progress</th>
          <th scope="col" className="th">Created</th>
          <th scope="col" className="th">Duration</th>
          <th scope="col" className="th">Actions</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((job) => (
          <JobRow key={job.id} job={job} integrationName={integrationName} />
        ))}
      </tbody>
    </table>
  );
}

export function JobRow({ job, integrationName }: { job: Job; integrationName: (id: string) => string }) {
  const error = jobError(job);
  return (
    <tr className="border-t border-slate-100 dark:border-slate-800" data-job={job.id}>
      <td className="td">
        <Link className="link font-mono text-xs" to={`/jobs/${job.id}`} title={job.id}>
          {shortId(job.id)}
        </Link>
        <div className="muted text-xs">
          {job.kind} · {job.trigger}
        </div>
      </td>
      <td className="td truncate">
        <IntegrationName id={job.integration_id} fallback={integrationName(job.integration_id)} />
      </td>
      <td className="td">
        <StatusBadge status={job.status} />
      </td>
      <td className="td">
        <JobProgress job={job} />
        {error && (
          <div className="mt-1 line-clamp-2 text-xs break-words text-red-700 dark:text-red-300" title={error}>
            {error}
          </div>
        )}
      </td>
      <td className="td text-xs whitespace-nowrap" title={dateTime(job.created_at)}>
        {relative(job.created_at)}
      </td>
      <td className="td text-xs whitespace-nowrap tabular-nums">{elapsed(job)}</td>
      <td className="td">
        <JobActions job={job} />
      </td>
    </tr>
  );
}

function Select(props: {
  label: string;
  name: string;
  value: string;
  options: readonly (string | [string, string])[];
  onChange: (name: string, value: string) => void;
}) {
  return (
    <label className="flex flex-col gap-0.5 text-xs font-medium">
      {props.label}
      <select className="field" value={props.value} onChange={(event) => props.onChange(props.name, event.target.value)}>
        <option value="">All</option>
        {props.options.map((option) => {
          const [value, text] = typeof option === "string" ? [option, option] : option;
          return (
            <option key={value} value={value}>
              {text}
            </option>
          );
        })}
      </select>
    </label>
  );
}

export function Jobs() {
  const [params, setParams] = useSearchParams();
  const filters: JobFilters = {};
  for (const name of FILTERS) {
    const value = params.get(name);
    if (value) filters[name] = value;
  }
  const filtered = Object.keys(filters).length > 0;
  const jobs = useJobs(filters);
  const integrations = useIntegrations();
  const integrationName = useIntegrationName();
  const live = useLiveState();

  const change = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };

  const rows = jobs.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <div>
      <div className="flex items-baseline justify-between">
        <h1 className="text-xl font-semibold">Jobs</h1>
        <span className="muted text-xs">
          Newest first · {live === "live" ? "updated live" : live === "polling" ? "read every 5 s" : "connecting"}
        </span>
      </div>
      <div role="group" aria-label="Filter the jobs" className="mt-3 flex flex-wrap items-end gap-3">
        <Select label="Status" name="status" value={filters.status ?? ""} options={JOB_STATUSES} onChange={change} />
        <Select
          label="Integration"
          name="integration_id"
          value={filters.integration_id ?? ""}
          options={(integrations.data ?? []).map((integration) => [integration.id, integration.name] as [string, string])}
          onChange={change}
        />
        <Select label="Kind" name="kind" value={filters.kind ?? ""} options={JOB_KINDS} onChange={change} />
        <Select label="Trigger" name="trigger" value={filters.trigger ?? ""} options={TRIGGERS} onChange={change} />
        <label className="flex flex-col gap-0.5 text-xs font-medium">
          Created from
          <input type="date" className="field" value={filters.since ?? ""} onChange={(event) => change("since", event.target.value)} />
        </label>
        <label className="flex flex-col gap-0.5 text-xs font-medium">
          Created until
          <input type="date" className="field" value={filters.until ?? ""} onChange={(event) => change("until", event.target.value)} />
        </label>
        {filtered && (
          <button type="button" className="btn" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
            Clear filters
          </button>
        )}
      </div>

      <div className="panel mt-4 overflow-hidden">
        {jobs.isPending ? (
          <Loading what="jobs" />
        ) : jobs.isError ? (
          <div className="p-4">
            <ErrorState title="Could not read the jobs" error={jobs.error} onRetry={() => void jobs.refetch()} />
          </div>
        ) : rows.length === 0 ? (
          <Empty>{filtered ? "No job matches these filters." : "No jobs yet: a sync started from an integration shows here."}</Empty>
        ) : (
          <JobTable jobs={rows} integrationName={integrationName} />
        )}
      </div>
      {jobs.hasNextPage && (
        <div className="mt-3 flex justify-center">
          <button type="button" className="btn" disabled={jobs.isFetchingNextPage} onClick={() => void jobs.fetchNextPage()}>
            {jobs.isFetchingNextPage ? "Loading older jobs…" : "Load older jobs"}
          </button>
        </div>
      )}
    </div>
  );
}
