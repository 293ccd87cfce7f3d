import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { ApiClient } from "../../api/client";
import { ApiContext, MeContext } from "../../api/hooks";
import { me } from "../../test/fixtures";
import { IntegrationForm } from "./Form";

function wrap(fetch: typeof globalThis.fetch, scopes = ["read", "write"]) {
  const client = new ApiClient({ getToken: () => "pk_x", onUnauthorized: vi.fn(), fetch });
  return render(
    <ApiContext.Provider value={client}>
      <QueryClientProvider client={new QueryClient()}>
        <MeContext.Provider value={me({ scopes })}>
          <MemoryRouter>
            <IntegrationForm />
          </MemoryRouter>
        </MeContext.Provider>
      </QueryClientProvider>
    </ApiContext.Provider>,
  );
}

function fill() {
  fireEvent.change(screen.getByLabelText("Name"), { target: { value: "acme" } });
  fireEvent.change(screen.getByLabelText("Base URL"), { target: { value: "https://acme.atlassian.net" } });
  fireEvent.change(screen.getByLabelText("Email"), { target: { value: "bot@acme.com" } });
  fireEvent.change(screen.getByLabelText("API token"), { target: { value: "secret" } });
  fireEvent.change(screen.getByLabelText("Projects"), { target: { value: "ABC" } });
}

describe("the new integration form", () => {
  it("enables Save only after a passing test of the values on screen", async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify({ ok: true, account: "ETL Bot", checked: ["project ABC"] })));
    wrap(fetch as unknown as typeof globalThis.fetch);
    const token = screen.getByLabelText("API token");
    expect(token.getAttribute("type")).toBe("password");
    expect(token.getAttribute("autocomplete")).toBe("off");
    const save = screen.getByRole("button", { name: "Save" });
    fill();
    expect(save).toHaveProperty("disabled", true);
    fireEvent.click(screen.getByRole("button", { name: "Test connection" }));
    expect(await screen.findByText("project ABC ✓")).toBeTruthy();
    expect(save).toHaveProperty("disabled", false);
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/v1/integrations/test");
    expect(JSON.parse(String(init.body))).toMatchObject({ provider: "jira", settings: { projects: ["ABC"], flavor: "cloud" } });
    fireEvent.change(screen.getByLabelText("Projects"), { target: { value: "ABC, OPS" } });
    expect(save).toHaveProperty("disabled", true); // any edit invalidates the test
  });

  it("shows the client-side checks, and the API's 422 next to the form", async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify({ detail: "settings: something the API refuses" }), { status: 422 }));
    wrap(fetch as unknown as typeof globalThis.fetch);
    fireEvent.click(screen.getByRole("button", { name: "Test connection" }));
    expect(screen.getByText("integration name must not be empty")).toBeTruthy();
    expect(fetch).not.toHaveBeenCalled();
    fill();
    fireEvent.click(screen.getByRole("button", { name: "Test connection" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("something the API refuses"));
  });

  it("is disabled for a read-only key, saying why", () => {
    wrap(vi.fn() as unknown as typeof globalThis.fetch, ["read"]);
    const test = screen.getByRole("button", { name: "Test connection" });
    expect(test).toHaveProperty("disabled", true);
    expect(test.getAttribute("title")).toBe("this key is read-only");
  });
});
