import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { ApiClient } from "../../api/client";
import { ApiContext, MeContext } from "../../api/hooks";
import type { RawRecord } from "../../api/raw";
import type { Me } from "../../api/types";
import { me } from "../../test/fixtures";
import RawArea from "./index";

const A = "7d6c0000-0000-4000-8000-00000000000a";
const B = "7d6c0000-0000-4000-8000-00000000000b";
const JOB = "0b9d4c3e-5f6a-4b7c-8d9e-0f1a2b3c4d5e";

function raw(id: number, integration: string, over: Partial<RawRecord> = {}): RawRecord {
  return {
    id,
    integration_id: integration,
    entity_type: "jira_issue",
    external_id: String(10000 + id),
    processing_status: "failed",
    content_hash: "h",
    extraction_metadata: {},
    error_details: { stage: "transform", error: `field 'created' is missing\nsecond line ${id}`, job_id: JOB },
    created_at: "2025-01-31T10:00:00Z",
    updated_at: "2025-01-31T10:00:00Z",
    processed_at: null,
    payload: null,
    ...over,
  };
}

function mount(url: string, who: Me = me(), records: RawRecord[] = [raw(1, A), raw(2, A), raw(3, B)]) {
  const posts: { path: string; body: unknown }[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const path = String(input);
    if (init?.method === "POST") {
      posts.push({ path, body: JSON.parse(String(init.body)) });
      return new Response(JSON.stringify({ job_id: JOB, status: "running", records: 2, status_url: `/api/v1/etl/jobs/${JOB}` }), { status: 202 });
    }
    if (path.startsWith("/api/v1/integrations")) {
      return new Response(JSON.stringify([{ id: A, name: "jira-a", provider: "jira" }, { id: B, name: "jira-b", provider: "jira" }]));
    }
    if (path.startsWith(`/api/v1/etl/jobs/${JOB}`)) return new Response(JSON.stringify({ id: JOB, status: "running" }));
    return new Response(JSON.stringify({ items: records, next: null }));
  });
  const client = new ApiClient({ getToken: () => "pk_x", onUnauthorized: vi.fn(), fetch: fetch as unknown as typeof globalThis.fetch });
  render(
    <ApiContext.Provider value={client}>
      <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
        <MeContext.Provider value={who}>
          <MemoryRouter initialEntries={[url]}>
            <Routes>
              <Route path="/raw/*" element={<RawArea />} />
            </Routes>
          </MemoryRouter>
        </MeContext.Provider>
      </QueryClientProvider>
    </ApiContext.Provider>,
  );
  return { posts, fetch };
}

describe("the raw data list", () => {
  it("shows the first line of each error and asks for the URL's filters", async () => {
    const { fetch } = mount(`/raw?status=failed&job_id=${JOB}`);
    expect(await screen.findAllByText("field 'created' is missing")).toHaveLength(3);
    const listed = fetch.mock.calls.map(([input]) => String(input)).find((path) => path.startsWith("/api/v1/etl/raw-data"));
    expect(listed).toContain("status=failed");
    expect(listed).toContain(`job_id=${JOB}`);
  });

  it("reprocesses the selected records of one integration after a confirmation", async () => {
    const { posts } = mount("/raw?status=failed");
    await screen.findAllByText("field 'created' is missing");
    const button = screen.getByRole("button", { name: /Reprocess selected/ });
    expect(button.parentElement?.getAttribute("title")).toBe("select the records to reprocess");
    fireEvent.click(screen.getByRole("checkbox", { name: "Select jira_issue 10001" }));
    fireEvent.click(screen.getByRole("checkbox", { name: "Select jira_issue 10003" }));
    expect(button.parentElement?.getAttribute("title")).toMatch(/one integration/);
    fireEvent.click(screen.getByRole("checkbox", { name: "Select jira_issue 10003" }));
    fireEvent.click(screen.getByRole("checkbox", { name: "Select jira_issue 10002" }));
    expect(button.textContent).toBe("Reprocess selected (2)");
    fireEvent.click(button);
    const dialog = await screen.findByRole("dialog", { hidden: true });
    fireEvent.click(within(dialog).getByRole("button", { name: "Reprocess", hidden: true }));
    await waitFor(() => expect(posts).toHaveLength(1));
    expect(posts[0]).toEqual({ path: "/api/v1/etl/reprocess", body: { integration_id: A, raw_ids: [1, 2] } });
    expect(await screen.findByTestId("started-job")).toBeTruthy();
  });

  it("asks for an integration before reprocessing every failed record", async () => {
    mount("/raw?status=failed");
    await screen.findAllByText("field 'created' is missing");
    const all = screen.getByRole("button", { name: "Reprocess all failed" });
    expect(all).toHaveProperty("disabled", true);
    expect(all.parentElement?.getAttribute("title")).toMatch(/choose an integration/);
  });

  it("disables every action for a read-only key, saying why", async () => {
    mount(`/raw?integration_id=${A}`, me({ scopes: ["read"] }));
    await screen.findAllByText("field 'created' is missing");
    fireEvent.click(screen.getByRole("checkbox", { name: "Select jira_issue 10001" }));
    for (const name of [/Reprocess selected/, /Reprocess all failed/]) {
      const button = screen.getByRole("button", { name });
      expect(button).toHaveProperty("disabled", true);
      expect(button.parentElement?.getAttribute("title")).toBe("this key is read-only");
    }
  });
});
