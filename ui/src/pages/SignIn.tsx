import { useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import { useApi } from "../api/hooks";
import { session, useSession } from "../api/session";
import type { Me } from "../api/types";

/** Asks for an API key (or a JWT), checks it with GET /api/v1/auth/me, then keeps it for this tab. */
export function SignIn() {
  const client = useApi();
  const { message } = useSession();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const input = event.currentTarget.elements.namedItem("key") as HTMLInputElement;
    const key = input.value.trim();
    if (!key) {
      setError("Enter an API key or a token.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await client.request<Me>("GET", "/api/v1/auth/me", { token: key });
      input.value = "";
      session.signIn(key);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  }

  const shown = error ?? message;
  return (
    <main className="mx-auto mt-16 max-w-lg px-5">
      <div className="panel p-6">
        <h1 className="text-lg font-semibold">Sign in to pulse-etl</h1>
        <p className="muted mt-2 text-sm">
          Paste your tenant&apos;s API key (<code>pk_…</code>) or a JWT. It stays in this browser tab only (session
          storage, gone when the tab closes) and is sent only to this API. A read-only key can look at everything but
          change nothing.
        </p>
        <form className="mt-5" onSubmit={submit} noValidate autoComplete="off">
          <label htmlFor="key" className="block text-sm font-medium">
            API key or token
          </label>
          <div className="mt-1 flex gap-2">
            <input
              id="key"
              name="key"
              type="password"
              className="field min-w-0 flex-1"
              spellCheck={false}
              autoComplete="off"
              autoFocus
              aria-describedby={shown ? "sign-in-message" : undefined}
            />
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? "Checking…" : "Sign in"}
            </button>
          </div>
        </form>
        {shown && (
          <p id="sign-in-message" role="alert" className={`mt-3 text-sm break-words ${error || message !== "Signed out." ? "text-red-700 dark:text-red-300" : "muted"}`}>
            {shown}
          </p>
        )}
      </div>
    </main>
  );
}
