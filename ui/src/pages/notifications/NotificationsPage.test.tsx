import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { ApiClient } from "../../api/client";
import { ApiContext, MeContext } from "../../api/hooks";
import type { Webhook } from "../../api/notifications";
import { Toasts } from "../../components/toast";
import { me } from "../../test/fixtures";
import { NotificationsPage } from "./NotificationsPage";

const SLACK_URL = "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstXk9Q";
const MASKED = "https://hooks.slack.com/…Xk9Q";

function webhook(over: Partial<Webhook> = {}): Webhook {
  return {
    id: "5e0b0000-0000-4000-8000-000000000001", name: "ops-alerts", url_display: MASKED, format: "slack",
    events: ["job.failed"], stale_after_minutes: null, enabled: true, created_at: "2025-01-31T10:00:00Z", ...over,
  };
}

/** The page over a fake API: GET answers the webhooks listed so far; POST adds one (as the API
 * does: the answer carries the masked URL and the secret, never the URL). */
function wrap(listed: Webhook[]) {
  const fetch = vi.fn(async (_url: string, init?: RequestInit) => {
    if (init?.method === "POST") {
      const created = webhook({ name: JSON.parse(String(init.body)).name });
      listed.push(created);
      return new Response(JSON.stringify({ ...created, secret: "whsec_new" }), { status: 201 });
    }
    return new Response(JSON.stringify(listed));
  });
  const client = new ApiClient({ getToken: () => "pk_x", onUnauthorized: vi.fn(), fetch: fetch as unknown as typeof globalThis.fetch });
  render(
    <ApiContext.Provider value={client}>
      <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
        <MeContext.Provider value={me()}>
          <MemoryRouter>
            <NotificationsPage />
          </MemoryRouter>
          <Toasts />
        </MeContext.Provider>
      </QueryClientProvider>
    </ApiContext.Provider>,
  );
  return fetch;
}

const rowOf = (name: string) =>
  waitFor(() => {
    const row = screen.getAllByRole("row").find((r) => r.textContent?.includes(name));
    if (!row) throw new Error(`no row for ${name} yet`);
    return row;
  });

describe("webhook URLs on the notifications page", () => {
  it("lists a webhook with its masked URL only", async () => {
    wrap([webhook()]);
    const row = await rowOf("ops-alerts");
    expect(within(row).getByText(MASKED)).toBeTruthy();
    expect(document.body.textContent).not.toContain("/services/");
  });

  it("sends the typed URL once, then shows only the masked form", async () => {
    const fetch = wrap([]);
    await screen.findByText(/No webhook yet/);
    const form = screen.getByRole("form", { name: "Add a webhook" });
    fireEvent.change(within(form).getByLabelText("Name"), { target: { value: "ops-alerts" } });
    fireEvent.change(within(form).getByLabelText("URL"), { target: { value: SLACK_URL } });
    fireEvent.click(within(form).getByRole("button", { name: "Add webhook" }));

    const row = await rowOf("ops-alerts");
    expect(within(row).getByText(MASKED)).toBeTruthy();
    const [, init] = fetch.mock.calls.find(([, init]) => init?.method === "POST") as unknown as [string, RequestInit];
    expect(JSON.parse(String(init.body)).url).toBe(SLACK_URL);
    expect(within(form).getByLabelText("URL")).toHaveProperty("value", "");
    expect(document.body.innerHTML).not.toContain(SLACK_URL);
  });
});
