import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { Link } from "react-router";
import { dataKeys } from "../../api/data";
import { useJob } from "../../api/hooks";
import { rawKeys } from "../../api/raw";
import { ACTIVE_STATUSES } from "../../api/types";
import { StatusBadge } from "../../components/StatusBadge";
import { plural, shortId } from "../../lib/format";

/** The reprocess job a page just started: a link to it, its status as the live stream tells it, and
 * the raw records and rows read again once it has ended. */
export function StartedJob({ jobId, records, onDismiss }: { jobId: string; records: number | null; onDismiss: () => void }) {
  const job = useJob(jobId);
  const queryClient = useQueryClient();
  const status = job.data?.status ?? "queued";
  const ended = job.isSuccess && !ACTIVE_STATUSES.includes(status);
  useEffect(() => {
    if (!ended) return;
    void queryClient.invalidateQueries({ queryKey: rawKeys.all });
    void queryClient.invalidateQueries({ queryKey: dataKeys.all });
  }, [ended, queryClient]);
  return (
    <div
      role="status"
      data-testid="started-job"
      className="panel flex flex-wrap items-center gap-2 border-blue-300 p-3 text-sm dark:border-blue-800"
    >
      <span>
        Started reprocess job{" "}
        <Link className="link font-mono" to={`/jobs/${jobId}`} title={jobId}>
          {shortId(jobId)}
        </Link>
        {records !== null && <> for {plural(records, "record")}</>}:
      </span>
      <StatusBadge status={status} />
      {ended && <span className="muted">the list below is read again.</span>}
      <button type="button" className="btn ml-auto" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}

/** An API refusal in words, with the job it names (409: the integration already has an active job). */
export function Refusal({ message, jobId, onDismiss }: { message: string; jobId?: string | null; onDismiss: () => void }) {
  return (
    <div role="alert" className="rounded-lg border border-red-300 bg-red-50 p-3 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
      <p className="break-words">{message}</p>
      <div className="mt-2 flex gap-3">
        {jobId && (
          <Link className="link" to={`/jobs/${jobId}`}>
            Open job {shortId(jobId)}
          </Link>
        )}
        <button type="button" className="btn" onClick={onDismiss}>
          Dismiss
        </button>
      </div>
    </div>
  );
}

/** What to show for a failed write: the API's message and, for a 409, the active job. */
export function refusalOf(error: unknown): { message: string; jobId: string | null } {
  const message = error instanceof Error ? error.message : String(error);
  const body = (error as { body?: unknown }).body;
  const jobId = body && typeof body === "object" && typeof (body as { job_id?: unknown }).job_id === "string" ? (body as { job_id: string }).job_id : null;
  const status = (error as { status?: number }).status;
  const lead = status === 409 ? "Not started: another job of this integration is running. " : status === 422 ? "Not started: " : "";
  return { message: `${lead}${message}`, jobId };
}
