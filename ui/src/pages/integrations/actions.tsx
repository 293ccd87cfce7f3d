// What can be done to a saved integration from the list and from its page: sync (incremental or
// full), enable/disable, delete. Each says what happened in words, with a link to the job it started.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { keys } from "../../api/cache";
import { ApiError } from "../../api/client";
import { useApi, useWriteBlocked } from "../../api/hooks";
import { integrationPath, type IntegrationFull, type TriggerResponse } from "../../api/integrations";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { toast } from "../../components/toast";
import { shortId } from "../../lib/format";

export type Outcome = { kind: "started" | "active"; jobId: string; message: string } | { kind: "error"; message: string };

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The job a 409 names ("already has an active job"), when it names one. */
export function activeJobOf(error: unknown): string | null {
  if (!(error instanceof ApiError) || error.status !== 409) return null;
  const body = error.body as { job_id?: unknown } | null;
  return body && typeof body.job_id === "string" ? body.job_id : null;
}

export function OutcomeNote({ outcome }: { outcome: Outcome | null }) {
  if (!outcome) return null;
  if (outcome.kind === "error") {
    return (
      <p role="alert" className="mt-1 text-xs break-words text-red-700 dark:text-red-300">
        {outcome.message}
      </p>
    );
  }
  return (
    <p role="status" className={`mt-1 text-xs ${outcome.kind === "active" ? "text-amber-800 dark:text-amber-200" : "text-green-800 dark:text-green-200"}`}>
      {outcome.message}{" "}
      <Link className="link" to={`/jobs/${outcome.jobId}`}>
        job {shortId(outcome.jobId)}
      </Link>
    </p>
  );
}

/** Sync now / Full sync / Enable-Disable / Delete for one integration. */
export function IntegrationActions({ integration, compact = false, showEdit = true }: { integration: IntegrationFull; compact?: boolean; showEdit?: boolean }) {
  const client = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const blocked = useWriteBlocked();
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [deleting, setDeleting] = useState(false);
  const path = integrationPath(integration.id);

  const sync = useMutation({
    mutationFn: (kind: "incremental" | "full") =>
      client.post<TriggerResponse>("/api/v1/etl/pipeline/trigger", { integration_id: integration.id, kind }),
    onSuccess: (started, kind) => {
      setOutcome({ kind: "started", jobId: started.job_id, message: kind === "full" ? "Full sync started:" : "Sync started:" });
      void queryClient.invalidateQueries({ queryKey: keys.jobs });
    },
    onError: (error) => {
      const active = activeJobOf(error);
      setOutcome(
        active
          ? { kind: "active", jobId: active, message: `${integration.name} already has an active job; wait for it or cancel it:` }
          : { kind: "error", message: `Not started: ${message(error)}` },
      );
    },
  });
  const toggle = useMutation({
    mutationFn: () => client.request<IntegrationFull>("PATCH", path, { body: { enabled: !integration.enabled } }),
    onSuccess: (changed) => {
      toast(`${changed.name} ${changed.enabled ? "enabled" : "disabled"}`, { kind: "success" });
      void queryClient.invalidateQueries({ queryKey: keys.integrations });
    },
    onError: (error) => setOutcome({ kind: "error", message: message(error) }),
  });
  const remove = useMutation({
    mutationFn: () => client.request<null>("DELETE", path),
    onSuccess: () => {
      toast(`${integration.name} deleted`, { kind: "success" });
      queryClient.removeQueries({ queryKey: [...keys.integrations, "one", integration.id] });
      void queryClient.invalidateQueries({ queryKey: keys.integrations });
      void navigate("/integrations");
    },
    onError: (error) => {
      const active = activeJobOf(error);
      setOutcome(
        active
          ? { kind: "active", jobId: active, message: `Not deleted: ${integration.name} has an active job; cancel it or wait for it to end:` }
          : { kind: "error", message: `Not deleted: ${message(error)}` },
      );
    },
    onSettled: () => setDeleting(false),
  });

  const why = (what: string) => blocked ?? what;
  const size = compact ? "px-1.5 py-0.5 text-xs" : "";
  return (
    <div>
      <div className="flex flex-wrap gap-1">
        <button type="button" className={`btn btn-primary ${size}`} disabled={blocked !== null || sync.isPending}
          title={why(`Sync ${integration.name} now: what changed since the last sync`)} onClick={() => sync.mutate("incremental")}>
          Sync now
        </button>
        <button type="button" className={`btn ${size}`} disabled={blocked !== null || sync.isPending}
          title={why(`Read everything of ${integration.name} again`)} onClick={() => sync.mutate("full")}>
          Full sync
        </button>
        <button type="button" className={`btn ${size}`} disabled={blocked !== null || toggle.isPending}
          title={why(integration.enabled ? "Stop syncing on schedule" : "Sync on schedule again")} onClick={() => toggle.mutate()}>
          {integration.enabled ? "Disable" : "Enable"}
        </button>
        {showEdit && (
          <Link className={`btn ${size}`} to={`/integrations/${integration.id}`} title={`Edit ${integration.name}`}>
            Edit
          </Link>
        )}
        <button type="button" className={`btn btn-danger ${size}`} disabled={blocked !== null || remove.isPending}
          title={why(`Delete ${integration.name}`)} aria-label={`Delete ${integration.name}`} onClick={() => setDeleting(true)}>
          Delete
        </button>
      </div>
      <OutcomeNote outcome={outcome} />
      <ConfirmDialog
        open={deleting}
        title={`Delete ${integration.name}?`}
        confirmLabel={`Delete ${integration.name}`}
        danger
        busy={remove.isPending}
        onConfirm={() => remove.mutate()}
        onCancel={() => setDeleting(false)}
      >
        Everything synced from {integration.name} goes with it: its raw data, jobs, work items and pull requests. This
        cannot be undone.
      </ConfirmDialog>
    </div>
  );
}
