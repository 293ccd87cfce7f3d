import type { ReactNode } from "react";
import { Link } from "react-router";
import { useOverview, type IntegrationFreshness, type Overview } from "../api/overview";
import { JOB_STATUSES } from "../api/types";
import { StatusBadge } from "../components/StatusBadge";
import { Table } from "../components/DataTable";
import { Empty, ErrorState, Loading } from "../components/States";
import { dateTime, n, plural, relative } from "../lib/format";

function NumberCard({ label, value, to, hint }: { label: string; value: number; to?: string; hint?: string }) {
  const body = (
    <>
      <div className="muted text-xs font-semibold tracking-wide uppercase">{label}</div>
      <div className="mt-1 text-2xl font-semibold tabular-nums">{n(value)}</div>
      {hint && <div className="muted mt-0.5 text-xs">{hint}</div>}
    </>
  );
  return (
    <li>
      {to ? (
        <Link to={to} className="panel block h-full p-4 hover:border-blue-500" data-card={label}>
          {body}
        </Link>
      ) : (
        <div className="panel h-full p-4" data-card={label}>
          {body}
        </div>
      )}
    </li>
  );
}

function Numbers({ data }: { data: Overview }) {
  return (
    <ul className="grid grid-cols-2 gap-3 lg:grid-cols-4" aria-label="Loaded data">
      <NumberCard label="Work items" value={data.work_items} to="/data" hint="loaded from Jira" />
      <NumberCard label="Pull requests" value={data.pull_requests} to="/data" hint="loaded from GitHub" />
      <NumberCard
        label="Records failed"
        value={data.raw_records_failed}
        to="/raw?status=failed"
        hint={data.raw_records_failed ? "could not be transformed: see why" : "nothing failed"}
      />
      <NumberCard
        label="Unmapped values"
        value={data.unmapped.values}
        to="/mappings/unmapped"
        hint={`${plural(data.unmapped.issue_types, "issue type")}, ${plural(data.unmapped.statuses, "status", "statuses")}`}
      />
    </ul>
  );
}

function When({ iso, empty }: { iso: string | null; empty: string }) {
  if (!iso) return <span className="muted">{empty}</span>;
  return <span title={dateTime(iso)}>{relative(iso)}</span>;
}

function Badge({ children, tone }: { children: ReactNode; tone: "amber" | "slate" | "blue" }) {
  const tones = {
    amber: "bg-amber-100 text-amber-900 dark:bg-amber-900/40 dark:text-amber-200",
    slate: "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300",
    blue: "bg-blue-100 text-blue-900 dark:bg-blue-900/40 dark:text-blue-200",
  };
  return <span className={`rounded px-1.5 py-0.5 text-xs font-medium ${tones[tone]}`}>{children}</span>;
}

function IntegrationRow({ item, graceMinutes }: { item: IntegrationFreshness; graceMinutes: number }) {
  return (
    <tr className="border-t border-slate-100 dark:border-slate-800" data-integration={item.id}>
      <td className="td truncate">
        <Link className="link font-medium" to={`/integrations/${item.id}`} title={item.name}>
          {item.name}
        </Link>
        <div className="muted text-xs">{item.provider}</div>
      </td>
      <td className="td">
        <When iso={item.last_success_at} empty="never" />
      </td>
      <td className="td">
        <When iso={item.next_sync_at} empty={item.enabled ? "no schedule" : "—"} />
      </td>
      <td className="td">
        <div className="flex flex-wrap gap-1">
          {!item.enabled && <Badge tone="slate">disabled</Badge>}
          {item.overdue && (
            <span title={`its scheduled sync is more than ${graceMinutes} min late: is the scheduler (celery beat) running?`}>
              <Badge tone="amber">overdue</Badge>
            </span>
          )}
          {item.active_job_id && (
            <Link to={`/jobs/${item.active_job_id}`} title="its job now">
              <Badge tone="blue">syncing</Badge>
            </Link>
          )}
          {item.enabled && !item.overdue && !item.active_job_id && <span className="muted text-xs">on time</span>}
        </div>
      </td>
    </tr>
  );
}

const FRESHNESS_COLUMNS = [
  { header: "Integration" },
  { header: "Last successful sync", width: "w-48" },
  { header: "Next due", width: "w-48" },
  { header: "Freshness", width: "w-56" },
] as const;

function Integrations({ data }: { data: Overview }) {
  if (data.integrations.length === 0) {
    return (
      <div className="panel">
        <Empty>
          No integration yet: nothing is synced. <Link className="link" to="/integrations">Add an integration</Link>
        </Empty>
      </div>
    );
  }
  const graceMinutes = Math.round(data.overdue_grace_seconds / 60);
  return (
    <div className="panel overflow-hidden">
      <Table columns={FRESHNESS_COLUMNS}>
        {data.integrations.map((item) => (
          <IntegrationRow key={item.id} item={item} graceMinutes={graceMinutes} />
        ))}
      </Table>
    </div>
  );
}

function LastDay({ data }: { data: Overview }) {
  const total = Object.values(data.jobs_last_24h).reduce((sum, count) => sum + count, 0);
  if (total === 0) {
    return (
      <div className="panel">
        <Empty>
          No job in the last 24 hours. <Link className="link" to="/jobs">See older jobs</Link>
        </Empty>
      </div>
    );
  }
  return (
    <ul className="grid grid-cols-3 gap-3 lg:grid-cols-6">
      {JOB_STATUSES.map((status) => (
        <li key={status}>
          <Link to={`/jobs?status=${status}`} className="panel block p-4 hover:border-blue-500">
            <StatusBadge status={status} />
            <div className="mt-2 text-2xl font-semibold tabular-nums">{n(data.jobs_last_24h[status] ?? 0)}</div>
          </Link>
        </li>
      ))}
    </ul>
  );
}

function Section({ id, title, aside, children }: { id: string; title: string; aside?: ReactNode; children: ReactNode }) {
  return (
    <section className="mt-6" aria-labelledby={id}>
      <div className="flex items-baseline justify-between">
        <h2 id={id} className="text-base font-semibold">
          {title}
        </h2>
        {aside}
      </div>
      <div className="mt-3">{children}</div>
    </section>
  );
}

export function Home() {
  const overview = useOverview();
  return (
    <div>
      <h1 className="text-xl font-semibold">Home</h1>
      {overview.isPending ? (
        <Loading what="the overview" />
      ) : overview.isError ? (
        <div className="mt-4">
          <ErrorState title="Could not read the overview" error={overview.error} onRetry={() => void overview.refetch()} />
        </div>
      ) : (
        <>
          <div className="mt-4">
            <Numbers data={overview.data} />
          </div>
          <Section id="integrations" title="Integrations" aside={<Link className="link text-sm" to="/integrations">Manage →</Link>}>
            <Integrations data={overview.data} />
          </Section>
          <Section id="last-day" title="Jobs of the last 24 hours" aside={<Link className="link text-sm" to="/jobs">All jobs →</Link>}>
            <LastDay data={overview.data} />
          </Section>
        </>
      )}
    </div>
  );
}
