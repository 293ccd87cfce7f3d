import { Link } from "react-router";
import { useIntegrationName, useJobs } from "../api/hooks";
import { JOB_KINDS, JOB_STATUSES, TRIGGERS, type Job, type JobFilters } from "../api/types";
import { IntegrationName } from "../components/IntegrationName";
import { JobActions } from "../components/JobActions";
import { JobProgress } from "../components/Progress";
import { StatusBadge } from "../components/StatusBadge";
import { FilterBar, QueryPanel, Table, useUrlFilters } from "../components/DataTable";
import { DateFilter, IntegrationSelect, LoadMore, SelectFilter } from "../components/FilterControls";
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

const JOB_COLUMNS = [
  { header: "Job", width: "w-28" },
  { header: "Integration", width: "w-44" },
  { header: "Status", width: "w-28" },
  { header: "Progress" },
  { header: "Created", width: "w-32" },
  { header: "Duration", width: "w-32" },
  { header: "Actions", width: "w-40" },
] as const;

/** The jobs table of the Jobs page and of an integration's page: columns that fit 1280 px. */
export function JobTable({ jobs, integrationName, className = "" }: {
  jobs: Job[];
  integrationName: (id: string) => string;
  className?: string;
}) {
  return (
    <Table columns={JOB_COLUMNS} className={className}>
      {jobs.map((job) => (
        <JobRow key={job.id} job={job} integrationName={integrationName} />
      ))}
    </Table>
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

export function Jobs() {
  const { filters, filtered, change, clear } = useUrlFilters(FILTERS);
  const jobs = useJobs(filters as JobFilters);
  const integrationName = useIntegrationName();
  const live = useLiveState();
  const rows = jobs.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div>
      <div className="flex items-baseline justify-between">
        <h1 className="text-xl font-semibold">Jobs</h1>
        <span className="muted text-xs">
          Newest first · {live === "live" ? "updated live" : live === "polling" ? "read every 5 s" : "connecting"}
        </span>
      </div>
      <div className="mt-3">
        <FilterBar label="Filter the jobs" filtered={filtered} onClear={clear}>
          <SelectFilter label="Status" name="status" value={filters.status ?? ""} options={JOB_STATUSES} onChange={change} />
          <IntegrationSelect value={filters.integration_id ?? ""} onChange={change} />
          <SelectFilter label="Kind" name="kind" value={filters.kind ?? ""} options={JOB_KINDS} onChange={change} />
          <SelectFilter label="Trigger" name="trigger" value={filters.trigger ?? ""} options={TRIGGERS} onChange={change} />
          <DateFilter label="Created from" name="since" value={filters.since ?? ""} onChange={change} />
          <DateFilter label="Created until" name="until" value={filters.until ?? ""} onChange={change} />
        </FilterBar>
      </div>

      <QueryPanel
        className="mt-4"
        query={jobs}
        what="jobs"
        count={rows.length}
        empty={filtered ? "No job matches these filters." : "No jobs yet: a sync started from an integration shows here."}
      >
        <JobTable jobs={rows} integrationName={integrationName} />
      </QueryPanel>
      <LoadMore
        hasMore={jobs.hasNextPage}
        loading={jobs.isFetchingNextPage}
        onMore={() => void jobs.fetchNextPage()}
        label="Load older jobs"
      />
    </div>
  );
}
