// The workflow step editor's logic, pure: steps in order, at most one commitment point, exactly one
// done step, each status once (the API's rules, etl/mappings/rules.py validate_workflow_steps; the
// API checks them again and its message is what the page shows when it refuses).

import type { WorkflowStep, WorkflowStepIn } from "../../api/mappings";

export interface DraftStep {
  status_id: number;
  status_name: string;
  is_commitment_point: boolean;
  is_done: boolean;
}

export function draftOf(steps: readonly WorkflowStep[]): DraftStep[] {
  return [...steps]
    .sort((a, b) => a.position - b.position)
    .map(({ status_id, status_name, is_commitment_point, is_done }) => ({ status_id, status_name, is_commitment_point, is_done }));
}

/** The step at `index` moved by `delta` (-1 up, +1 down); unchanged at the ends. */
export function moveStep(steps: readonly DraftStep[], index: number, delta: -1 | 1): DraftStep[] {
  const to = index + delta;
  if (index < 0 || index >= steps.length || to < 0 || to >= steps.length) return [...steps];
  const next = [...steps];
  [next[index], next[to]] = [next[to]!, next[index]!];
  return next;
}

export function removeStep(steps: readonly DraftStep[], index: number): DraftStep[] {
  return steps.filter((_, n) => n !== index);
}

/** A status appended as the last step; a status already in the workflow is not added twice. */
export function addStep(steps: readonly DraftStep[], status: { id: number; name: string }): DraftStep[] {
  if (steps.some((step) => step.status_id === status.id)) return [...steps];
  return [...steps, { status_id: status.id, status_name: status.name, is_commitment_point: false, is_done: false }];
}

/** The commitment point on this step only (null: none). */
export function setCommitment(steps: readonly DraftStep[], index: number | null): DraftStep[] {
  return steps.map((step, n) => ({ ...step, is_commitment_point: n === index }));
}

/** The done step on this step only. */
export function setDone(steps: readonly DraftStep[], index: number): DraftStep[] {
  return steps.map((step, n) => ({ ...step, is_done: n === index }));
}

export const commitmentIndex = (steps: readonly DraftStep[]) => steps.findIndex((step) => step.is_commitment_point);
export const doneIndex = (steps: readonly DraftStep[]) => steps.findIndex((step) => step.is_done);

/** What the API would refuse, in its words (steps numbered from 1); empty when the steps are valid. */
export function stepProblems(steps: readonly DraftStep[]): string[] {
  const problems: string[] = [];
  if (steps.length === 0) return ["a workflow needs at least one step, one of them the done step"];
  const seen = new Map<number, number>();
  steps.forEach((step, n) => {
    const first = seen.get(step.status_id);
    if (first !== undefined) problems.push(`${step.status_name} is both step ${first} and step ${n + 1}`);
    else seen.set(step.status_id, n + 1);
  });
  const done = steps.flatMap((step, n) => (step.is_done ? [n + 1] : []));
  if (done.length !== 1) problems.push(done.length ? `steps ${done.join(", ")} are all marked done: keep one` : "no step is marked done");
  const commitments = steps.flatMap((step, n) => (step.is_commitment_point ? [n + 1] : []));
  if (commitments.length > 1) problems.push(`steps ${commitments.join(", ")} are all commitment points: keep one`);
  if (commitments.length >= 1 && done.length === 1 && commitments[0]! >= done[0]!)
    problems.push(`the commitment point (step ${commitments[0]}) must come before the done step (step ${done[0]})`);
  return problems;
}

/** The body's `steps`, in order. */
export function stepsIn(steps: readonly DraftStep[]): WorkflowStepIn[] {
  return steps.map(({ status_id, is_commitment_point, is_done }) => ({ status_id, is_commitment_point, is_done }));
}
