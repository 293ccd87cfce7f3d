import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMappingWrite, useStatuses, useUnmapped, useWitHierarchies, useWits, type Category, type UnmappedValue } from "../../api/mappings";
import { Table } from "../../components/DataTable";
import { Empty, ErrorState, Loading } from "../../components/States";
import { n } from "../../lib/format";
import { FormError, IntegrationFilter, ScopeSelect, useAnnounce, useIntegrationFilter, WriteButton } from "./common";
import { mapTo, MappedHalfway, suggestTarget, type MapOutcome, type UnmappedKind } from "./mapTo";
import { CategorySelect } from "./Statuses";

const CREATE = "new";

interface Asking {
  kind: UnmappedKind;
  value: UnmappedValue;
}

/** "Map to…": pick an existing work item type / status or create one; the mapping is created on submit. */
function MapToDialog({ asking, onClose }: { asking: Asking | null; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const wits = useWits();
  const statuses = useStatuses();
  const levels = useWitHierarchies();
  const [integration] = useIntegrationFilter();
  const announce = useAnnounce();
  const isType = asking?.kind === "issue_type";
  const targets: { id: number; name: string }[] = (isType ? wits.data : statuses.data) ?? [];
  const [target, setTarget] = useState("");
  const [name, setName] = useState("");
  const [category, setCategory] = useState<Category>("in_progress");
  const [level, setLevel] = useState("0");
  const [scope, setScope] = useState("");
  const write = useMappingWrite<MapOutcome>((outcome) => {
    const to = "wit_name" in outcome.mapping ? outcome.mapping.wit_name : outcome.mapping.status_name;
    announce(`${outcome.mapping.source_name} mapped to ${to}`, outcome.mapping);
    onClose();
  });

  useEffect(() => {
    if (!asking) return;
    const suggested = suggestTarget(asking.value.source_name, targets);
    setTarget(suggested ? String(suggested.id) : CREATE);
    setName(asking.value.source_name);
    setScope(integration);
    write.reset();
    // Only when the dialog opens for a value.
  }, [asking]);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (asking && !dialog.open) {
      if (typeof dialog.showModal === "function") dialog.showModal();
      else dialog.setAttribute("open", "");
    } else if (!asking && dialog.open) {
      if (typeof dialog.close === "function") dialog.close();
      else dialog.removeAttribute("open");
    }
  }, [asking]);

  useEffect(() => {
    // Created but not mapped: the next try maps to what was created.
    if (write.error instanceof MappedHalfway) setTarget(String(write.error.created.id));
  }, [write.error]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!asking) return;
    write.mutate((client) =>
      mapTo(client, {
        kind: asking.kind,
        sourceName: asking.value.source_name,
        integrationId: scope || null,
        target:
          target === CREATE
            ? { create: isType ? { name, hierarchy_level: Number(level) } : { name, category } }
            : { existing: Number(target) },
      }),
    );
  };

  return (
    <dialog
      ref={ref}
      aria-labelledby="map-to-title"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      className="m-auto w-[32rem] max-w-[calc(100vw-2rem)] rounded-lg border border-slate-200 bg-white p-0 text-slate-900 shadow-xl backdrop:bg-slate-950/50 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"
    >
      {asking && (
        <form className="flex flex-col gap-3 p-5" onSubmit={submit}>
          <h2 id="map-to-title" className="text-base font-semibold break-words">
            Map {isType ? "issue type" : "status"} “{asking.value.source_name}” to…
          </h2>
          <p className="muted text-sm">
            {n(asking.value.count)} items have it. They are transformed again from the raw data once the mapping is saved.
          </p>
          <label className="flex flex-col gap-0.5 text-xs font-medium">
            {isType ? "Work item type" : "Status"}
            <select className="field" aria-label={isType ? "Work item type" : "Status"} value={target} onChange={(e) => setTarget(e.target.value)}>
              {targets.map((row) => (
                <option key={row.id} value={row.id}>
                  {row.name}
                </option>
              ))}
              <option value={CREATE}>Create a new {isType ? "work item type" : "status"}…</option>
            </select>
          </label>
          {target === CREATE && (
            <div className="flex flex-wrap items-end gap-2">
              <label className="flex flex-col gap-0.5 text-xs font-medium">
                New {isType ? "work item type" : "status"} name
                <input className="field" required value={name} onChange={(e) => setName(e.target.value)} />
              </label>
              {isType ? (
                <label className="flex flex-col gap-0.5 text-xs font-medium">
                  Hierarchy level
                  <select className="field" aria-label="Hierarchy level" value={level} onChange={(e) => setLevel(e.target.value)}>
                    {(levels.data ?? []).map((row) => (
                      <option key={row.id} value={row.level}>
                        {row.name} ({row.level})
                      </option>
                    ))}
                  </select>
                </label>
              ) : (
                <label className="flex flex-col gap-0.5 text-xs font-medium">
                  Category
                  <CategorySelect value={category} onChange={setCategory} />
                </label>
              )}
            </div>
          )}
          <label className="flex flex-col gap-0.5 text-xs font-medium">
            For
            <ScopeSelect value={scope} onChange={setScope} />
          </label>
          <FormError error={write.error} />
          <div className="mt-2 flex justify-end gap-2">
            <button type="button" className="btn" onClick={onClose}>
              Cancel
            </button>
            <WriteButton type="submit" className="btn-primary" disabled={write.isPending}>
              {write.isPending ? "Mapping…" : "Map"}
            </WriteButton>
          </div>
        </form>
      )}
    </dialog>
  );
}

const UNMAPPED_COLUMNS = [
  { header: "Source value", width: "w-1/4" },
  { header: "Items", width: "w-28" },
  { header: "Per integration" },
  { header: "Action", width: "w-32" },
] as const;

function Values(props: { title: string; kind: UnmappedKind; values: UnmappedValue[]; onMap: (asking: Asking) => void }) {
  return (
    <section className="panel overflow-hidden" aria-label={props.title}>
      <h2 className="border-b border-slate-200 px-3 py-2 text-base font-semibold dark:border-slate-800">{props.title}</h2>
      {props.values.length === 0 ? (
        <Empty>Every {props.kind === "issue_type" ? "issue type" : "status"} that arrived is mapped.</Empty>
      ) : (
        <Table columns={UNMAPPED_COLUMNS}>
          {props.values.map((value) => (
            <tr key={value.source_name} className="border-t border-slate-100 dark:border-slate-800" data-unmapped={value.source_name}>
              <td className="td font-medium break-words">{value.source_name}</td>
              <td className="td tabular-nums">{n(value.count)}</td>
              <td className="td">
                <ul className="flex flex-wrap gap-x-3 gap-y-1">
                  {value.integrations.map((integration) => (
                    <li key={integration.integration_id} className="break-words">
                      {integration.integration_name}: <span className="tabular-nums">{n(integration.count)}</span>
                    </li>
                  ))}
                </ul>
              </td>
              <td className="td">
                <WriteButton label={`Map ${value.source_name} to…`} onClick={() => props.onMap({ kind: props.kind, value })}>
                  Map to…
                </WriteButton>
              </td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

/** Source values that arrived without a mapping, how many items each affects, and "Map to…". */
export function Unmapped() {
  const [integration] = useIntegrationFilter();
  const unmapped = useUnmapped(integration);
  const [asking, setAsking] = useState<Asking | null>(null);
  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="muted text-sm">
          Values seen in the raw Jira issues that no mapping covers. Until mapped they keep the source's own name, level and category.
        </p>
        <IntegrationFilter />
      </div>
      {unmapped.isPending ? (
        <div className="panel">
          <Loading what="unmapped values" />
        </div>
      ) : unmapped.isError ? (
        <ErrorState title="Could not read the unmapped values" error={unmapped.error} onRetry={() => void unmapped.refetch()} />
      ) : (
        <>
          <Values title="Issue types" kind="issue_type" values={unmapped.data.issue_types} onMap={setAsking} />
          <Values title="Statuses" kind="status" values={unmapped.data.statuses} onMap={setAsking} />
        </>
      )}
      <MapToDialog asking={asking} onClose={() => setAsking(null)} />
    </div>
  );
}
