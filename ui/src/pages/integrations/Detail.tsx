import { Link, useParams } from "react-router";
import { ApiError } from "../../api/client";
import { useIntegrationName, useJobs } from "../../api/hooks";
import { isOverdue, providerLabel, useIntegration, type IntegrationFull } from "../../api/integrations";
import { QueryStates } from "../../components/DataTable";
import { IntegrationName } from "../../components/IntegrationName";
import { Empty, ErrorState, Loading } from "../../components/States";
import { dateTime, relative } from "../../lib/format";
import { JobTable } from "../Jobs";
import { IntegrationActions } from "./actions";
import { BreakerNotice } from "./Breaker";
import { IntegrationForm } from "./Form";
import { LogoEditor } from "./Logo";
import { ScheduleEditor } from "./Schedule";

function RecentJobs({ integration }: { integration: IntegrationFull }) {
  const jobs = useJobs({ integration_id: integration.id });
  const integrationName = useIntegrationName();
  const rows = jobs.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section className="panel overflow-hidden" aria-labelledby="jobs-title">
      <div className="flex items-baseline justify-between px-4 pt-3">
        <h2 id="jobs-title" className="font-semibold">Recent jobs</h2>
        <Link className="link text-xs" to={`/jobs?integration_id=${integration.id}`}>All jobs of {integration.name}</Link>
      </div>
      <QueryStates query={jobs} what="jobs" count={rows.length} empty="No jobs yet: Sync now starts one.">
        <JobTable jobs={rows} integrationName={integrationName} className="mt-2" />
      </QueryStates>
    </section>
  );
}

export function IntegrationDetail() {
  const { id = "" } = useParams();
  const integration = useIntegration(id);

  if (integration.isPending) return <Loading what="the integration" />;
  if (integration.isError) {
    const missing = integration.error instanceof ApiError && (integration.error.status === 404 || integration.error.status === 422);
    return (
      <div>
        <Link className="link text-sm" to="/integrations">← Integrations</Link>
        <div className="mt-3">
          {missing ? (
            <div className="panel">
              <Empty>This integration does not exist, or belongs to another tenant. ({integration.error.message})</Empty>
            </div>
          ) : (
            <ErrorState title="Could not read the integration" error={integration.error} onRetry={() => void integration.refetch()} />
          )}
        </div>
      </div>
    );
  }
  const data = integration.data;
  return (
    <div className="space-y-4">
      <Link className="link text-sm" to="/integrations">← Integrations</Link>
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <h1 className="text-xl font-semibold">
            <IntegrationName integration={data} />
          </h1>
          <p className="muted mt-1 text-xs">
            {providerLabel(data)} · {data.enabled ? "enabled" : "disabled"} · last sync{" "}
            <span title={dateTime(data.last_sync_at)}>{data.last_sync_at ? relative(data.last_sync_at) : "never"}</span>
            {isOverdue(data) && <span className="ml-1 font-semibold text-red-700 dark:text-red-300">overdue</span>}
          </p>
          <BreakerNotice integration={data} />
        </div>
        <IntegrationActions integration={data} showEdit={false} />
      </div>
      <div className="grid gap-4 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <div className="min-w-0 space-y-2">
          <h2 className="font-semibold">Connection</h2>
          {/* Keyed by the saved version: a save (or someone else's) starts the form from what is stored. */}
          <IntegrationForm key={`${data.id}`} saved={data} />
        </div>
        <div className="min-w-0 space-y-4">
          <ScheduleEditor key={`${data.schedule_cron}|${data.schedule_interval_minutes}|${data.schedule_timezone}`} integration={data} />
          <LogoEditor integration={data} />
        </div>
      </div>
      <RecentJobs integration={data} />
    </div>
  );
}
