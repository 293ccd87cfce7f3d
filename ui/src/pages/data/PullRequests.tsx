import { Link, useSearchParams } from "react-router";
import { pullRequestPath, usePullRequests, type PullRequest } from "../../api/data";
import { useIntegrationName, useIntegrations } from "../../api/hooks";
import { DateFilter, LoadMore, SelectFilter, TextFilter } from "../../components/FilterControls";
import { Empty, ErrorState, Loading } from "../../components/States";
import { dateTime, relative } from "../../lib/format";
import { PR_STATES, PULL_REQUEST_FILTERS, readFilters, toApiQuery, withFilter } from "./filters";
import { Tabs } from "./parts";

const STATE_STYLE: Record<string, string> = {
  open: "bg-green-100 text-green-900 dark:bg-green-900/40 dark:text-green-200",
  merged: "bg-purple-100 text-purple-900 dark:bg-purple-900/40 dark:text-purple-200",
  closed: "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-200",
};

export function PrState({ state, draft }: { state: string; draft?: boolean }) {
  return (
    <span className={`inline-block rounded-full px-2 py-0.5 text-xs font-semibold ${STATE_STYLE[state] ?? STATE_STYLE.closed}`}>
      {draft && state === "open" ? "draft" : state}
    </span>
  );
}

function Row({ pr, integrationName }: { pr: PullRequest; integrationName: (id: string) => string }) {
  return (
    <tr className="border-t border-slate-100 dark:border-slate-800" data-pr={pr.external_id}>
      <td className="td">
        <Link className="link block truncate font-mono text-xs" to={pullRequestPath(pr.repo, pr.number)} title={pr.external_id}>
          {pr.repo}#{pr.number}
        </Link>
        <div className="muted truncate text-xs">{integrationName(pr.integration_id)}</div>
      </td>
      <td className="td">
        <div className="truncate" title={pr.title ?? undefined}>
          {pr.title ?? <span className="muted">—</span>}
        </div>
        {pr.work_item_keys.length > 0 && <div className="muted truncate text-xs">{pr.work_item_keys.join(", ")}</div>}
      </td>
      <td className="td">
        <PrState state={pr.state} draft={pr.draft} />
      </td>
      <td className="td truncate text-xs" title={pr.author ?? undefined}>
        {pr.author ?? "—"}
        {pr.author_is_bot && <span className="muted"> (bot)</span>}
      </td>
      <td className="td text-xs tabular-nums">{pr.review_count}</td>
      <td className="td text-xs whitespace-nowrap" title={dateTime(pr.updated)}>
        {relative(pr.updated)}
      </td>
    </tr>
  );
}

export function PullRequests() {
  const [params, setParams] = useSearchParams();
  const filters = readFilters(params, PULL_REQUEST_FILTERS);
  const prs = usePullRequests(toApiQuery(filters));
  const integrations = useIntegrations();
  const integrationName = useIntegrationName();
  const change = (name: string, value: string) => setParams(withFilter(params, name, value), { replace: true });
  const rows = prs.data?.pages.flatMap((page) => page.items) ?? [];
  const filtered = Object.keys(filters).length > 0;
  const github = (integrations.data ?? []).filter((integration) => integration.provider === "github");

  return (
    <div className="space-y-3">
      <div className="flex items-baseline justify-between">
        <h1 className="text-xl font-semibold">Data</h1>
        <span className="muted text-xs">Read-only, most recently updated first</span>
      </div>
      <Tabs />
      <div role="group" aria-label="Filter the pull requests" className="flex flex-wrap items-end gap-3">
        <SelectFilter
          label="Integration"
          name="integration_id"
          value={filters.integration_id ?? ""}
          options={github.map((integration) => [integration.id, integration.name] as const)}
          onChange={change}
        />
        <TextFilter label="Repository" name="repo" value={filters.repo ?? ""} placeholder="owner/name" onChange={change} width="w-40" />
        <SelectFilter label="State" name="state" value={filters.state ?? ""} options={PR_STATES} onChange={change} />
        <TextFilter label="Author" name="author" value={filters.author ?? ""} onChange={change} width="w-32" />
        <DateFilter label="Updated since" name="updated_since" value={filters.updated_since ?? ""} onChange={change} />
        <SelectFilter
          label="Deleted at the source"
          name="deleted"
          value={filters.deleted === "include" ? "include" : ""}
          all="Hidden"
          options={[["include", "Shown too"]]}
          onChange={change}
        />
        {filtered && (
          <button type="button" className="btn" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
            Clear filters
          </button>
        )}
      </div>

      <div className="panel overflow-hidden">
        {prs.isPending ? (
          <Loading what="pull requests" />
        ) : prs.isError ? (
          <div className="p-4">
            <ErrorState title="Could not read the pull requests" error={prs.error} onRetry={() => void prs.refetch()} />
          </div>
        ) : rows.length === 0 ? (
          <Empty>{filtered ? "No pull request matches these filters." : "No pull requests yet: a GitHub sync loads them here."}</Empty>
        ) : (
          <table className="w-full table-fixed border-collapse text-sm">
            <colgroup>
              <col className="w-52" />
              <col />
              <col className="w-24" />
              <col className="w-32" />
              <col className="w-20" />
              <col className="w-32" />
            </colgroup>
            <thead className="bg-slate-50 dark:bg-slate-900/60">
              <tr>
                <th scope="col" className="th">Pull request</th>
                <th scope="col" className="th">Title</th>
                <th scope="col" className="th">State</th>
                <th scope="col" className="th">Author</th>
                <th scope="col" className="th">Reviews</th>
                <th scope="col" className="th">Updated</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((pr) => (
                <Row key={pr.id} pr={pr} integrationName={integrationName} />
              ))}
            </tbody>
          </table>
        )}
      </div>
      <LoadMore hasMore={prs.hasNextPage} loading={prs.isFetchingNextPage} onMore={() => void prs.fetchNextPage()} />
    </div>
  );
}
