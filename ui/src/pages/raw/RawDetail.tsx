import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { Link, useParams } from "react-router";
import { useRowOf } from "../../api/data";
import { useApi, useIntegrationName, useWriteBlocked } from "../../api/hooks";
import { rawKeys, useRawRecord, type RawRecord, type ReprocessResponse, type StoreResponse } from "../../api/raw";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { JsonViewer } from "../../components/JsonViewer";
import { StatusBadge } from "../../components/StatusBadge";
import { ErrorState, Loading } from "../../components/States";
import { toast } from "../../components/toast";
import { dateTime, shortId } from "../../lib/format";
import { stageWords } from "../../lib/errors";
import { Refusal, StartedJob, refusalOf } from "./StartedJob";

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="muted text-xs font-medium">{label}</dt>
      <dd className="mt-0.5 text-sm break-words">{children}</dd>
    </div>
  );
}

function FinalRow({ record }: { record: RawRecord }) {
  const row = useRowOf(record);
  if (record.entity_type === "github_pr_review" || record.entity_type === "github_pr_commit") {
    if (row.data) {
      return (
        <>
          part of{" "}
          <Link className="link" to={row.data.to}>
            pull request {row.data.label}
          </Link>
        </>
      );
    }
  } else if (row.data) {
    return (
      <Link className="link" to={row.data.to} data-testid="final-row">
        {row.data.kind} {row.data.label}
      </Link>
    );
  }
  if (row.isPending && row.fetchStatus !== "idle") return <span className="muted">looking…</span>;
  if (row.isError) return <span className="muted">could not look it up ({row.error.message})</span>;
  return <span className="muted">{record.processing_status === "completed" ? "none found" : "none: it has not been loaded"}</span>;
}

function ErrorPanel({ details }: { details: Record<string, unknown> }) {
  const error = typeof details.error === "string" ? details.error : typeof details.message === "string" ? details.message : null;
  const stage = typeof details.stage === "string" ? details.stage : undefined;
  const jobId = typeof details.job_id === "string" ? details.job_id : null;
  const others = Object.entries(details).filter(([name]) => !["error", "message", "stage", "job_id"].includes(name));
  return (
    <section
      aria-labelledby="raw-error"
      className="rounded-lg border border-red-300 bg-red-50 p-4 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100"
    >
      <h2 id="raw-error" className="font-semibold">
        {stageWords(stage) ?? "Error"}
        {jobId && (
          <>
            {" "}
            in job{" "}
            <Link className="link font-mono" to={`/jobs/${jobId}`} title={jobId}>
              {shortId(jobId)}
            </Link>
          </>
        )}
      </h2>
      {error !== null && (
        <pre className="mt-2 max-h-80 overflow-auto font-mono text-xs whitespace-pre-wrap break-words" data-testid="raw-error">
          {error}
        </pre>
      )}
      {others.length > 0 && (
        <dl className="mt-2 grid grid-cols-[10rem_1fr] gap-x-3 gap-y-1 text-xs">
          {others.map(([name, value]) => (
            <div key={name} className="contents">
              <dt className="font-medium">{name.replaceAll("_", " ")}</dt>
              <dd className="break-words">{typeof value === "string" ? value : JSON.stringify(value)}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

function PayloadEditor({ record, onStarted, onRefused, onClose }: {
  record: RawRecord;
  onStarted: (jobId: string | null, detail: string | null) => void;
  onRefused: (error: unknown) => void;
  onClose: () => void;
}) {
  const client = useApi();
  const queryClient = useQueryClient();
  const [text, setText] = useState(() => JSON.stringify(record.payload ?? {}, null, 2));
  const [invalid, setInvalid] = useState<string | null>(null);
  const store = useMutation({
    mutationFn: (payload: Record<string, unknown>) =>
      client.post<StoreResponse>("/api/v1/etl/raw-data/store", {
        integration_id: record.integration_id,
        entity_type: record.entity_type,
        records: [{ external_id: record.external_id, payload }],
        process: true,
      }),
    onSuccess: (response) => {
      void queryClient.invalidateQueries({ queryKey: rawKeys.all });
      onStarted(response.job_id, response.detail);
      onClose();
    },
    onError: onRefused,
  });
  const submit = () => {
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch (error) {
      setInvalid(`not JSON: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (!payload || typeof payload !== "object" || Array.isArray(payload)) {
      setInvalid("the payload must be a JSON object");
      return;
    }
    setInvalid(null);
    store.mutate(payload as Record<string, unknown>);
  };
  return (
    <form
      className="mt-3 space-y-2"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <label className="block text-xs font-medium" htmlFor="payload-editor">
        Corrected payload (stored as this record's new content, then transformed and loaded by a reprocess job)
      </label>
      <textarea
        id="payload-editor"
        className="field h-80 w-full font-mono text-xs"
        spellCheck={false}
        value={text}
        onChange={(event) => setText(event.target.value)}
        aria-invalid={invalid !== null}
        aria-describedby={invalid ? "payload-invalid" : undefined}
      />
      {invalid && (
        <p id="payload-invalid" role="alert" className="text-sm text-red-700 dark:text-red-300">
          {invalid}
        </p>
      )}
      <div className="flex gap-2">
        <button type="submit" className="btn btn-primary" disabled={store.isPending}>
          {store.isPending ? "Storing…" : "Store and reprocess"}
        </button>
        <button type="button" className="btn" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function RawDetail() {
  const { id = "" } = useParams();
  const client = useApi();
  const queryClient = useQueryClient();
  const record = useRawRecord(id);
  const integrationName = useIntegrationName();
  const blocked = useWriteBlocked();
  const [asking, setAsking] = useState(false);
  const [editing, setEditing] = useState(false);
  const [started, setStarted] = useState<{ jobId: string; records: number | null } | null>(null);
  const [refused, setRefused] = useState<{ message: string; jobId: string | null } | null>(null);

  const reprocess = useMutation({
    mutationFn: (raw: RawRecord) =>
      client.post<ReprocessResponse>("/api/v1/etl/reprocess", { integration_id: raw.integration_id, raw_ids: [raw.id] }),
    onSuccess: (response) => {
      setStarted({ jobId: response.job_id, records: response.records });
      setRefused(null);
      void queryClient.invalidateQueries({ queryKey: rawKeys.all });
    },
    onError: (error) => {
      setRefused(refusalOf(error));
      setStarted(null);
    },
    onSettled: () => setAsking(false),
  });

  if (record.isPending) return <Loading what="the raw record" />;
  if (record.isError) {
    return (
      <div className="space-y-3">
        <Link className="link text-sm" to="/raw">
          ← Raw data
        </Link>
        <ErrorState title={`Could not read raw record ${id}`} error={record.error} onRetry={() => void record.refetch()} />
      </div>
    );
  }
  const raw = record.data;
  const json = JSON.stringify(raw.payload ?? null, null, 2);
  const copy = () => {
    const done = () => toast("Payload copied", { kind: "success" });
    const failed = (why: unknown) =>
      toast("Could not copy the payload", { kind: "error", description: why instanceof Error ? why.message : "the browser refused" });
    try {
      if (!navigator.clipboard) throw new Error("this browser gives no clipboard here");
      navigator.clipboard.writeText(json).then(done, failed);
    } catch (error) {
      failed(error);
    }
  };
  const listOf = `/raw?integration_id=${encodeURIComponent(raw.integration_id)}&entity_type=${encodeURIComponent(raw.entity_type)}`;

  return (
    <div className="space-y-4">
      <div>
        <Link className="link text-sm" to={listOf}>
          ← Raw data of {integrationName(raw.integration_id)}
        </Link>
        <div className="mt-1 flex flex-wrap items-center gap-3">
          <h1 className="min-w-0 truncate text-xl font-semibold" title={raw.external_id}>
            {raw.entity_type} {raw.external_id}
          </h1>
          <StatusBadge status={raw.processing_status} />
          <div className="ml-auto flex gap-2">
            <span title={blocked ?? undefined}>
              <button type="button" className="btn" disabled={blocked !== null || reprocess.isPending} onClick={() => setAsking(true)}>
                Reprocess
              </button>
            </span>
            <span title={blocked ?? undefined}>
              <button type="button" className="btn" disabled={blocked !== null || editing} onClick={() => setEditing(true)}>
                Edit payload
              </button>
            </span>
          </div>
        </div>
      </div>

      {started && <StartedJob jobId={started.jobId} records={started.records} onDismiss={() => setStarted(null)} />}
      {refused && <Refusal message={refused.message} jobId={refused.jobId} onDismiss={() => setRefused(null)} />}
      {raw.error_details && raw.processing_status === "failed" && <ErrorPanel details={raw.error_details} />}

      <section className="panel p-4" aria-label="About this record">
        <dl className="grid grid-cols-2 gap-x-6 gap-y-3 md:grid-cols-4">
          <Field label="Integration">{integrationName(raw.integration_id)}</Field>
          <Field label="Entity type">{raw.entity_type}</Field>
          <Field label="External id">
            <span className="font-mono">{raw.external_id}</span>
          </Field>
          <Field label="Loaded into">
            <FinalRow record={raw} />
          </Field>
          <Field label="First stored">{dateTime(raw.created_at)}</Field>
          <Field label="Payload last written">{dateTime(raw.updated_at)}</Field>
          <Field label="Processed">{dateTime(raw.processed_at)}</Field>
          <Field label="Raw id">
            <span className="font-mono">{raw.id}</span>
          </Field>
          <Field label="Content hash">
            <span className="font-mono text-xs" title={raw.content_hash}>
              {raw.content_hash.slice(0, 16)}…
            </span>
          </Field>
        </dl>
        {raw.error_details && raw.processing_status !== "failed" && (
          <p className="muted mt-3 text-xs">Earlier error: {JSON.stringify(raw.error_details)}</p>
        )}
      </section>

      <section className="panel p-4" aria-labelledby="payload-title">
        <div className="flex items-center gap-2">
          <h2 id="payload-title" className="font-semibold">
            Payload
          </h2>
          <span className="muted text-xs">as the source served it</span>
          <button type="button" className="btn ml-auto" onClick={copy}>
            Copy JSON
          </button>
        </div>
        {editing && (
          <PayloadEditor
            record={raw}
            onStarted={(jobId, detail) => {
              setRefused(null);
              if (jobId) setStarted({ jobId, records: 1 });
              else toast("Stored", { description: detail ?? undefined, kind: "info" });
            }}
            onRefused={(error) => {
              setRefused(refusalOf(error));
              setStarted(null);
            }}
            onClose={() => setEditing(false)}
          />
        )}
        <div className="mt-3">
          <JsonViewer value={raw.payload} label="Payload" />
        </div>
      </section>

      <section className="panel p-4" aria-labelledby="metadata-title">
        <h2 id="metadata-title" className="font-semibold">
          Extraction metadata
        </h2>
        <div className="mt-2">
          <JsonViewer value={raw.extraction_metadata} label="Extraction metadata" openDepth={1} />
        </div>
      </section>

      <ConfirmDialog
        open={asking}
        title="Reprocess this record?"
        confirmLabel="Reprocess"
        busy={reprocess.isPending}
        onConfirm={() => reprocess.mutate(raw)}
        onCancel={() => setAsking(false)}
      >
        <p>
          A reprocess job transforms and loads {raw.entity_type} {raw.external_id} again from its stored payload, without calling the
          source.
        </p>
      </ConfirmDialog>
    </div>
  );
}
