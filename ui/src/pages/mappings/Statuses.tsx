import { CATEGORIES, CATEGORY_WORDS, useStatuses, useStatusMappings, type Category, type Status, type StatusMapping } from "../../api/mappings";
import { CrudTable, Field } from "./CrudTable";
import { useIntegrationFilter } from "./common";
import { SourceMappings } from "./SourceMappings";

const CATEGORY_STYLE: Record<Category, string> = {
  to_do: "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-200",
  in_progress: "bg-blue-100 text-blue-900 dark:bg-blue-900/40 dark:text-blue-200",
  done: "bg-green-100 text-green-900 dark:bg-green-900/40 dark:text-green-200",
};

export function CategoryBadge({ category }: { category: Category }) {
  return (
    <span className={`inline-block rounded-full px-2 py-0.5 text-xs font-semibold whitespace-nowrap ${CATEGORY_STYLE[category] ?? CATEGORY_STYLE.to_do}`}>
      {CATEGORY_WORDS[category] ?? category}
    </span>
  );
}

export function CategorySelect({ value, onChange }: { value: string; onChange: (value: Category) => void }) {
  return (
    <select className="field" aria-label="Category" value={value} onChange={(e) => onChange(e.target.value as Category)}>
      {CATEGORIES.map((category) => (
        <option key={category} value={category}>
          {CATEGORY_WORDS[category]}
        </option>
      ))}
    </select>
  );
}

interface Draft {
  name: string;
  category: Category;
}

/** Statuses with their categories, and the source statuses mapped to them. */
export function Statuses() {
  const statuses = useStatuses();
  const [integration] = useIntegrationFilter();
  const mappings = useStatusMappings(integration);
  return (
    <div className="flex flex-col gap-4">
      <CrudTable<Status, Draft>
        title="Statuses"
        noun="status"
        rows={statuses.data}
        pending={statuses.isPending}
        error={statuses.error}
        onRetry={() => void statuses.refetch()}
        emptyText="No statuses: add one, then map source statuses to it."
        columns={[
          { header: "Name", cell: (row) => <strong>{row.name}</strong>, width: "w-1/4" },
          { header: "Category", cell: (row) => <CategoryBadge category={row.category} />, width: "w-40" },
          {
            header: "Mapped from",
            cell: (row) => {
              const sources = (mappings.data ?? []).filter((m) => m.status_id === row.id).map((m) => m.source_name);
              return sources.length ? sources.join(", ") : <span className="muted">nothing</span>;
            },
          },
        ]}
        blank={() => ({ name: "", category: "in_progress" })}
        toDraft={(row) => ({ name: row.name, category: row.category })}
        fields={(draft, set) => (
          <>
            <Field label="Name">
              <input className="field" required value={draft.name} onChange={(e) => set({ ...draft, name: e.target.value })} />
            </Field>
            <Field label="Category">
              <CategorySelect value={draft.category} onChange={(category) => set({ ...draft, category })} />
            </Field>
          </>
        )}
        create={(draft) => ({ method: "POST", path: "/statuses", body: draft })}
        update={(row, draft) => ({ method: "PATCH", path: `/statuses/${row.id}`, body: draft })}
        remove={(row) => ({ method: "DELETE", path: `/statuses/${row.id}` })}
        name={(row) => row.name}
        deleteText={() => "Only a status no mapping or workflow uses can be deleted; the API says what uses it otherwise."}
      />
      <SourceMappings<StatusMapping>
        title="Status mappings"
        noun="status mapping"
        sourceLabel="Source status"
        targetLabel="Status"
        path="/status-mappings"
        targetField="status_id"
        rows={mappings.data}
        pending={mappings.isPending}
        error={mappings.error}
        onRetry={() => void mappings.refetch()}
        targetOf={(row) => row.status_id}
        targetCell={(row) => (
          <span className="inline-flex flex-wrap items-center gap-2">
            {row.status_name} <CategoryBadge category={row.status_category} />
          </span>
        )}
        targets={(statuses.data ?? []).map((row) => ({ id: row.id, label: `${row.name} · ${CATEGORY_WORDS[row.category]}` }))}
      />
    </div>
  );
}
