// Source value -> normalized value, for issue types (wit-mappings) and statuses (status-mappings).

import type { ReactNode } from "react";
import type { Write } from "../../api/mappings";
import { CrudTable, Field, type Column } from "./CrudTable";
import { IntegrationFilter, ScopeSelect, useIntegrationFilter, useScopeName } from "./common";

export interface SourceMappingRow {
  id: number;
  source_name: string;
  integration_id: string | null;
}

interface Draft {
  source_name: string;
  target: string;
  scope: string;
}

export function SourceMappings<Row extends SourceMappingRow>(props: {
  title: string;
  noun: string;
  sourceLabel: string;
  targetLabel: string;
  path: "/wit-mappings" | "/status-mappings";
  targetField: "wit_id" | "status_id";
  rows: Row[] | undefined;
  pending: boolean;
  error: unknown;
  onRetry: () => void;
  targetOf: (row: Row) => number;
  targetCell: (row: Row) => ReactNode;
  targets: { id: number; label: string }[];
}) {
  const [integration] = useIntegrationFilter();
  const scopeName = useScopeName();
  const columns: Column<Row>[] = [
    { header: props.sourceLabel, cell: (row) => row.source_name, width: "w-1/4" },
    { header: props.targetLabel, cell: props.targetCell },
    { header: "Scope", cell: (row) => scopeName(row.integration_id), width: "w-1/4" },
  ];
  const body = (draft: Draft) => ({
    source_name: draft.source_name,
    [props.targetField]: Number(draft.target),
    integration_id: draft.scope || null,
  });
  return (
    <CrudTable<Row, Draft>
      title={props.title}
      noun={props.noun}
      rows={props.rows}
      pending={props.pending}
      error={props.error}
      onRetry={props.onRetry}
      emptyText={integration ? "No mapping only for this integration: the tenant-wide ones apply." : "No mappings yet."}
      columns={columns}
      toolbar={<IntegrationFilter label="Only for" />}
      blank={() => ({ source_name: "", target: String(props.targets[0]?.id ?? ""), scope: integration })}
      toDraft={(row) => ({ source_name: row.source_name, target: String(props.targetOf(row)), scope: row.integration_id ?? "" })}
      fields={(draft, set) => (
        <>
          <Field label={props.sourceLabel}>
            <input className="field" required value={draft.source_name} onChange={(e) => set({ ...draft, source_name: e.target.value })} />
          </Field>
          <Field label={props.targetLabel}>
            <select className="field" aria-label={props.targetLabel} required value={draft.target} onChange={(e) => set({ ...draft, target: e.target.value })}>
              {props.targets.map((target) => (
                <option key={target.id} value={target.id}>
                  {target.label}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Scope">
            <ScopeSelect value={draft.scope} onChange={(scope) => set({ ...draft, scope })} />
          </Field>
        </>
      )}
      create={(draft): Write => ({ method: "POST", path: props.path, body: { ...body(draft), integration_id: draft.scope || undefined } })}
      update={(row, draft): Write => ({ method: "PATCH", path: `${props.path}/${row.id}`, body: body(draft) })}
      remove={(row): Write => ({ method: "DELETE", path: `${props.path}/${row.id}` })}
      name={(row) => row.source_name}
      deleteText={(row) => `Items of source value ${row.source_name} keep the source's own name until mapped again; they are transformed again from the raw data.`}
    />
  );
}
