import { Link } from "react-router";
import { pullRequestPath, usePullRequests, type PullRequest } from "../../api/data";
import { useIntegrationName } from "../../api/hooks";
import { DateFilter, IntegrationSelect, LoadMore, SelectFilter, TextFilter } from "../../components/FilterControls";
import { FilterBar, QueryPanel, Table, useUrlFilters } from "../../components/DataTable";
import { dateTime, relative } from "../../lib/format";
import { PR_STATES, PULL_REQUEST_FILTERS, toApiQuery } from "./filters";
import { DataHeading, Tabs } from "./parts";

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

const COLUMNS = [
  { header: "Pull request", width: "w-52" },
  { header: "Title" },
  { header: "State", width: "w-24" },
  { header: "Author", width: "w-32" },
  { header: "Reviews", width: "w-20" },
  { header: "Updated", width: "w-32" },
] as const;

export function PullRequests() {
  const { filters, filtered, change, clear } = useUrlFilters(PULL_REQUEST_FILTERS);
  const prs = usePullRequests(toApiQuery(filters));
  const integrationName = useIntegrationName();
  const rows = prs.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="space-y-3">
      <DataHeading />
      <Tabs />
      <FilterBar label="Filter the pull requests" filtered={filtered} onClear={clear}>
        <IntegrationSelect value={filters.integration_id ?? ""} provider="github" onChange={change} />
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
      </FilterBar>

      <QueryPanel
        query={prs}
        what="pull requests"
        count={rows.length}
        empty={filtered ? "No pull request matches these filters." : "No pull requests yet: a GitHub sync loads them here."}
      >
        <Table columns={COLUMNS}>
          {rows.map((pr) => (
            <Row key={pr.id} pr={pr} integrationName={integrationName} />
          ))}
        </Table>
      </QueryPanel>
      <LoadMore hasMore={prs.hasNextPage} loading={prs.isFetchingNextPage} onMore={() => void prs.fetchNextPage()} />
    </div>
  );
}
