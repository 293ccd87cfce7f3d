import { fireEvent, render, screen, within } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import type { Status } from "../../api/mappings";
import { reprocessWords } from "./common";
import { StepEditor } from "./Workflows";
import type { DraftStep } from "./workflowSteps";

const statuses: Status[] = [
  { id: 1, name: "To Do", category: "to_do" },
  { id: 2, name: "In Progress", category: "in_progress" },
  { id: 3, name: "Done", category: "done" },
  { id: 4, name: "In Review", category: "in_progress" },
];

function Harness({ initial, seen }: { initial: DraftStep[]; seen: DraftStep[][] }) {
  const [steps, setSteps] = useState(initial);
  return (
    <StepEditor
      name="test"
      steps={steps}
      statuses={statuses}
      onChange={(next) => {
        seen.push(next);
        setSteps(next);
      }}
    />
  );
}

const initial: DraftStep[] = [
  { status_id: 1, status_name: "To Do", is_commitment_point: false, is_done: false },
  { status_id: 2, status_name: "In Progress", is_commitment_point: true, is_done: false },
  { status_id: 3, status_name: "Done", is_commitment_point: false, is_done: true },
];
const order = () => within(screen.getByRole("list", { name: "Steps" })).getAllByRole("listitem").map((li) => li.dataset.step);

describe("StepEditor", () => {
  it("moves, adds and removes steps, and moves the markers", () => {
    const seen: DraftStep[][] = [];
    render(<Harness initial={initial} seen={seen} />);
    expect((screen.getByRole("button", { name: "Move To Do up" }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole("button", { name: "Move To Do down" }));
    expect(order()).toEqual(["In Progress", "To Do", "Done"]);

    fireEvent.change(screen.getByRole("combobox", { name: "Status to add" }), { target: { value: "4" } });
    fireEvent.click(screen.getByRole("button", { name: "Add step" }));
    expect(order()).toEqual(["In Progress", "To Do", "Done", "In Review"]);
    // a status in the workflow is not offered again
    expect(within(screen.getByRole("combobox", { name: "Status to add" })).queryByText("Done")).toBeNull();

    const review = screen.getAllByRole("listitem")[3]!;
    fireEvent.click(within(review).getByRole("radio", { name: "Done step" }));
    expect(seen.at(-1)!.filter((s) => s.is_done).map((s) => s.status_name)).toEqual(["In Review"]);
    fireEvent.click(screen.getByRole("button", { name: "No commitment point" }));
    expect(seen.at(-1)!.some((s) => s.is_commitment_point)).toBe(false);

    fireEvent.click(screen.getByRole("button", { name: "Remove Done" }));
    expect(order()).toEqual(["In Progress", "To Do", "In Review"]);
  });
});

describe("what a save says", () => {
  const name = (id: string) => (id === "i1" ? "acme-jira" : id);
  it("counts the items of the reprocess jobs and names them", () => {
    expect(
      reprocessWords(
        { started: ["0b9d4c3e-aaaa"], busy: [], failed: [], jobs: [{ job_id: "0b9d4c3e-aaaa", integration_id: "i1", records: 25 }] },
        name,
      ),
    ).toBe("Saved — reprocessing 25 items in job 0b9d4c3e");
  });
  it("says when an integration is busy, or nothing needed reprocessing", () => {
    expect(reprocessWords({ started: [], busy: ["i1"], failed: [], jobs: [] }, name)).toBe(
      "Saved — acme-jira is busy: reprocessed when the running job ends",
    );
    expect(reprocessWords({ started: [], busy: [], failed: [], jobs: [] }, name)).toBe("Saved — no work item needed reprocessing");
  });
});
