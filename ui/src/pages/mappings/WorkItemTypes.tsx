import { useWitHierarchies, useWitMappings, useWits, type Wit, type WitHierarchy, type WitMapping } from "../../api/mappings";
import { CrudTable, Field } from "./CrudTable";
import { useIntegrationFilter } from "./common";
import { SourceMappings } from "./SourceMappings";

interface WitDraft {
  name: string;
  level: string;
  description: string;
}

export function levelName(levels: WitHierarchy[] | undefined, level: number): string {
  const found = levels?.find((row) => row.level === level);
  return found ? `${found.name} (${level})` : `level ${level}`;
}

/** Work item types, and the source issue types mapped to them. */
export function WorkItemTypes() {
  const wits = useWits();
  const levels = useWitHierarchies();
  const [integration] = useIntegrationFilter();
  const mappings = useWitMappings(integration);
  const levelOf = (wit: Wit) => levelName(levels.data, wit.hierarchy_level);
  const witById = new Map((wits.data ?? []).map((wit) => [wit.id, wit]));
  return (
    <div className="flex flex-col gap-4">
      <CrudTable<Wit, WitDraft>
        title="Work item types"
        noun="work item type"
        rows={wits.data}
        pending={wits.isPending}
        error={wits.error}
        onRetry={() => void wits.refetch()}
        emptyText="No work item types: add one, then map source issue types to it."
        columns={[
          { header: "Name", cell: (wit) => <strong>{wit.name}</strong>, width: "w-1/5" },
          { header: "Hierarchy level", cell: levelOf, width: "w-1/5" },
          { header: "Description", cell: (wit) => wit.description ?? <span className="muted">—</span> },
          {
            header: "Mapped from",
            cell: (wit) => {
              const sources = (mappings.data ?? []).filter((m) => m.wit_id === wit.id).map((m) => m.source_name);
              return sources.length ? sources.join(", ") : <span className="muted">nothing</span>;
            },
            width: "w-1/5",
          },
        ]}
        blank={() => ({ name: "", level: "0", description: "" })}
        toDraft={(wit) => ({ name: wit.name, level: String(wit.hierarchy_level), description: wit.description ?? "" })}
        fields={(draft, set) => (
          <>
            <Field label="Name">
              <input className="field" required value={draft.name} onChange={(e) => set({ ...draft, name: e.target.value })} />
            </Field>
            <Field label="Hierarchy level">
              <select className="field" aria-label="Hierarchy level" value={draft.level} onChange={(e) => set({ ...draft, level: e.target.value })}>
                {(levels.data ?? []).map((row) => (
                  <option key={row.id} value={row.level}>
                    {row.name} ({row.level})
                  </option>
                ))}
                {!levels.data?.some((row) => String(row.level) === draft.level) && <option value={draft.level}>level {draft.level}</option>}
              </select>
            </Field>
            <Field label="Description">
              <input className="field w-72" value={draft.description} onChange={(e) => set({ ...draft, description: e.target.value })} />
            </Field>
          </>
        )}
        create={(draft) => ({
          method: "POST",
          path: "/wits",
          body: { name: draft.name, hierarchy_level: Number(draft.level), description: draft.description || null },
        })}
        update={(wit, draft) => ({
          method: "PATCH",
          path: `/wits/${wit.id}`,
          body: { name: draft.name, hierarchy_level: Number(draft.level), description: draft.description || null },
        })}
        remove={(wit) => ({ method: "DELETE", path: `/wits/${wit.id}` })}
        name={(wit) => wit.name}
        deleteText={() => "Only a work item type no mapping uses can be deleted; the API says which mappings use it otherwise."}
      />
      <SourceMappings<WitMapping>
        title="Issue type mappings"
        noun="issue type mapping"
        sourceLabel="Source issue type"
        targetLabel="Work item type"
        path="/wit-mappings"
        targetField="wit_id"
        rows={mappings.data}
        pending={mappings.isPending}
        error={mappings.error}
        onRetry={() => void mappings.refetch()}
        targetOf={(row) => row.wit_id}
        targetCell={(row) => {
          const wit = witById.get(row.wit_id);
          return (
            <>
              {row.wit_name}
              {wit && <span className="muted"> · {levelOf(wit)}</span>}
            </>
          );
        }}
        targets={(wits.data ?? []).map((wit) => ({ id: wit.id, label: `${wit.name} · ${levelOf(wit)}` }))}
      />
    </div>
  );
}
