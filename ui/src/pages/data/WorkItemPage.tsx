import { Link, useParams, useSearchParams } from "react-router";
import { pullRequestPath, useWorkItem, workItemPath } from "../../api/data";
import { useIntegrationName } from "../../api/hooks";
import { StatusBadge } from "../../components/StatusBadge";
import { Empty, ErrorState, Loading } from "../../components/States";
import { dateTime } from "../../lib/format";
import { Field, RawRecordLink, seconds, Tabs, text } from "./parts";

export function WorkItemPage() {
  const { key = "" } = useParams();
  const [params] = useSearchParams();
  const integrationId = params.get("integration_id");
  const item = useWorkItem(key, integrationId);
  const integrationName = useIntegrationName();

  if (item.isPending) return <Loading what={`work item ${key}`} />;
  if (item.isError) {
    return (
      <div className="space-y-3">
        <Tabs />
        <ErrorState title={`Could not read work item ${key}`} error={item.error} onRetry={() => void item.refetch()} />
      </div>
    );
  }
  const w = item.data;
  const related = (other: string | null) => (other ? <Link className="link font-mono" to={workItemPath(other, w.integration_id)}>{other}</Link> : null);
  return (
    <div className="space-y-4">
      <Tabs />
      <div>
        <Link className="link text-sm" to={`/data/work-items?integration_id=${encodeURIComponent(w.integration_id)}`}>
          ← Work items of {integrationName(w.integration_id)}
        </Link>
        <div className="mt-1 flex flex-wrap items-baseline gap-3">
          <h1 className="text-xl font-semibold">
            <span className="font-mono">{w.key}</span> <span className="break-words">{w.title}</span>
          </h1>
          {w.deleted_at && <StatusBadge status="deleted" />}
        </div>
      </div>

      <section className="panel p-4" aria-label="Fields">
        <dl className="grid grid-cols-2 gap-x-6 gap-y-3 md:grid-cols-4">
          <Field label="Integration">{integrationName(w.integration_id)}</Field>
          <Field label="Project">{text(w.project)}</Field>
          <Field label="Type">
            {text(w.wit)}
            {w.source_type && w.source_type !== w.wit && <span className="muted"> (source: {w.source_type})</span>}
          </Field>
          <Field label="Hierarchy level">{text(w.hierarchy_level)}</Field>
          <Field label="Status">
            {text(w.status)}
            {w.source_status && w.source_status !== w.status && <span className="muted"> (source: {w.source_status})</span>}
          </Field>
          <Field label="Category">{text(w.status_category?.replaceAll("_", " "))}</Field>
          <Field label="Priority">{text(w.priority)}</Field>
          <Field label="Story points">{text(w.story_points)}</Field>
          <Field label="Assignee">{text(w.assignee)}</Field>
          <Field label="Reporter">{text(w.reporter)}</Field>
          <Field label="Parent">{related(w.parent_key)}</Field>
          <Field label="Epic">{related(w.epic_key)}</Field>
          <Field label="Labels">{w.labels.length ? w.labels.map(String).join(", ") : null}</Field>
          <Field label="Created">{dateTime(w.created)}</Field>
          <Field label="Updated">{dateTime(w.updated)}</Field>
          <Field label="Resolved">{w.resolved ? dateTime(w.resolved) : null}</Field>
          <Field label="Lead time">{seconds(w.lead_time_seconds)}</Field>
          <Field label="Cycle time">{seconds(w.cycle_time_seconds)}</Field>
          <Field label="External id">
            <span className="font-mono">{w.external_id}</span>
          </Field>
          <Field label="Loaded from">
            <RawRecordLink rawId={w.raw_id} integrationId={w.integration_id} entityType="jira_issue" externalId={w.external_id} />
          </Field>
          <Field label="Loaded at">{dateTime(w.loaded_at)}</Field>
          {w.deleted_at && <Field label="Deleted at the source">{dateTime(w.deleted_at)}</Field>}
          <Field label="At the source">{w.url ? <span className="font-mono text-xs break-all">{w.url}</span> : null}</Field>
        </dl>
      </section>

      <section className="panel overflow-hidden" aria-labelledby="transitions-title">
        <h2 id="transitions-title" className="px-4 pt-3 font-semibold">
          Status transitions
        </h2>
        {w.transitions.length === 0 ? (
          <Empty>No transition recorded.</Empty>
        ) : (
          <table className="mt-2 w-full table-fixed border-collapse text-sm">
            <thead className="bg-slate-50 dark:bg-slate-900/60">
              <tr>
                <th scope="col" className="th">When</th>
                <th scope="col" className="th">From</th>
                <th scope="col" className="th">To</th>
                <th scope="col" className="th">By</th>
              </tr>
            </thead>
            <tbody>
              {w.transitions.map((t, index) => (
                <tr key={index} className="border-t border-slate-100 dark:border-slate-800">
                  <td className="td text-xs">{dateTime(t.transitioned_at)}</td>
                  <td className="td truncate">{t.from_status ?? "—"}</td>
                  <td className="td truncate">{t.to_status ?? "—"}</td>
                  <td className="td truncate">{t.author ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="panel p-4" aria-labelledby="prs-title">
        <h2 id="prs-title" className="font-semibold">
          Pull requests that mention {w.key}
        </h2>
        {w.pull_requests.length === 0 ? (
          <p className="muted mt-2 text-sm">None: no synced pull request names this key in its title, branch or body.</p>
        ) : (
          <ul className="mt-2 space-y-1 text-sm">
            {w.pull_requests.map((pr) => (
              <li key={`${pr.repo}#${pr.number}`} className="flex items-center gap-2">
                <Link className="link font-mono" to={pullRequestPath(pr.repo, pr.number)}>
                  {pr.repo}#{pr.number}
                </Link>
                <StatusBadge status={pr.state} />
                <span className="truncate">{pr.title}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
