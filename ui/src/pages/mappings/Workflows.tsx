import { useState, type FormEvent } from "react";
import { useMappingWrite, useStatuses, useWorkflows, type Status, type Workflow } from "../../api/mappings";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { Empty, ErrorState, Loading } from "../../components/States";
import { toast } from "../../components/toast";
import { FormError, IntegrationFilter, ScopeSelect, useAnnounce, useIntegrationFilter, useScopeName, WriteButton } from "./common";
import { CategoryBadge } from "./Statuses";
import {
  addStep,
  commitmentIndex,
  doneIndex,
  draftOf,
  moveStep,
  removeStep,
  setCommitment,
  setDone,
  stepProblems,
  stepsIn,
  type DraftStep,
} from "./workflowSteps";

/** The ordered steps, with up/down/remove, the commitment point and the done step. */
export function StepEditor(props: { steps: DraftStep[]; onChange: (steps: DraftStep[]) => void; statuses: Status[]; name: string }) {
  const { steps, onChange } = props;
  const [adding, setAdding] = useState("");
  const commitment = commitmentIndex(steps);
  const done = doneIndex(steps);
  const unused = props.statuses.filter((status) => !steps.some((step) => step.status_id === status.id));
  const category = (id: number) => props.statuses.find((status) => status.id === id)?.category;
  return (
    <div>
      <ol className="flex flex-col gap-1" aria-label="Steps">
        {steps.map((step, n) => {
          const cat = category(step.status_id);
          return (
            <li
              key={step.status_id}
              data-step={step.status_name}
              className="flex flex-wrap items-center gap-2 rounded-md border border-slate-200 px-2 py-1 dark:border-slate-700"
            >
              <span className="muted w-6 text-right tabular-nums">{n + 1}.</span>
              <span className="min-w-32 flex-1 font-medium break-words">
                {step.status_name} {cat && <CategoryBadge category={cat} />}
              </span>
              <label className="inline-flex items-center gap-1 text-xs">
                <input
                  type="radio"
                  name={`${props.name}-commitment`}
                  checked={commitment === n}
                  onChange={() => onChange(setCommitment(steps, n))}
                />
                Commitment point
              </label>
              <label className="inline-flex items-center gap-1 text-xs">
                <input type="radio" name={`${props.name}-done`} checked={done === n} onChange={() => onChange(setDone(steps, n))} />
                Done step
              </label>
              <button type="button" className="btn px-1.5" aria-label={`Move ${step.status_name} up`} disabled={n === 0} onClick={() => onChange(moveStep(steps, n, -1))}>
                ↑
              </button>
              <button
                type="button"
                className="btn px-1.5"
                aria-label={`Move ${step.status_name} down`}
                disabled={n === steps.length - 1}
                onClick={() => onChange(moveStep(steps, n, 1))}
              >
                ↓
              </button>
              <button type="button" className="btn btn-danger px-1.5" aria-label={`Remove ${step.status_name}`} onClick={() => onChange(removeStep(steps, n))}>
                Remove
              </button>
            </li>
          );
        })}
      </ol>
      <div className="mt-2 flex flex-wrap items-center gap-2">
        <select className="field" aria-label="Status to add" value={adding} onChange={(e) => setAdding(e.target.value)}>
          <option value="">Add a step…</option>
          {unused.map((status) => (
            <option key={status.id} value={status.id}>
              {status.name}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="btn"
          disabled={!adding}
          onClick={() => {
            const status = props.statuses.find((s) => String(s.id) === adding);
            if (status) onChange(addStep(steps, status));
            setAdding("");
          }}
        >
          Add step
        </button>
        {commitment >= 0 && (
          <button type="button" className="btn" onClick={() => onChange(setCommitment(steps, null))}>
            No commitment point
          </button>
        )}
      </div>
    </div>
  );
}

interface Draft {
  name: string;
  scope: string;
  steps: DraftStep[];
}

function WorkflowForm(props: {
  initial: Draft;
  statuses: Status[];
  submit: string;
  busy: boolean;
  error: unknown;
  onSubmit: (draft: Draft) => void;
  onCancel: () => void;
  formName: string;
}) {
  const [draft, setDraft] = useState(props.initial);
  const problems = stepProblems(draft.steps);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onSubmit(draft);
  };
  return (
    <form aria-label={props.formName} onSubmit={submit} className="flex flex-col gap-3 p-3">
      <div className="flex flex-wrap items-end gap-3">
        <label className="flex flex-col gap-0.5 text-xs font-medium">
          Name
          <input className="field" required value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
        </label>
        <label className="flex flex-col gap-0.5 text-xs font-medium">
          Applies to
          <ScopeSelect value={draft.scope} onChange={(scope) => setDraft({ ...draft, scope })} />
        </label>
      </div>
      <StepEditor name={props.formName} steps={draft.steps} statuses={props.statuses} onChange={(steps) => setDraft({ ...draft, steps })} />
      {problems.length > 0 && (
        <ul className="muted list-disc pl-5 text-xs" aria-label="Before saving">
          {problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      )}
      <div className="flex flex-wrap gap-2">
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

function StepsView({ workflow }: { workflow: Workflow }) {
  return (
    <ol className="flex flex-wrap items-center gap-1 text-sm" aria-label={`Steps of ${workflow.name}`}>
      {workflow.steps.map((step, n) => (
        <li key={step.status_id} className="inline-flex items-center gap-1">
          {n > 0 && <span className="muted" aria-hidden="true">→</span>}
          <span className="rounded-md border border-slate-200 px-2 py-0.5 dark:border-slate-700">
            {step.status_name}
            {step.is_commitment_point && <span className="ml-1 text-xs font-semibold text-blue-700 dark:text-blue-300">commitment point</span>}
            {step.is_done && <span className="ml-1 text-xs font-semibold text-green-700 dark:text-green-300">done</span>}
          </span>
        </li>
      ))}
    </ol>
  );
}

const body = (draft: Draft) => ({ name: draft.name, integration_id: draft.scope || null, steps: stepsIn(draft.steps) });

/** Workflows, edited as ordered steps with the commitment point and the done step. */
export function Workflows() {
  const [integration] = useIntegrationFilter();
  const workflows = useWorkflows(integration);
  const statuses = useStatuses();
  const scopeName = useScopeName();
  const announce = useAnnounce();
  const [editing, setEditing] = useState<number | "new" | null>(null);
  const [deleting, setDeleting] = useState<Workflow | null>(null);
  const save = useMappingWrite((answer) => {
    setEditing(null);
    announce("workflow saved", answer);
  });
  const drop = useMappingWrite((answer) => announce("workflow deleted", answer));
  const statusList = statuses.data ?? [];

  return (
    <section className="flex flex-col gap-3" aria-label="Workflows">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="muted text-sm">
          Cycle time starts at the first entry into the commitment point (or a later step) and ends at the last entry into the done step.
        </p>
        <div className="flex flex-wrap items-center gap-2">
          <IntegrationFilter label="Only for" />
          <WriteButton className="btn-primary" disabled={editing === "new"} onClick={() => { save.reset(); setEditing("new"); }}>
            Add a workflow
          </WriteButton>
        </div>
      </div>
      {editing === "new" && (
        <div className="panel">
          <WorkflowForm
            formName="New workflow"
            initial={{ name: "", scope: integration, steps: [] }}
            statuses={statusList}
            submit="Add"
            busy={save.isPending}
            error={save.error}
            onSubmit={(draft) => save.mutate({ method: "POST", path: "/workflows", body: body(draft) })}
            onCancel={() => setEditing(null)}
          />
        </div>
      )}
      <FormError error={drop.error} />
      {workflows.isPending ? (
        <div className="panel">
          <Loading what="workflows" />
        </div>
      ) : workflows.isError ? (
        <ErrorState title="Could not read the workflows" error={workflows.error} onRetry={() => void workflows.refetch()} />
      ) : workflows.data.length === 0 ? (
        <div className="panel">
          <Empty>{integration ? "No workflow only for this integration: the tenant-wide one applies." : "No workflows: without one, no cycle times are computed."}</Empty>
        </div>
      ) : (
        workflows.data.map((workflow) => (
          <article key={workflow.id} className="panel" aria-label={`Workflow ${workflow.name}`} data-workflow={workflow.name}>
            {editing === workflow.id ? (
              <WorkflowForm
                formName={`Edit ${workflow.name}`}
                initial={{ name: workflow.name, scope: workflow.integration_id ?? "", steps: draftOf(workflow.steps) }}
                statuses={statusList}
                submit="Save"
                busy={save.isPending}
                error={save.error}
                onSubmit={(draft) => save.mutate({ method: "PATCH", path: `/workflows/${workflow.id}`, body: body(draft) })}
                onCancel={() => setEditing(null)}
              />
            ) : (
              <div className="flex flex-wrap items-start gap-3 p-3">
                <div className="min-w-0 flex-1">
                  <h2 className="font-semibold break-words">
                    {workflow.name} <span className="muted text-sm font-normal">· {scopeName(workflow.integration_id)}</span>
                  </h2>
                  <div className="mt-2">
                    <StepsView workflow={workflow} />
                  </div>
                </div>
                <div className="flex gap-1.5">
                  <WriteButton label={`Edit ${workflow.name}`} onClick={() => { save.reset(); setEditing(workflow.id); }}>
                    Edit steps
                  </WriteButton>
                  <WriteButton className="btn-danger" label={`Delete ${workflow.name}`} onClick={() => setDeleting(workflow)}>
                    Delete
                  </WriteButton>
                </div>
              </div>
            )}
          </article>
        ))
      )}
      <ConfirmDialog
        open={deleting !== null}
        title={deleting ? `Delete workflow ${deleting.name}?` : ""}
        confirmLabel="Delete"
        danger
        busy={drop.isPending}
        onConfirm={() => {
          const workflow = deleting;
          if (!workflow) return;
          drop.mutate(
            { method: "DELETE", path: `/workflows/${workflow.id}` },
            {
              onSettled: () => setDeleting(null),
              onError: (error) => toast(`Workflow ${workflow.name} was not deleted`, { kind: "error", description: error.message }),
            },
          );
        }}
        onCancel={() => setDeleting(null)}
      >
        Its integrations fall back to the tenant-wide workflow (or get no cycle times), and their items are computed again.
      </ConfirmDialog>
    </section>
  );
}
