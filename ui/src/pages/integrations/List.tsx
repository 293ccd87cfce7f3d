import { Link } from "react-router";
import { useWriteBlocked } from "../../api/hooks";
import { isOverdue, providerLabel, scheduleWords, useIntegrationList, type IntegrationFull } from "../../api/integrations";
import { IntegrationName } from "../../components/IntegrationName";
import { Empty, ErrorState, Loading } from "../../components/States";
import { dateTime, relative } from "../../lib/format";
import { IntegrationActions } from "./actions";
import { BreakerNotice } from "./Breaker";

function Freshness({ integration }: { integration: IntegrationFull }) {
  const overdue = isOverdue(integration);
  return (
    <div className="text-xs">
      <div title={dateTime(integration.last_sync_at)}>
        <span className="muted">Last sync </span>
        {integration.last_sync_at ? relative(integration.last_sync_at) : "never"}
      </div>
      <div title={dateTime(integration.next_sync_at)}>
        <span className="muted">Next due </span>
        {integration.next_sync_at ? relative(integration.next_sync_at) : "—"}
        {overdue && (
          <span className="ml-1 rounded bg-red-100 px-1 font-semibold text-red-900 dark:bg-red-900/40 dark:text-red-200">overdue</span>
        )}
      </div>
    </div>
  );
}

function Row({ integration }: { integration: IntegrationFull }) {
  return (
    <tr className="border-t border-slate-100 dark:border-slate-800" data-integration={integration.id}>
      <td className="td">
        <Link className="link block min-w-0 font-medium" to={`/integrations/${integration.id}`}>
          <IntegrationName integration={integration} />
        </Link>
        <div className="muted mt-0.5 text-xs">{providerLabel(integration)}</div>
        <BreakerNotice integration={integration} />
      </td>
      <td className="td truncate text-xs" title={integration.base_url}>
        {integration.base_url}
      </td>
      <td className="td text-xs">
        <div>{scheduleWords(integration)}</div>
        <div className={integration.enabled ? "text-green-800 dark:text-green-300" : "muted"}>
          {integration.enabled ? "enabled" : "disabled"}
        </div>
      </td>
      <td className="td">
        <Freshness integration={integration} />
      </td>
      <td className="td">
        <IntegrationActions integration={integration} compact />
      </td>
    </tr>
  );
}

export function IntegrationList() {
  const list = useIntegrationList();
  const blocked = useWriteBlocked();
  return (
    <div>
      <div className="flex items-baseline justify-between gap-3">
        <h1 className="text-xl font-semibold">Integrations</h1>
        {blocked ? (
          <span className="btn opacity-50" title={blocked} aria-disabled="true">Add an integration</span>
        ) : (
          <Link className="btn btn-primary" to="/integrations/new">
            Add an integration
          </Link>
        )}
      </div>
      <div className="panel mt-4 overflow-hidden">
        {list.isPending ? (
          <Loading what="integrations" />
        ) : list.isError ? (
          <div className="p-4">
            <ErrorState title="Could not read the integrations" error={list.error} onRetry={() => void list.refetch()} />
          </div>
        ) : list.data.length === 0 ? (
          <Empty>
            No integrations yet.{" "}
            {blocked ? "A key that can write may add one." : (
              <Link className="link" to="/integrations/new">Add your Jira or GitHub</Link>
            )}{" "}
            to start syncing.
          </Empty>
        ) : (
          <table className="w-full table-fixed border-collapse text-sm">
            <colgroup>
              <col className="w-56" />
              <col />
              <col className="w-44" />
              <col className="w-40" />
              <col className="w-[22rem]" />
            </colgroup>
            <thead className="bg-slate-50 dark:bg-slate-900/60">
              <tr>
                <th scope="col" className="th">Integration</th>
                <th scope="col" className="th">Base URL</th>
                <th scope="col" className="th">Schedule</th>
                <th scope="col" className="th">Freshness</th>
                <th scope="col" className="th">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((integration) => (
                <Row key={integration.id} integration={integration} />
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
