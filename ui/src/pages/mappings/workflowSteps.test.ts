import { describe, expect, it } from "vitest";
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

const step = (id: number, name: string, over: Partial<DraftStep> = {}): DraftStep => ({
  status_id: id,
  status_name: name,
  is_commitment_point: false,
  is_done: false,
  ...over,
});
const names = (steps: DraftStep[]) => steps.map((s) => s.status_name);
const base = [step(1, "To Do"), step(2, "In Progress", { is_commitment_point: true }), step(3, "Done", { is_done: true })];

describe("workflow step editor", () => {
  it("reads the API's steps in position order", () => {
    const steps = draftOf([
      { position: 1, status_id: 2, status_name: "In Progress", is_commitment_point: true, is_done: false },
      { position: 0, status_id: 1, status_name: "To Do", is_commitment_point: false, is_done: false },
    ]);
    expect(names(steps)).toEqual(["To Do", "In Progress"]);
  });

  it("moves a step up and down, and not past either end", () => {
    expect(names(moveStep(base, 2, -1))).toEqual(["To Do", "Done", "In Progress"]);
    expect(names(moveStep(base, 0, 1))).toEqual(["In Progress", "To Do", "Done"]);
    expect(names(moveStep(base, 0, -1))).toEqual(names(base));
    expect(names(moveStep(base, 2, 1))).toEqual(names(base));
  });

  it("markers travel with their step", () => {
    const moved = moveStep(base, 1, -1);
    expect(commitmentIndex(moved)).toBe(0);
    expect(doneIndex(moved)).toBe(2);
  });

  it("adds a status once, at the end, and removes a step", () => {
    const added = addStep(base, { id: 4, name: "In Review" });
    expect(names(added)).toEqual(["To Do", "In Progress", "Done", "In Review"]);
    expect(addStep(added, { id: 4, name: "In Review" })).toHaveLength(4);
    expect(names(removeStep(added, 1))).toEqual(["To Do", "Done", "In Review"]);
  });

  it("keeps one commitment point and one done step", () => {
    const moved = setCommitment(base, 0);
    expect(moved.filter((s) => s.is_commitment_point).map((s) => s.status_name)).toEqual(["To Do"]);
    expect(commitmentIndex(setCommitment(base, null))).toBe(-1);
    const done = setDone(base, 1);
    expect(done.filter((s) => s.is_done).map((s) => s.status_name)).toEqual(["In Progress"]);
  });

  it("says what the API would refuse", () => {
    expect(stepProblems(base)).toEqual([]);
    expect(stepProblems([])).toEqual(["a workflow needs at least one step, one of them the done step"]);
    expect(stepProblems(removeStep(base, 2))).toEqual(["no step is marked done"]);
    // done before the commitment point
    expect(stepProblems(moveStep(base, 2, -1))).toEqual(["the commitment point (step 3) must come before the done step (step 2)"]);
    expect(stepProblems([step(1, "A", { is_done: true, is_commitment_point: true })])).toEqual([
      "the commitment point (step 1) must come before the done step (step 1)",
    ]);
    expect(stepProblems([...base, step(1, "To Do")])).toEqual(["To Do is both step 1 and step 4"]);
    expect(stepProblems([step(1, "A", { is_done: true }), step(2, "B", { is_done: true })])).toEqual([
      "steps 1, 2 are all marked done: keep one",
    ]);
  });

  it("sends the steps in order with their flags only", () => {
    expect(stepsIn(moveStep(base, 0, 1))).toEqual([
      { status_id: 2, is_commitment_point: true, is_done: false },
      { status_id: 1, is_commitment_point: false, is_done: false },
      { status_id: 3, is_commitment_point: false, is_done: true },
    ]);
  });
});
