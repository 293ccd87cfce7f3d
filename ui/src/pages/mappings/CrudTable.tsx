// One table for every mapping resource: rows, an "Add" form above them, an inline form to edit a row,
// delete after a confirmation, and the API's refusal in words beside the form that caused it.

import { useState, type FormEvent, type ReactNode } from "react";
import { useMappingWrite, type Write } from "../../api/mappings";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { QueryStates, Table } from "../../components/DataTable";
import { toast } from "../../components/toast";
import { FormError, useAnnounce, WriteButton } from "./common";

export interface Column<Row> {
  header: string;
  cell: (row: Row) => ReactNode;
  /** A Tailwind width class for the <col>. */
  width?: string;
}

export interface CrudTableProps<Row extends { id: number }, Draft> {
  /** "work item type": used in labels and messages. */
  noun: string;
  rows: Row[] | undefined;
  pending: boolean;
  error: unknown;
  onRetry: () => void;
  emptyText: string;
  columns: Column<Row>[];
  blank: () => Draft;
  toDraft: (row: Row) => Draft;
  /** The form's controls for a draft. */
  fields: (draft: Draft, set: (draft: Draft) => void) => ReactNode;
  create: (draft: Draft) => Write;
  update: (row: Row, draft: Draft) => Write;
  remove: (row: Row) => Write;
  name: (row: Row) => string;
  deleteText?: (row: Row) => ReactNode;
  /** Controls beside "Add" (filters). */
  toolbar?: ReactNode;
  title: string;
}

function DraftForm<Draft>(props: {
  label: string;
  draft: Draft;
  fields: (draft: Draft, set: (draft: Draft) => void) => ReactNode;
  submit: string;
  busy: boolean;
  error: unknown;
  onSubmit: (draft: Draft) => void;
  onCancel: () => void;
}) {
  const [draft, setDraft] = useState(props.draft);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onSubmit(draft);
  };
  return (
    <form aria-label={props.label} onSubmit={submit} className="p-3">
      <div className="flex flex-wrap items-end gap-2">
        {props.fields(draft, setDraft)}
        <WriteButton type="submit" className="btn-primary" disabled={props.busy}>
          {props.busy ? "Saving…" : props.submit}
        </WriteButton>
        <button type="button" className="btn" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
      <FormError error={props.error} />
    </form>
  );
}

export function CrudTable<Row extends { id: number }, Draft>(props: CrudTableProps<Row, Draft>) {
  const announce = useAnnounce();
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<number | null>(null);
  const [deleting, setDeleting] = useState<Row | null>(null);
  const add = useMappingWrite((answer) => {
    setAdding(false);
    announce(`${props.noun} added`, answer);
  });
  const edit = useMappingWrite((answer) => {
    setEditing(null);
    announce(`${props.noun} changed`, answer);
  });
  const drop = useMappingWrite((answer) => {
    announce(`${props.noun} deleted`, answer);
  });

  const confirmDelete = () => {
    const row = deleting;
    if (!row) return;
    drop.mutate(props.remove(row), {
      onSettled: () => setDeleting(null),
      onError: (error) => toast(`${props.name(row)} was not deleted`, { kind: "error", description: error.message }),
    });
  };

  const span = props.columns.length + 1;
  return (
    <section className="panel overflow-hidden" aria-label={props.title}>
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 px-3 py-2 dark:border-slate-800">
        <h2 className="text-base font-semibold">{props.title}</h2>
        <div className="flex flex-wrap items-center gap-2">
          {props.toolbar}
          <WriteButton className="btn-primary" disabled={adding} onClick={() => { add.reset(); setAdding(true); }}>
            Add {/^[aeiou]/i.test(props.noun) ? "an" : "a"} {props.noun}
          </WriteButton>
        </div>
      </div>
      {drop.error && (
        <div className="border-b border-slate-200 px-3 pb-2 dark:border-slate-800">
          <FormError error={drop.error} />
        </div>
      )}
      {adding && (
        <div className="border-b border-slate-200 bg-slate-50 dark:border-slate-800 dark:bg-slate-900/60">
          <DraftForm
            label={`New ${props.noun}`}
            draft={props.blank()}
            fields={props.fields}
            submit="Add"
            busy={add.isPending}
            error={add.error}
            onSubmit={(draft) => add.mutate(props.create(draft))}
            onCancel={() => setAdding(false)}
          />
        </div>
      )}
      <QueryStates
        query={{ isPending: props.pending, isError: Boolean(props.error), error: props.error, refetch: props.onRetry }}
        what={`${props.noun}s`}
        count={props.rows?.length ?? 0}
        empty={props.emptyText}
      >
        <Table columns={[...props.columns, { header: "Actions", width: "w-40" }]}>
          {(props.rows ?? []).map((row) =>
            editing === row.id ? (
              <tr key={row.id} className="border-t border-slate-100 bg-slate-50 dark:border-slate-800 dark:bg-slate-900/60">
                <td colSpan={span}>
                  <DraftForm
                    label={`Edit ${props.name(row)}`}
                    draft={props.toDraft(row)}
                    fields={props.fields}
                    submit="Save"
                    busy={edit.isPending}
                    error={edit.error}
                    onSubmit={(draft) => edit.mutate(props.update(row, draft))}
                    onCancel={() => setEditing(null)}
                  />
                </td>
              </tr>
            ) : (
              <tr key={row.id} className="border-t border-slate-100 dark:border-slate-800" data-row={props.name(row)}>
                {props.columns.map((column) => (
                  <td key={column.header} className="td break-words">
                    {column.cell(row)}
                  </td>
                ))}
                <td className="td">
                  <div className="flex flex-wrap gap-1.5">
                    <WriteButton label={`Edit ${props.name(row)}`} onClick={() => { edit.reset(); setEditing(row.id); }}>
                      Edit
                    </WriteButton>
                    <WriteButton className="btn-danger" label={`Delete ${props.name(row)}`} onClick={() => setDeleting(row)}>
                      Delete
                    </WriteButton>
                  </div>
                </td>
              </tr>
            ),
          )}
        </Table>
      </QueryStates>
      <ConfirmDialog
        open={deleting !== null}
        title={deleting ? `Delete ${props.noun} ${props.name(deleting)}?` : ""}
        confirmLabel="Delete"
        danger
        busy={drop.isPending}
        onConfirm={confirmDelete}
        onCancel={() => setDeleting(null)}
      >
        {deleting && (props.deleteText?.(deleting) ?? "The work items it affects are transformed again from the raw data.")}
      </ConfirmDialog>
    </section>
  );
}

/** A labelled control of a draft form. */
export function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <label className="flex flex-col gap-0.5 text-xs font-medium">
      {label}
      {children}
    </label>
  );
}
