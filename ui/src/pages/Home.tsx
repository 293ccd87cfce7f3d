import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { keys } from "../api/cache";
import { useApi } from "../api/hooks";
import { JOB_STATUSES, type Job, type Page } from "../api/types";
import { n } from "../lib/format";
import { StatusBadge } from "../components/StatusBadge";
import { Empty, ErrorState, Loading } from "../components/States";

const MAX_PAGES = 5;
const LIMIT = 200;

interface Summary {
  counts: Record<string, number>;
  total: number;
  more: boolean;
}

/** Jobs created in the last 24 hours, counted by status (at most MAX_PAGES pages of LIMIT). */
function useSummary() {
  const client = useApi();
  return useQuery({
    queryKey: keys.summary,
    queryFn: async ({ signal }): Promise<Summary> => {
      const since = new Date(Date.now() - 24 * 3600_000).toISOString();
      const counts: Record<string, number> = {};
      let cursor: string | null = null;
      let total = 0;
      for (let page = 0; page < MAX_PAGES; page++) {
        const answer: Page<Job> = await client.get<Page<Job>>("/api/v1/etl/jobs", { since, limit: LIMIT, cursor }, signal);
        for (const job of answer.items) counts[job.status] = (counts[job.status] ?? 0) + 1;
        total += answer.items.length;
        cursor = answer.next;
        if (!cursor) break;
      }
      return { counts, total, more: cursor !== null };
    },
  });
}

export function Home() {
  const summary = useSummary();
  return (
    <div>
      <h1 className="text-xl font-semibold">Home</h1>
      <section className="mt-4" aria-labelledby="last-day">
        <div className="flex items-baseline justify-between">
          <h2 id="last-day" className="text-base font-semibold">
            Jobs of the last 24 hours
          </h2>
          <Link className="link text-sm" to="/jobs">
            All jobs →
          </Link>
        </div>
        <div className="mt-3">
          {summary.isPending ? (
            <Loading what="the last day's jobs" />
          ) : summary.isError ? (
            <ErrorState title="Could not read the jobs" error={summary.error} onRetry={() => void summary.refetch()} />
          ) : summary.data.total === 0 ? (
            <div className="panel">
              <Empty>
                No job in the last 24 hours. <Link className="link" to="/jobs">See older jobs</Link>
              </Empty>
            </div>
          ) : (
            <ul className="grid grid-cols-3 gap-3 lg:grid-cols-6">
              {JOB_STATUSES.map((status) => (
                <li key={status}>
                  <Link to={`/jobs?status=${status}`} className="panel block p-4 hover:border-blue-500">
                    <StatusBadge status={status} />
                    <div className="mt-2 text-2xl font-semibold tabular-nums">{n(summary.data.counts[status] ?? 0)}</div>
                  </Link>
                </li>
              ))}
            </ul>
          )}
          {summary.data?.more && (
            <p className="muted mt-2 text-xs">Counted over the newest {n(MAX_PAGES * LIMIT)} jobs of the day.</p>
          )}
        </div>
      </section>
    </div>
  );
}
