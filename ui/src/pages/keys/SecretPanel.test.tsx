import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiClient } from "../../api/client";
import { ApiContext, MeContext } from "../../api/hooks";
import type { Me } from "../../api/types";
import { Toasts } from "../../components/toast";
import { me } from "../../test/fixtures";
import { KeysPage } from "./KeysPage";
import { SecretPanel } from "./SecretPanel";

const SECRET = "pk_s3cr3t-value-0123456789";

function setClipboard(writeText: ((text: string) => Promise<void>) | undefined) {
  Object.defineProperty(navigator, "clipboard", { value: writeText ? { writeText } : undefined, configurable: true });
}

afterEach(() => setClipboard(undefined));

describe("the new key's secret panel", () => {
  it("shows the secret once, with a warning, and copies it", async () => {
    const writeText = vi.fn(async () => undefined);
    setClipboard(writeText);
    render(<SecretPanel name="ci" secret={SECRET} onDone={vi.fn()} />);
    expect(screen.getByRole("textbox", { name: "The new key's secret" })).toHaveProperty("value", SECRET);
    expect(screen.getByRole("note").textContent).toMatch(/only time it is shown/);
    fireEvent.click(screen.getByRole("button", { name: "Copy" }));
    await waitFor(() => expect(screen.getByText("Copied to the clipboard.")).toBeTruthy());
    expect(writeText).toHaveBeenCalledWith(SECRET);
  });

  it("selects the text when the clipboard refuses", async () => {
    setClipboard(vi.fn(async () => Promise.reject(new DOMException("denied", "NotAllowedError"))));
    render(<SecretPanel name="ci" secret={SECRET} onDone={vi.fn()} />);
    const field = screen.getByRole("textbox", { name: "The new key's secret" }) as HTMLInputElement;
    fireEvent.click(screen.getByRole("button", { name: "Copy" }));
    await waitFor(() => expect(screen.getByText(/did not allow copying/)).toBeTruthy());
    expect(document.activeElement).toBe(field);
    expect([field.selectionStart, field.selectionEnd]).toEqual([0, SECRET.length]);
  });

  it("selects the text when there is no clipboard at all", async () => {
    setClipboard(undefined);
    render(<SecretPanel name="ci" secret={SECRET} onDone={vi.fn()} />);
    fireEvent.click(screen.getByRole("button", { name: "Copy" }));
    await waitFor(() => expect(screen.getByText(/did not allow copying/)).toBeTruthy());
  });
});

function page(who: Me, fetch: typeof globalThis.fetch): ReactNode {
  const client = new ApiClient({ getToken: () => "pk_x", onUnauthorized: vi.fn(), fetch });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return (
    <ApiContext.Provider value={client}>
      <QueryClientProvider client={queryClient}>
        <MeContext.Provider value={who}>
          <MemoryRouter>
            <KeysPage />
          </MemoryRouter>
          <Toasts />
        </MeContext.Provider>
      </QueryClientProvider>
    </ApiContext.Provider>
  );
}

const listed = {
  id: "k1", name: "ops", prefix: "pk_abc", is_admin: false, scopes: ["read", "write"],
  created_at: "2025-01-31T10:00:00Z", revoked_at: null,
};

describe("the keys page", () => {
  it("shows a created key's secret until it is hidden, and never in the list", async () => {
    const created = { ...listed, id: "k2", name: "ci", prefix: "pk_s3c", scopes: ["read"], key: SECRET };
    const fetch = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
      if (init?.method === "POST") return new Response(JSON.stringify(created), { status: 201 });
      return new Response(JSON.stringify([listed, { ...created, key: undefined }]), { status: 200 });
    });
    render(page(me(), fetch as unknown as typeof globalThis.fetch));
    expect(await screen.findByText("this key")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "ci" } });
    fireEvent.change(screen.getByLabelText("Access"), { target: { value: "read" } });
    fireEvent.click(screen.getByRole("button", { name: "Create key" }));
    const secret = await screen.findByRole("textbox", { name: "The new key's secret" });
    expect(secret).toHaveProperty("value", SECRET);
    const post = fetch.mock.calls.find(([, init]) => init?.method === "POST")!;
    expect(JSON.parse(String(post[1]!.body))).toEqual({ name: "ci", scopes: ["read"] });
    // Once in the panel, nowhere else: the table shows the prefix only.
    expect(document.body.textContent?.includes(SECRET)).toBe(false); // an input's value is not text
    fireEvent.click(screen.getByRole("button", { name: "Done, hide it" }));
    expect(screen.queryByRole("textbox", { name: "The new key's secret" })).toBeNull();
    expect(document.body.innerHTML.includes(SECRET)).toBe(false);
  });

  it("warns that revoking the key in use signs out, and a read-only key cannot create or revoke", async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify([listed]), { status: 200 }));
    const { unmount } = render(page(me(), fetch as unknown as typeof globalThis.fetch));
    fireEvent.click(await screen.findByRole("button", { name: "Revoke key ops" }));
    expect(await screen.findByText(/you will be signed out/)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Revoke and sign out" })).toBeTruthy();
    unmount();

    render(page(me({ scopes: ["read"], key_id: "other" }), fetch as unknown as typeof globalThis.fetch));
    const revoke = await screen.findByRole("button", { name: "Revoke key ops" });
    expect(revoke).toHaveProperty("disabled", true);
    expect(revoke.getAttribute("title")).toBe("this key is read-only");
    expect(screen.getByRole("button", { name: "Create key" }).getAttribute("title")).toBe("this key is read-only");
    expect(screen.queryByText("this key")).toBeNull();
  });
});
