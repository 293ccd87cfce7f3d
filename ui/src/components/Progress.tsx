import type { Job } from "../api/types";
import { progressShare, progressText } from "../lib/progress";

export function ProgressBar({ share, label }: { share: number | null; label: string }) {
  // The width is set through the DOM's style object (React does), which a CSP's style-src does not govern.
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={share === null ? undefined : Math.round(share * 100)}
      className="h-1.5 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700"
    >
      {share === null ? (
        <div className="h-full w-1/3 animate-pulse rounded-full bg-blue-500/70" />
      ) : (
        <div className="h-full rounded-full bg-blue-600 dark:bg-blue-400" style={{ width: `${Math.round(share * 100)}%` }} />
      )}
    </div>
  );
}

export function JobProgress({ job }: { job: Job & { progress?: number | null } }) {
  const text = progressText(job);
  return (
    <div className="min-w-0">
      <ProgressBar share={progressShare(job)} label={text} />
      <div className="mt-1 truncate text-xs text-slate-600 dark:text-slate-300" title={text}>
        {text}
      </div>
    </div>
  );
}
