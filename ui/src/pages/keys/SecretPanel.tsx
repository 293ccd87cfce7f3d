// A new key's secret, shown once: the API returns it only in the create response and keeps only its
// hash. Copy with the Clipboard API; where that is refused (no permission, an insecure origin) the
// text is selected for the reader to copy by hand.

import { useRef, useState, type ReactNode } from "react";

export async function copyText(text: string, select: () => void): Promise<"copied" | "selected"> {
  try {
    if (!navigator.clipboard?.writeText) throw new Error("no clipboard");
    await navigator.clipboard.writeText(text);
    return "copied";
  } catch {
    select();
    return "selected";
  }
}

const KEY_NOTE =
  "Copy it now: this is the only time it is shown. Only its hash is kept, so it cannot be shown again; if it is lost, create another key and revoke this one.";

/** `title`, `note` and `label` default to a new API key's words; other secrets shown once (a webhook's
 * signing secret) give their own. */
export function SecretPanel({
  name,
  secret,
  onDone,
  title = `Key “${name}” created`,
  note = KEY_NOTE,
  label = "The new key's secret",
}: {
  name: string;
  secret: string;
  onDone: () => void;
  title?: string;
  note?: ReactNode;
  label?: string;
}) {
  const field = useRef<HTMLInputElement>(null);
  const [copy, setCopy] = useState<"idle" | "copied" | "selected">("idle");
  const select = () => {
    field.current?.focus();
    field.current?.select();
  };
  return (
    <section
      aria-labelledby="new-key-title"
      className="rounded-lg border border-green-600/40 bg-green-50 p-4 text-green-950 dark:bg-green-950 dark:text-green-50"
      data-testid="new-key"
    >
      <h2 id="new-key-title" className="font-semibold">
        {title}
      </h2>
      <p className="mt-1 text-sm font-medium" role="note">
        {note}
      </p>
      <div className="mt-3 flex items-center gap-2">
        <label htmlFor="new-key-secret" className="sr-only">
          {label}
        </label>
        <input
          id="new-key-secret"
          ref={field}
          className="field min-w-0 flex-1 font-mono text-xs text-slate-900 dark:text-slate-100"
          readOnly
          value={secret}
          onFocus={(event) => event.currentTarget.select()}
        />
        <button
          type="button"
          className="btn btn-primary"
          onClick={() => void copyText(secret, select).then(setCopy)}
        >
          Copy
        </button>
        <button type="button" className="btn" onClick={onDone}>
          Done, hide it
        </button>
      </div>
      <p className="mt-2 min-h-5 text-xs" aria-live="polite">
        {copy === "copied"
          ? "Copied to the clipboard."
          : copy === "selected"
            ? "The browser did not allow copying: the secret is selected, press Ctrl+C (⌘C) to copy it."
            : ""}
      </p>
    </section>
  );
}
