import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { keys, putJob } from "../api/cache";
import { ApiError } from "../api/client";
import { useApi, useIntegrationName, useWriteBlocked } from "../api/hooks";
import { ACTIVE_STATUSES, RETRYABLE_STATUSES, type Job, type RetryResponse } from "../api/types";
import { shortId } from "../lib/format";
import { ConfirmDialog } from "./ConfirmDialog";
import { toast } from "./toast";

type Action = "cancel" | "retry";

function failed(action: Action, error: unknown) {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ApiError && error.status === 401) return; // back to sign-in, which says why
  toast(action === "cancel" ? "The job was not cancelled" : "The job was not retried", {
    description: message,
    kind: "error",
  });
}

/** Cancel (queued or running) and Retry (failed, partial or cancelled), each after a confirmation. */
export function JobActions({ job }: { job: Job }) {
  const client = useApi();
  const queryClient = useQueryClient();
  const blocked = useWriteBlocked();
  const integrationName = useIntegrationName();
  const [asking, setAsking] = useState<Action | null>(null);
  const path = `/api/v1/etl/jobs/${encodeURIComponent(job.id)}`;

  const cancel = useMutation({
    mutationFn: () => client.post<Job>(`${path}/cancel`),
    onSuccess: (cancelled) => {
      putJob(queryClient, cancelled);
      toast(`Job ${shortId(job.id)} cancelled`, { kind: "success" });
    },
    onError: (error) => failed("cancel", error),
    onSettled: () => {
      setAsking(null);
      void queryClient.invalidateQueries({ queryKey: keys.jobs });
    },
  });
  const retry = useMutation({
    mutationFn: () => client.post<RetryResponse>(`${path}/retry`),
    onSuccess: (created) => {
      toast(`Retry started: ${created.kind} job ${shortId(created.job_id)}`, { kind: "success" });
    },
    onError: (error) => failed("retry", error),
    onSettled: () => {
      setAsking(null);
      void queryClient.invalidateQueries({ queryKey: keys.jobs });
    },
  });

  const canCancel = ACTIVE_STATUSES.includes(job.status);
  const canRetry = RETRYABLE_STATUSES.includes(job.status);
  if (!canCancel && !canRetry) return null;
  const what = `${job.kind} job ${shortId(job.id)} of ${integrationName(job.integration_id)}`;

  return (
    <div className="flex flex-wrap gap-1.5">
      {canCancel && (
        <span title={blocked ?? undefined}>
          <button
            type="button"
            className="btn btn-danger"
            disabled={blocked !== null || cancel.isPending}
            title={blocked ?? `Cancel ${what}`}
            aria-label={`Cancel job ${shortId(job.id)}`}
            onClick={() => setAsking("cancel")}
          >
            Cancel
          </button>
        </span>
      )}
      {canRetry && (
        <span title={blocked ?? undefined}>
          <button
            type="button"
            className="btn"
            disabled={blocked !== null || retry.isPending}
            title={blocked ?? `Retry ${what}`}
            aria-label={`Retry job ${shortId(job.id)}`}
            onClick={() => setAsking("retry")}
          >
            Retry
          </button>
        </span>
      )}
      <ConfirmDialog
        open={asking === "cancel"}
        title={`Cancel ${what}?`}
        confirmLabel="Cancel the job"
        danger
        busy={cancel.isPending}
        onConfirm={() => cancel.mutate()}
        onCancel={() => setAsking(null)}
      >
        It ends at once; its running tasks stop at their next checkpoint and roll back what they had not
        committed. The next sync reads again what this one did not finish.
      </ConfirmDialog>
      <ConfirmDialog
        open={asking === "retry"}
        title={`Retry ${what}?`}
        confirmLabel="Start the retry"
        busy={retry.isPending}
        onConfirm={() => retry.mutate()}
        onCancel={() => setAsking(null)}
      >
        {job.status === "partial"
          ? "A reprocess job transforms and loads again the records that failed in this one."
          : "A new job does what this one left undone."}
      </ConfirmDialog>
    </div>
  );
}
