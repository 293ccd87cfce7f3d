import { Link } from "react-router";
import { useWorkItems, workItemPath, type WorkItem } from "../../api/data";
import { useIntegrationName } from "../../api/hooks";
import { DateFilter, IntegrationSelect, LoadMore, SelectFilter, TextFilter } from "../../components/FilterControls";
import { FilterBar, QueryPanel, Table, useUrlFilters } from "../../components/DataTable";
import { dateTime, relative } from "../../lib/format";
import { STATUS_CATEGORIES, WORK_ITEM_FILTERS, toApiQuery } from "./filters";
import { DataHeading, Tabs } from "./parts";

const CATEGORY_WORDS: Record<string, string> = { to_do: "to do", in_progress: "in progress", done: "done" };

function Row({ item, integrationName }: { item: WorkItem; integrationName: (id: string) => string }) {
  return (
    <tr className="border-t border-slate-100 dark:border-slate-800" data-item={item.key}>
      <td className="td">
        <Link className="link font-mono text-xs" to={workItemPath(item.key, item.integration_id)}>
          {item.key}
        </Link>
        {item.deleted_at && <div className="text-xs text-red-700 dark:text-red-300">deleted</div>}
      </td>
      <td className="td">
        <div className="truncate" title={item.title ?? undefined}>
          {item.title ?? <span className="muted">—</span>}
        </div>
        <div className="muted truncate text-xs" title={integrationName(item.integration_id)}>
          {item.project} · {integrationName(item.integration_id)}
        </div>
      </td>
      <td className="td truncate text-xs" title={item.source_type ?? undefined}>
        {item.wit ?? "—"}
      </td>
      <td className="td text-xs">
        <div className="truncate" title={item.source_status ?? undefined}>
          {item.status ?? "—"}
        </div>
        <div className="muted">{CATEGORY_WORDS[item.status_category ?? ""] ?? item.status_category}</div>
      </td>
      <td className="td truncate text-xs" title={item.assignee ?? undefined}>
        {item.assignee ?? <span className="muted">unassigned</span>}
      </td>
      <td className="td text-xs whitespace-nowrap" title={dateTime(item.updated)}>
        {relative(item.updated)}
      </td>
    </tr>
  );
}

const COLUMNS = [
  { header: "Key", width: "w-32" },
  { header: "Title" },
  { header: "Type", width: "w-32" },
  { header: "Status", width: "w-36" },
  { header: "Assignee", width: "w-36" },
  { header: "Updated", width: "w-32" },
] as const;

export function WorkItems() {
  const { filters, filtered, change, clear } = useUrlFilters(WORK_ITEM_FILTERS);
  const items = useWorkItems(toApiQuery(filters));
  const integrationName = useIntegrationName();
  const rows = items.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="space-y-3">
      <DataHeading />
      <Tabs />
      <FilterBar label="Filter the work items" filtered={filtered} onClear={clear}>
        <IntegrationSelect value={filters.integration_id ?? ""} provider="jira" onChange={change} />
        <TextFilter label="Project" name="project" value={filters.project ?? ""} placeholder="ABC" onChange={change} width="w-24" />
        <TextFilter label="Type" name="wit" value={filters.wit ?? ""} placeholder="Story" onChange={change} width="w-28" />
        <SelectFilter
          label="Category"
          name="status_category"
          value={filters.status_category ?? ""}
          options={STATUS_CATEGORIES.map((category) => [category, CATEGORY_WORDS[category] ?? category] as const)}
          onChange={change}
        />
        <TextFilter label="Status" name="status" value={filters.status ?? ""} placeholder="In Progress" onChange={change} width="w-32" />
        <TextFilter label="Assignee" name="assignee" value={filters.assignee ?? ""} onChange={change} width="w-32" />
        <DateFilter label="Updated since" name="updated_since" value={filters.updated_since ?? ""} onChange={change} />
        <SelectFilter
          label="Deleted at the source"
          name="deleted"
          value={filters.deleted ?? ""}
          all="Hidden"
          options={[
            ["include", "Shown too"],
            ["only", "Only those"],
          ]}
          onChange={change}
        />
      </FilterBar>
      <p className="muted text-xs">Project, type, status and assignee match exactly (the mapped type and status, not the source's).</p>

      <QueryPanel
        query={items}
        what="work items"
        count={rows.length}
        empty={filtered ? "No work item matches these filters." : "No work items yet: a Jira sync loads them here."}
      >
        <Table columns={COLUMNS}>
          {rows.map((item) => (
            <Row key={item.id} item={item} integrationName={integrationName} />
          ))}
        </Table>
      </QueryPanel>
      <LoadMore hasMore={items.hasNextPage} loading={items.isFetchingNextPage} onMore={() => void items.fetchNextPage()} />
    </div>
  );
}
