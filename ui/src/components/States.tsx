import type { ReactNode } from "react";

export function Loading({ what }: { what: string }) {
  return (
    <div role="status" className="muted flex items-center gap-2 p-6 text-sm">
      <span className="inline-block size-3 animate-spin rounded-full border-2 border-slate-300 border-t-blue-600" />
      Loading {what}…
    </div>
  );
}

export function ErrorState({ title, error, onRetry }: { title: string; error: unknown; onRetry?: () => void }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div role="alert" className="rounded-lg border border-red-300 bg-red-50 p-4 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
      <p className="font-semibold">{title}</p>
      <p className="mt-1 text-sm break-words">{message}</p>
      {onRetry && (
        <button type="button" className="btn mt-3" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="muted p-6 text-center text-sm">{children}</div>;
}
