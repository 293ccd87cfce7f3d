import { useWitHierarchies, useWits, type WitHierarchy } from "../../api/mappings";
import { CrudTable, Field } from "./CrudTable";

interface Draft {
  level: string;
  name: string;
  description: string;
}

/** Hierarchy levels of work item types: higher is bigger (Initiative 2 > Epic 1 > Story 0 > Sub-task -1). */
export function Hierarchies() {
  const levels = useWitHierarchies();
  const wits = useWits();
  return (
    <CrudTable<WitHierarchy, Draft>
      title="Hierarchy levels"
      noun="hierarchy level"
      rows={levels.data}
      pending={levels.isPending}
      error={levels.error}
      onRetry={() => void levels.refetch()}
      emptyText="No hierarchy levels: add one before adding work item types."
      columns={[
        { header: "Level", cell: (row) => <span className="tabular-nums">{row.level}</span>, width: "w-24" },
        { header: "Name", cell: (row) => <strong>{row.name}</strong>, width: "w-1/5" },
        { header: "Description", cell: (row) => row.description ?? <span className="muted">—</span> },
        {
          header: "Work item types",
          cell: (row) => {
            const names = (wits.data ?? []).filter((wit) => wit.hierarchy_level === row.level).map((wit) => wit.name);
            return names.length ? names.join(", ") : <span className="muted">none</span>;
          },
          width: "w-1/4",
        },
      ]}
      blank={() => ({ level: "", name: "", description: "" })}
      toDraft={(row) => ({ level: String(row.level), name: row.name, description: row.description ?? "" })}
      fields={(draft, set) => (
        <>
          <Field label="Level">
            <input className="field w-24" type="number" min={-100} max={100} required value={draft.level} onChange={(e) => set({ ...draft, level: e.target.value })} />
          </Field>
          <Field label="Name">
            <input className="field" required value={draft.name} onChange={(e) => set({ ...draft, name: e.target.value })} />
          </Field>
          <Field label="Description">
            <input className="field w-72" value={draft.description} onChange={(e) => set({ ...draft, description: e.target.value })} />
          </Field>
        </>
      )}
      create={(draft) => ({
        method: "POST",
        path: "/wit-hierarchies",
        body: { level: Number(draft.level), name: draft.name, description: draft.description || null },
      })}
      update={(row, draft) => ({
        method: "PATCH",
        path: `/wit-hierarchies/${row.id}`,
        body: { level: Number(draft.level), name: draft.name, description: draft.description || null },
      })}
      remove={(row) => ({ method: "DELETE", path: `/wit-hierarchies/${row.id}` })}
      name={(row) => row.name}
      deleteText={() => "Only a level no work item type uses can be deleted; the API names the types otherwise."}
    />
  );
}
