import { describe, expect, it, vi } from "vitest";
import { ApiClient } from "../../api/client";
import { mapTo, MappedHalfway, plan, suggestTarget } from "./mapTo";

const reprocess = { started: ["0b9d4c3e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"], busy: [], failed: [] };

function client(answers: [number, unknown][]) {
  const fetch = vi.fn(async (_url: RequestInfo | URL, _init?: RequestInit) => {
    const [status, body] = answers.shift() ?? [500, { detail: "unexpected call" }];
    return new Response(JSON.stringify(body), { status });
  });
  return { api: new ApiClient({ getToken: () => "pk_x", onUnauthorized: vi.fn(), fetch: fetch as unknown as typeof globalThis.fetch }), fetch };
}

const calls = (fetch: ReturnType<typeof vi.fn>) =>
  fetch.mock.calls.map(([url, init]) => [String(url), (init as RequestInit).method, JSON.parse(String((init as RequestInit).body))]);

describe("Map to…", () => {
  it("suggests the existing target with the source's name, whatever the case", () => {
    const targets = [{ id: 1, name: "To Do" }, { id: 2, name: "Blocked" }];
    expect(suggestTarget(" blocked ", targets)?.id).toBe(2);
    expect(suggestTarget("On Hold", targets)).toBeNull();
  });

  it("maps to an existing status with one request, tenant-wide", async () => {
    const { api, fetch } = client([[201, { id: 9, source_name: "Blocked", status_name: "To Do", reprocess }]]);
    const outcome = await mapTo(api, { kind: "status", sourceName: "Blocked", target: { existing: 1 }, integrationId: null });
    expect(outcome.created).toBeNull();
    expect(outcome.mapping.reprocess.started).toHaveLength(1);
    expect(calls(fetch)).toEqual([["/api/v1/status-mappings", "POST", { source_name: "Blocked", status_id: 1 }]]);
  });

  it("creates a work item type first, then maps the issue type to it for one integration", async () => {
    const { api, fetch } = client([
      [201, { id: 12, name: "Research", hierarchy_level: 0, description: null, reprocess: { started: [], busy: [], failed: [] } }],
      [201, { id: 30, source_name: "Spike", wit_name: "Research", reprocess }],
    ]);
    const outcome = await mapTo(api, {
      kind: "issue_type",
      sourceName: "Spike",
      target: { create: { name: " Research ", hierarchy_level: 0 } },
      integrationId: "7d6c0000-0000-4000-8000-000000000001",
    });
    expect(outcome.created).toEqual({ id: 12, name: "Research" });
    expect(calls(fetch)).toEqual([
      ["/api/v1/wits", "POST", { name: "Research", hierarchy_level: 0 }],
      ["/api/v1/wit-mappings", "POST", { source_name: "Spike", wit_id: 12, integration_id: "7d6c0000-0000-4000-8000-000000000001" }],
    ]);
  });

  it("says when the new status was created but the mapping refused, so the next try maps to it", async () => {
    const { api } = client([
      [201, { id: 40, name: "On Hold", category: "in_progress" }],
      [409, { detail: "source_name: status mapping 3 already maps 'On Hold' to status 2 tenant-wide" }],
    ]);
    const failure = await mapTo(api, { kind: "status", sourceName: "On Hold", target: { create: { name: "On Hold" } }, integrationId: null }).catch((e) => e);
    expect(failure).toBeInstanceOf(MappedHalfway);
    expect(failure.created).toEqual({ id: 40, name: "On Hold" });
    expect(failure.message).toContain("On Hold was created, but the mapping was refused: source_name: status mapping 3");
  });

  it("passes the API's refusal of the creation through unchanged", async () => {
    const { api, fetch } = client([[409, { detail: "name: status 2 is already named 'Blocked'; choose another name" }]]);
    await expect(
      mapTo(api, { kind: "status", sourceName: "blocked", target: { create: { name: "Blocked", category: "to_do" } }, integrationId: null }),
    ).rejects.toThrow("name: status 2 is already named 'Blocked'");
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it("plans a new status with the category chosen (in progress by default)", () => {
    expect(plan({ kind: "status", sourceName: "QA", target: { create: { name: "QA" } }, integrationId: null }).create?.body).toEqual({
      name: "QA",
      category: "in_progress",
    });
  });
});
