import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiClient } from "../api/client";
import { ApiContext } from "../api/hooks";
import { IntegrationName } from "./IntegrationName";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function wrap(children: ReactNode, queryClient: QueryClient) {
  const client = new ApiClient({ getToken: () => "pk_x", onUnauthorized: vi.fn(), fetch: vi.fn(async () => new Response("[]")) });
  return render(
    <ApiContext.Provider value={client}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </ApiContext.Provider>,
  );
}

describe("IntegrationName", () => {
  const created: string[] = [];
  const revoked: string[] = [];
  beforeEach(() => {
    let n = 0;
    URL.createObjectURL = vi.fn(() => {
      const url = `blob:logo-${++n}`;
      created.push(url);
      return url;
    });
    URL.revokeObjectURL = vi.fn((url: string) => void revoked.push(url));
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    created.length = 0;
    revoked.length = 0;
  });

  it("shows the name without fetching anything when there is no logo", () => {
    const fetch = vi.fn();
    vi.stubGlobal("fetch", fetch);
    wrap(<IntegrationName integration={{ id: "i1", name: "acme-jira", logo_updated_at: null }} />, new QueryClient());
    expect(screen.getByText("acme-jira")).toBeTruthy();
    expect(screen.queryByTestId("integration-logo")).toBeNull();
    expect(fetch).not.toHaveBeenCalled();
  });

  it("fetches the logo with the key, shows it by object URL and revokes it when the cache lets it go", async () => {
    const fetch = vi.fn(async () => new Response(PNG, { headers: { "Content-Type": "image/png" } }));
    vi.stubGlobal("fetch", fetch);
    const queryClient = new QueryClient();
    wrap(<IntegrationName integration={{ id: "i1", name: "acme-jira", logo_updated_at: "2025-01-01T00:00:00Z" }} />, queryClient);
    const img = await screen.findByTestId("integration-logo");
    expect(img.getAttribute("src")).toBe("blob:logo-1");
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/v1/integrations/i1/logo");
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer pk_x");
    queryClient.clear(); // as at sign-out
    expect(revoked).toEqual(["blob:logo-1"]);
  });

  it("refuses what the server answers as anything but an accepted image", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response("<html></html>", { headers: { "Content-Type": "text/html" } })));
    const queryClient = new QueryClient();
    wrap(<IntegrationName integration={{ id: "i2", name: "gh", logo_updated_at: "2025-01-01T00:00:00Z" }} />, queryClient);
    await waitFor(() => expect(queryClient.getQueryCache().findAll({ queryKey: ["integration-logo", "i2"] })[0]?.state.status).toBe("error"));
    expect(screen.queryByTestId("integration-logo")).toBeNull();
    expect(created).toEqual([]);
  });
});
