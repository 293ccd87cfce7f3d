import { Link } from "react-router";
import { useQueues, QUEUES_REFRESH_MS, type Queues, type StageQueue } from "../../api/queues";
import { ErrorState, Loading } from "../../components/States";
import { n, plural } from "../../lib/format";
import { preferences } from "../../lib/preferences";

const STAGE_TEXT: Record<string, string> = {
  extract: "Reading pages from the sources",
  transform: "Applying the mappings to raw records",
  load: "Writing rows to the final tables",
};

/** A clock time in the reader's chosen zone (Preferences), e.g. "14:03:21". */
export function clockTime(ms: number): string {
  const zone = preferences().timeZone;
  return new Date(ms).toLocaleTimeString(undefined, zone ? { timeZone: zone, timeZoneName: "short" } : undefined);
}

function Stat({ label, value, title }: { label: string; value: string; title?: string }) {
  return (
    <div title={title}>
      <dt className="muted text-xs">{label}</dt>
      <dd className="text-2xl font-semibold tabular-nums">{value}</dd>
    </div>
  );
}

function StageCard({ stage, scope }: { stage: StageQueue; scope: Queues["scope"] }) {
  const idle = scope === "broker" && stage.consumers === 0;
  return (
    <li className="panel p-4" data-stage={stage.stage}>
      <h2 className="text-base font-semibold capitalize">{stage.stage}</h2>
      <p className="muted text-xs">{STAGE_TEXT[stage.stage]}</p>
      <dl className="mt-3 grid grid-cols-2 gap-3">
        {scope === "broker" && (
          <>
            <Stat label="Messages waiting" value={n(stage.messages)} title="ready in the broker's queues, every tenant's" />
            <Stat label="Consumers" value={n(stage.consumers)} title="worker processes consuming this stage" />
          </>
        )}
        <Stat
          label={scope === "broker" ? "Your tenant's batches waiting" : "Batches waiting"}
          value={n(stage.pending_batches)}
          title="pages of your active jobs waiting for this stage"
        />
      </dl>
      {idle && (
        <p className="mt-2 text-xs font-medium text-amber-800 dark:text-amber-300">
          No worker consumes this stage: its messages wait until one starts.
        </p>
      )}
      {scope === "broker" && stage.queues.length > 0 && (
        <ul className="mt-3 border-t border-slate-100 pt-2 text-xs dark:border-slate-800">
          {stage.queues.map((queue) => (
            <li key={queue.name} className="flex justify-between gap-2">
              <span className="font-mono">{queue.name}</span>
              <span className="muted tabular-nums">
                {queue.declared ? `${plural(queue.messages, "message")} · ${plural(queue.consumers, "consumer")}` : "not declared yet"}
              </span>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

export function QueuesPage() {
  const queues = useQueues();
  return (
    <div>
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h1 className="text-xl font-semibold">Queues</h1>
        <span className="muted text-xs" aria-live="polite">
          {queues.dataUpdatedAt ? `Last refreshed ${clockTime(queues.dataUpdatedAt)}` : "Not read yet"} · every{" "}
          {QUEUES_REFRESH_MS / 1000} s while this page is visible
          {queues.isFetching ? " · reading…" : ""}
        </span>
      </div>
      {queues.isPending ? (
        <Loading what="the queues" />
      ) : queues.isError && !queues.data ? (
        <div className="mt-4">
          <ErrorState title="Could not read the queues" error={queues.error} onRetry={() => void queues.refetch()} />
        </div>
      ) : (
        <>
          {queues.isError && (
            <div className="mt-4">
              <ErrorState title="The last refresh failed; the numbers below are older" error={queues.error} />
            </div>
          )}
          <p className="muted mt-1 text-sm">
            {queues.data.scope === "broker"
              ? "An admin key: the broker's queues of every stage (all tenants' work, manual and scheduled lanes), and your tenant's own batches."
              : "Your tenant's work only: the pages of your queued and running jobs waiting for each stage."}
          </p>
          <ul className="mt-4 grid grid-cols-1 gap-3 md:grid-cols-3" aria-label="Stages">
            {queues.data.stages.map((stage) => (
              <StageCard key={stage.stage} stage={stage} scope={queues.data.scope} />
            ))}
          </ul>
          {queues.data.stages.every((stage) => stage.pending_batches === 0 && !stage.messages) && (
            <p className="muted mt-4 text-sm" data-testid="queues-empty">
              Nothing is waiting: every stage is idle.
            </p>
          )}
          <p className="mt-4 text-sm">
            Your jobs now: {plural(queues.data.jobs.queued, "queued job")}, {plural(queues.data.jobs.running, "running job")}.{" "}
            <Link className="link" to="/jobs?status=running">
              See them
            </Link>
          </p>
        </>
      )}
    </div>
  );
}
