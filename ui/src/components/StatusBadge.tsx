const STYLES: Record<string, string> = {
  queued: "bg-amber-100 text-amber-900 dark:bg-amber-900/40 dark:text-amber-200",
  running: "bg-blue-100 text-blue-900 dark:bg-blue-900/40 dark:text-blue-200",
  started: "bg-blue-100 text-blue-900 dark:bg-blue-900/40 dark:text-blue-200",
  succeeded: "bg-green-100 text-green-900 dark:bg-green-900/40 dark:text-green-200",
  partial: "bg-orange-100 text-orange-900 dark:bg-orange-900/40 dark:text-orange-200",
  retrying: "bg-orange-100 text-orange-900 dark:bg-orange-900/40 dark:text-orange-200",
  failed: "bg-red-100 text-red-900 dark:bg-red-900/40 dark:text-red-200",
  cancelled: "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-200",
};

export function StatusBadge({ status }: { status: string }) {
  const style = STYLES[status] ?? STYLES.cancelled;
  return (
    <span className={`inline-block rounded-full px-2 py-0.5 text-xs font-semibold whitespace-nowrap ${style}`}>
      {status}
    </span>
  );
}
