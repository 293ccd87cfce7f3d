import { Link, useParams } from "react-router";
import { usePullRequest, workItemPath } from "../../api/data";
import { useIntegrationName } from "../../api/hooks";
import { Empty, ErrorState, Loading } from "../../components/States";
import { dateTime, n } from "../../lib/format";
import { Field, RawRecordLink, seconds, Tabs, text } from "./parts";
import { PrState } from "./PullRequests";

export function PullRequestPage() {
  const { owner = "", name = "", number = "" } = useParams();
  const repo = `${owner}/${name}`;
  const pr = usePullRequest(repo, number);
  const integrationName = useIntegrationName();

  if (pr.isPending) return <Loading what={`pull request ${repo}#${number}`} />;
  if (pr.isError) {
    return (
      <div className="space-y-3">
        <Tabs />
        <ErrorState title={`Could not read pull request ${repo}#${number}`} error={pr.error} onRetry={() => void pr.refetch()} />
      </div>
    );
  }
  const p = pr.data;
  return (
    <div className="space-y-4">
      <Tabs />
      <div>
        <Link className="link text-sm" to={`/data/pull-requests?repo=${encodeURIComponent(p.repo)}`}>
          ← Pull requests of {p.repo}
        </Link>
        <div className="mt-1 flex flex-wrap items-baseline gap-3">
          <h1 className="text-xl font-semibold">
            <span className="font-mono">
              {p.repo}#{p.number}
            </span>{" "}
            <span className="break-words">{p.title}</span>
          </h1>
          <PrState state={p.state} draft={p.draft} />
        </div>
      </div>

      <section className="panel p-4" aria-label="Fields">
        <dl className="grid grid-cols-2 gap-x-6 gap-y-3 md:grid-cols-4">
          <Field label="Integration">{integrationName(p.integration_id)}</Field>
          <Field label="Author">
            {text(p.author)}
            {p.author_is_bot && <span className="muted"> (bot)</span>}
          </Field>
          <Field label="Branch">{p.head_ref ? <span className="font-mono text-xs">{p.head_ref} → {p.base_ref ?? "?"}</span> : null}</Field>
          <Field label="Draft">{p.draft ? "yes" : "no"}</Field>
          <Field label="Created">{dateTime(p.created)}</Field>
          <Field label="Updated">{dateTime(p.updated)}</Field>
          <Field label="Merged">{p.merged ? dateTime(p.merged) : null}</Field>
          <Field label="Closed">{p.closed ? dateTime(p.closed) : null}</Field>
          <Field label="Changes">
            {p.additions === null ? null : `+${n(p.additions)} −${n(p.deletions)} in ${n(p.changed_files)} file(s)`}
          </Field>
          <Field label="Commits">{text(p.commits_count)}</Field>
          <Field label="Reviews">{n(p.review_count)}</Field>
          <Field label="First review">{p.first_review_at ? dateTime(p.first_review_at) : null}</Field>
          <Field label="Time to first review">{seconds(p.time_to_first_review_seconds)}</Field>
          <Field label="Lead time (created → merged)">{seconds(p.lead_time_seconds)}</Field>
          <Field label="Loaded from">
            <RawRecordLink rawId={p.raw_id} integrationId={p.integration_id} entityType="github_pull_request" externalId={p.external_id} />
          </Field>
          <Field label="Loaded at">{dateTime(p.loaded_at)}</Field>
          {p.deleted_at && <Field label="Deleted at the source">{dateTime(p.deleted_at)}</Field>}
          <Field label="At the source">{p.url ? <span className="font-mono text-xs break-all">{p.url}</span> : null}</Field>
        </dl>
      </section>

      <section className="panel p-4" aria-labelledby="items-title">
        <h2 id="items-title" className="font-semibold">
          Work items it mentions
        </h2>
        {p.work_items.length === 0 ? (
          <p className="muted mt-2 text-sm">
            {p.work_item_keys.length
              ? `It names ${p.work_item_keys.join(", ")}, but no synced work item has that key.`
              : "None: no work item key in its title, branch or body."}
          </p>
        ) : (
          <ul className="mt-2 space-y-1 text-sm">
            {p.work_items.map((w) => (
              <li key={w.key} className="flex gap-2">
                <Link className="link font-mono" to={workItemPath(w.key)}>
                  {w.key}
                </Link>
                <span className="truncate">{w.title}</span>
                <span className="muted">{w.status}</span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="panel overflow-hidden" aria-labelledby="reviews-title">
        <h2 id="reviews-title" className="px-4 pt-3 font-semibold">
          Reviews
        </h2>
        {p.reviews.length === 0 ? (
          <Empty>No review.</Empty>
        ) : (
          <table className="mt-2 w-full table-fixed border-collapse text-sm">
            <thead className="bg-slate-50 dark:bg-slate-900/60">
              <tr>
                <th scope="col" className="th">Submitted</th>
                <th scope="col" className="th">State</th>
                <th scope="col" className="th">Reviewer</th>
              </tr>
            </thead>
            <tbody>
              {p.reviews.map((r) => (
                <tr key={r.external_id} className="border-t border-slate-100 dark:border-slate-800">
                  <td className="td text-xs">{dateTime(r.submitted_at)}</td>
                  <td className="td text-xs">{r.state}</td>
                  <td className="td truncate">
                    {r.author ?? "—"}
                    {r.author_is_bot && <span className="muted"> (bot)</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="panel overflow-hidden" aria-labelledby="commits-title">
        <h2 id="commits-title" className="px-4 pt-3 font-semibold">
          Commits
        </h2>
        {p.commits.length === 0 ? (
          <Empty>No commit.</Empty>
        ) : (
          <table className="mt-2 w-full table-fixed border-collapse text-sm">
            <colgroup>
              <col className="w-28" />
              <col />
              <col className="w-40" />
              <col className="w-48" />
            </colgroup>
            <thead className="bg-slate-50 dark:bg-slate-900/60">
              <tr>
                <th scope="col" className="th">Sha</th>
                <th scope="col" className="th">Message</th>
                <th scope="col" className="th">Author</th>
                <th scope="col" className="th">Committed</th>
              </tr>
            </thead>
            <tbody>
              {p.commits.map((c) => (
                <tr key={c.sha} className="border-t border-slate-100 dark:border-slate-800">
                  <td className="td font-mono text-xs" title={c.sha}>
                    {c.sha.slice(0, 10)}
                  </td>
                  <td className="td truncate" title={c.message ?? undefined}>
                    {c.message?.split("\n", 1)[0] ?? "—"}
                  </td>
                  <td className="td truncate">{c.author ?? "—"}</td>
                  <td className="td text-xs">{dateTime(c.committed_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
