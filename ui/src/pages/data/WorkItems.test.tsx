import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { ApiClient } from "../../api/client";
import { ApiContext, MeContext } from "../../api/hooks";
import { me } from "../../test/fixtures";
import DataArea from "./index";

function Where() {
  const location = useLocation();
  return <output data-testid="where">{location.pathname + location.search}</output>;
}

function answer(path: string): unknown {
  if (path.startsWith("/api/v1/integrations")) return [];
  return { items: [], next: null };
}

function mount(url: string) {
  const calls: string[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL) => {
    const path = String(input);
    calls.push(path);
    return new Response(JSON.stringify(answer(path)), { status: 200, headers: { "Content-Type": "application/json" } });
  });
  const client = new ApiClient({ getToken: () => "pk_x", onUnauthorized: vi.fn(), fetch: fetch as unknown as typeof globalThis.fetch });
  render(
    <ApiContext.Provider value={client}>
      <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
        <MeContext.Provider value={me()}>
          <MemoryRouter initialEntries={[url]}>
            <Routes>
              <Route path="/data/*" element={<DataArea />} />
            </Routes>
            <Where />
          </MemoryRouter>
        </MeContext.Provider>
      </QueryClientProvider>
    </ApiContext.Provider>,
  );
  return calls;
}

const listCalls = (calls: string[], path: string) =>
  calls.filter((call) => call.startsWith(path + "?") || call === path).map((call) => new URL(call, "http://x").searchParams);

describe("the data tables", () => {
  it("/data shows the work items", async () => {
    mount("/data");
    await waitFor(() => expect(screen.getByTestId("where").textContent).toBe("/data/work-items"));
    expect(await screen.findByText(/No work items yet/)).toBeTruthy();
  });

  it("ask the API for the URL's filters, in its words", async () => {
    const calls = mount("/data/work-items?project=ABC&status_category=done&updated_since=2025-03-01&deleted=only&bogus=1");
    await screen.findByText("No work item matches these filters.");
    const [query] = listCalls(calls, "/api/v1/work-items");
    expect(query?.get("project")).toBe("ABC");
    expect(query?.get("status_category")).toBe("done");
    expect(query?.get("deleted_only")).toBe("true");
    expect(query?.get("bogus")).toBeNull();
    expect(query?.get("limit")).toBe("50");
    expect(new Date(query?.get("updated_since") ?? "").getTime()).toBe(new Date("2025-03-01T00:00:00").getTime());
    expect((screen.getByRole("searchbox", { name: "Project" }) as HTMLInputElement).value).toBe("ABC");
  });

  it("put a filter in the URL when it is applied, and clear them all", async () => {
    const calls = mount("/data/work-items?project=ABC");
    const assignee = await screen.findByRole("searchbox", { name: "Assignee" });
    fireEvent.change(assignee, { target: { value: "Ada Lovelace" } });
    expect(screen.getByTestId("where").textContent).toBe("/data/work-items?project=ABC"); // not on every key
    fireEvent.keyDown(assignee, { key: "Enter" });
    await waitFor(() => expect(screen.getByTestId("where").textContent).toBe("/data/work-items?project=ABC&assignee=Ada+Lovelace"));
    await waitFor(() => expect(listCalls(calls, "/api/v1/work-items").some((q) => q.get("assignee") === "Ada Lovelace")).toBe(true));
    fireEvent.click(screen.getByRole("button", { name: "Clear filters" }));
    await waitFor(() => expect(screen.getByTestId("where").textContent).toBe("/data/work-items"));
    expect((screen.getByRole("searchbox", { name: "Assignee" }) as HTMLInputElement).value).toBe("");
  });

  it("filter pull requests by state from a select", async () => {
    const calls = mount("/data/pull-requests");
    const state = await screen.findByRole("combobox", { name: "State" });
    fireEvent.change(state, { target: { value: "merged" } });
    await waitFor(() => expect(screen.getByTestId("where").textContent).toBe("/data/pull-requests?state=merged"));
    await waitFor(() => expect(listCalls(calls, "/api/v1/pull-requests").some((q) => q.get("state") === "merged")).toBe(true));
  });
});
