import { Link, useParams } from "react-router";
import { ApiError } from "../api/client";
import { useIntegrationName, useJob } from "../api/hooks";
import type { JobCounters, JobDetail as Detail, TaskRun } from "../api/types";
import { JobActions } from "../components/JobActions";
import { ProgressBar } from "../components/Progress";
import { IntegrationName } from "../components/IntegrationName";
import { StatusBadge } from "../components/StatusBadge";
import { Empty, ErrorState, Loading } from "../components/States";
import { dateTime, duration, n, plural } from "../lib/format";
import { errorExtras, jobError } from "../lib/errors";
import { progressShare, progressText } from "../lib/progress";
import { elapsed } from "./Jobs";

export const STAGES = ["extract", "transform", "load"] as const;

const COUNTERS: Record<(typeof STAGES)[number], [keyof JobCounters, string][]> = {
  extract: [
    ["pages", "pages fetched"],
    ["requests_made", "requests to the source"],
    ["extracted", "records new or changed"],
    ["unchanged", "records unchanged"],
  ],
  transform: [
    ["transformed", "records transformed"],
    ["failed", "records failed"],
  ],
  load: [["loaded", "records loaded"]],
};

const STATE_ORDER = ["failed", "retrying", "started", "succeeded"];
const rank = (state: string) => {
  const index = STATE_ORDER.indexOf(state);
  return index < 0 ? STATE_ORDER.length : index;
};

export interface StageRuns {
  stage: string;
  runs: number;
  byState: Record<string, number>;
  retries: number;
  first: number | null;
  last: number | null;
  running: boolean;
}

/** Task runs per stage: how many, in which state, how many were retries, and when the stage ran. */
export function summariseRuns(runs: TaskRun[]): StageRuns[] {
  const stages = new Map<string, StageRuns>();
  for (const stage of STAGES) stages.set(stage, { stage, runs: 0, byState: {}, retries: 0, first: null, last: null, running: false });
  for (const run of runs) {
    let entry = stages.get(run.stage);
    if (!entry) {
      entry = { stage: run.stage, runs: 0, byState: {}, retries: 0, first: null, last: null, running: false };
      stages.set(run.stage, entry);
    }
    entry.runs += 1;
    entry.byState[run.state] = (entry.byState[run.state] ?? 0) + 1;
    if (run.attempt > 0) entry.retries += 1;
    const start = Date.parse(run.started_at);
    const end = run.finished_at ? Date.parse(run.finished_at) : null;
    if (entry.first === null || start < entry.first) entry.first = start;
    if (end === null) entry.running = true;
    const until = end ?? start;
    if (entry.last === null || until > entry.last) entry.last = until;
  }
  return [...stages.values()];
}

/** Failed and retrying runs first, then the others, newest first within each state. */
export function orderRuns(runs: TaskRun[]): TaskRun[] {
  return [...runs].sort((a, b) => rank(a.state) - rank(b.state) || Date.parse(b.started_at) - Date.parse(a.started_at));
}

function Reconciliation({ counters, ended }: { counters: JobCounters; ended: boolean }) {
  const sum = counters.loaded + counters.unchanged + counters.failed;
  const balanced = sum === counters.seen;
  return (
    <section className="panel p-4" aria-labelledby="reconciliation">
      <h2 id="reconciliation" className="font-semibold">
        Reconciliation
      </h2>
      <p className="mt-2 font-mono text-sm tabular-nums" data-testid="reconciliation">
        seen {n(counters.seen)} {balanced ? "=" : "≠"} loaded {n(counters.loaded)} + unchanged {n(counters.unchanged)} + failed{" "}
        {n(counters.failed)}
      </p>
      <p className="muted mt-1 text-xs">
        {balanced
          ? "Every record the source's pages held is accounted for."
          : ended
            ? `${n(Math.abs(counters.seen - sum))} record(s) are not accounted for.`
            : "Still running: the sides meet once every batch is loaded."}
        {counters.expected !== null && ` The source said this sync would find ${n(counters.expected)}.`}
      </p>
    </section>
  );
}

function Timeline({ job, stages }: { job: Detail; stages: StageRuns[] }) {
  const starts = stages.map((stage) => stage.first).filter((t): t is number => t !== null);
  const begin = job.started_at ? Date.parse(job.started_at) : Math.min(...starts);
  const end = job.finished_at ? Date.parse(job.finished_at) : Date.now();
  const span = Math.max(1, end - begin);
  if (!starts.length || !Number.isFinite(begin)) {
    return <p className="muted text-sm">No task has run yet.</p>;
  }
  return (
    <ol className="space-y-2">
      {stages.map((stage) => {
        const left = stage.first === null ? 0 : Math.max(0, (stage.first - begin) / span);
        const right = stage.first === null ? 0 : Math.min(1, ((stage.running ? end : (stage.last ?? end)) - begin) / span);
        return (
          <li key={stage.stage} className="grid grid-cols-[7rem_1fr_11rem] items-center gap-3 text-sm">
            <span className="font-medium">{stage.stage}</span>
            <div className="relative h-3 rounded bg-slate-100 dark:bg-slate-800" aria-hidden="true">
              {stage.first !== null && (
                <div
                  className={`absolute inset-y-0 rounded ${stage.byState.failed ? "bg-red-500" : stage.running ? "bg-blue-500" : "bg-green-600"}`}
                  style={{ left: `${left * 100}%`, width: `${Math.max(0.5, (right - left) * 100)}%` }}
                />
              )}
            </div>
            <span className="muted text-xs tabular-nums">
              {stage.first === null
                ? "not started"
                : `${stage.running ? "running for" : "took"} ${duration((stage.running ? end : (stage.last ?? end)) - stage.first)}`}
            </span>
          </li>
        );
      })}
    </ol>
  );
}

const MAX_RUNS_SHOWN = 200;

function TaskRuns({ runs, stages }: { runs: TaskRun[]; stages: StageRuns[] }) {
  const ordered = orderRuns(runs);
  const troubled = ordered.filter((run) => run.state === "failed" || run.state === "retrying" || run.attempt > 0);
  return (
    <section className="panel p-4" aria-labelledby="runs">
      <h2 id="runs" className="font-semibold">
        Task runs
      </h2>
      {runs.length === 0 ? (
        <p className="muted mt-2 text-sm">No task has run yet.</p>
      ) : (
        <>
          <ul className="mt-2 grid grid-cols-3 gap-3 text-sm">
            {stages.map((stage) => (
              <li key={stage.stage} className="rounded-md border border-slate-200 p-3 dark:border-slate-700">
                <div className="font-medium">{stage.stage}</div>
                <div className="muted text-xs">
                  {stage.runs === 0
                    ? "no runs"
                    : [
                        plural(stage.runs, "run"),
                        ...Object.entries(stage.byState)
                          .sort(([a], [b]) => rank(a) - rank(b))
                          .map(([state, count]) => `${n(count)} ${state}`),
                        stage.retries ? plural(stage.retries, "retry", "retries") : null,
                      ]
                        .filter(Boolean)
                        .join(" · ")}
                </div>
              </li>
            ))}
          </ul>
          {troubled.length > 0 && (
            <div className="mt-3">
              <h3 className="text-sm font-semibold">Failures and retries</h3>
              <ul className="mt-1 space-y-1 text-sm">
                {troubled.slice(0, 50).map((run, index) => (
                  <li key={index} className="break-words">
                    <StatusBadge status={run.state} /> <span className="font-medium">{run.stage}</span>{" "}
                    <span className="muted">attempt {run.attempt + 1}</span>
                    {run.error && <span className="text-red-700 dark:text-red-300"> — {run.error}</span>}
                  </li>
                ))}
              </ul>
            </div>
          )}
          <details className="mt-3">
            <summary className="cursor-pointer text-sm font-medium">
              Every run ({ordered.length > MAX_RUNS_SHOWN ? `${n(MAX_RUNS_SHOWN)} of ${n(ordered.length)}` : n(ordered.length)}, failed and
              retrying first)
            </summary>
            <table className="mt-2 w-full table-fixed text-xs">
              <thead>
                <tr>
                  <th className="th w-24">Stage</th>
                  <th className="th w-24">State</th>
                  <th className="th w-20">Attempt</th>
                  <th className="th w-20">Deliveries</th>
                  <th className="th w-44">Started</th>
                  <th className="th w-24">Took</th>
                  <th className="th">Error</th>
                </tr>
              </thead>
              <tbody>
                {ordered.slice(0, MAX_RUNS_SHOWN).map((run, index) => (
                  <tr key={index} className="border-t border-slate-100 dark:border-slate-800">
                    <td className="td">{run.stage}</td>
                    <td className="td">
                      <StatusBadge status={run.state} />
                    </td>
                    <td className="td tabular-nums">{run.attempt + 1}</td>
                    <td className="td tabular-nums">{run.deliveries}</td>
                    <td className="td">{dateTime(run.started_at)}</td>
                    <td className="td">{run.finished_at ? duration(Date.parse(run.finished_at) - Date.parse(run.started_at)) : "—"}</td>
                    <td className="td break-words">{run.error ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </section>
  );
}

export function JobDetail() {
  const { id = "" } = useParams();
  const job = useJob(id);
  const integrationName = useIntegrationName();

  if (job.isPending) return <Loading what="the job" />;
  if (job.isError) {
    const missing = job.error instanceof ApiError && (job.error.status === 404 || job.error.status === 422);
    return (
      <div>
        <Link className="link text-sm" to="/jobs">
          ← Jobs
        </Link>
        <div className="mt-3">
          {missing ? (
            <div className="panel">
              <Empty>This job does not exist, or belongs to another tenant. ({job.error.message})</Empty>
            </div>
          ) : (
            <ErrorState title="Could not read the job" error={job.error} onRetry={() => void job.refetch()} />
          )}
        </div>
      </div>
    );
  }
  const data = job.data;
  const error = jobError(data);
  const extras = errorExtras(data.error_details);
  const stages = summariseRuns(data.task_runs ?? []);
  const ended = !["queued", "running"].includes(data.status);
  const text = progressText(data);

  return (
    <div className="space-y-4">
      <Link className="link text-sm" to="/jobs">
        ← Jobs
      </Link>
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <h1 className="flex items-center gap-3 text-xl font-semibold">
            {data.kind} job of <IntegrationName id={data.integration_id} fallback={integrationName(data.integration_id)} /> <StatusBadge status={data.status} />
          </h1>
          <p className="muted mt-1 font-mono text-xs">{data.id}</p>
        </div>
        <JobActions job={data} />
      </div>

      <section className="panel p-4" aria-label="Progress">
        <ProgressBar share={progressShare(data)} label={text} />
        <p className="mt-2 text-sm">{text}</p>
        <dl className="mt-3 grid grid-cols-2 gap-x-6 gap-y-1 text-sm md:grid-cols-4">
          <dt className="muted">Trigger</dt>
          <dd>{data.trigger}</dd>
          <dt className="muted">Entities</dt>
          <dd>{data.entities.join(", ") || "—"}</dd>
          <dt className="muted">Created</dt>
          <dd>{dateTime(data.created_at)}</dd>
          <dt className="muted">Started</dt>
          <dd>{dateTime(data.started_at)}</dd>
          <dt className="muted">Finished</dt>
          <dd>{dateTime(data.finished_at)}</dd>
          <dt className="muted">Duration</dt>
          <dd>{elapsed(data)}</dd>
          <dt className="muted">Extraction</dt>
          <dd>{data.extraction_done ? "every page found" : "still finding pages"}</dd>
          <dt className="muted">Re-driven</dt>
          <dd>{data.redrives ? plural(data.redrives, "time") : "never"}</dd>
        </dl>
      </section>

      {error && (
        <section role="alert" className="rounded-lg border border-red-300 bg-red-50 p-4 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
          <h2 className="font-semibold">{data.status === "cancelled" ? "Why it stopped" : "What went wrong"}</h2>
          <p className="mt-1 text-sm break-words">{error}</p>
          {extras.length > 0 && (
            <dl className="mt-2 grid grid-cols-[max-content_1fr] gap-x-4 text-xs">
              {extras.map(([name, value]) => (
                <div key={name} className="contents">
                  <dt className="font-medium">{name}</dt>
                  <dd className="break-all">{value}</dd>
                </div>
              ))}
            </dl>
          )}
        </section>
      )}

      {data.counters.failed > 0 && (
        <Link className="link block text-sm" to={`/raw?status=failed&integration_id=${data.integration_id}&job_id=${data.id}`}>
          See the {plural(data.counters.failed, "failed record")} in Raw data
        </Link>
      )}

      <div className="grid gap-4 lg:grid-cols-2">
        <section className="panel p-4" aria-labelledby="counters">
          <h2 id="counters" className="font-semibold">
            Counters by stage
          </h2>
          <table className="mt-2 w-full text-sm">
            <tbody>
              {STAGES.map((stage) =>
                COUNTERS[stage].map(([name, label], index) => (
                  <tr key={name} className={index === 0 ? "border-t border-slate-100 dark:border-slate-800" : ""}>
                    {index === 0 && (
                      <th scope="rowgroup" rowSpan={COUNTERS[stage].length} className="td text-left font-medium">
                        {stage}
                      </th>
                    )}
                    <td className="td">{label}</td>
                    <td className="td text-right tabular-nums">{n(data.counters[name] as number)}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </section>
        <div className="space-y-4">
          <Reconciliation counters={data.counters} ended={ended} />
          <section className="panel p-4" aria-labelledby="timeline">
            <h2 id="timeline" className="mb-2 font-semibold">
              Timeline
            </h2>
            <Timeline job={data} stages={stages} />
          </section>
        </div>
      </div>

      <TaskRuns runs={data.task_runs ?? []} stages={stages} />
    </div>
  );
}
