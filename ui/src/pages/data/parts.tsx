import type { ReactNode } from "react";
import { Link, NavLink } from "react-router";
import { useRawLookup } from "../../api/raw";
import { duration } from "../../lib/format";

/** The heading of the Data area, above its tabs. */
export function DataHeading() {
  return (
    <div className="flex items-baseline justify-between">
      <h1 className="text-xl font-semibold">Data</h1>
      <span className="muted text-xs">Read-only, most recently updated first</span>
    </div>
  );
}

export function Tabs() {
  const tab = ({ isActive }: { isActive: boolean }) =>
    `-mb-px border-b-2 px-3 py-1.5 text-sm font-medium ${
      isActive ? "border-blue-600 text-blue-700 dark:text-blue-300" : "border-transparent muted hover:text-blue-600"
    }`;
  return (
    <nav aria-label="Data tables" className="flex gap-1 border-b border-slate-200 dark:border-slate-800">
      <NavLink to="/data/work-items" className={tab}>
        Work items
      </NavLink>
      <NavLink to="/data/pull-requests" className={tab}>
        Pull requests
      </NavLink>
    </nav>
  );
}

export function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="muted text-xs font-medium">{label}</dt>
      <dd className="mt-0.5 text-sm break-words">{children ?? <span className="muted">—</span>}</dd>
    </div>
  );
}

export const text = (value: string | number | null | undefined) => (value === null || value === undefined || value === "" ? null : String(value));

export const seconds = (value: number | null) => (value === null ? null : duration(value * 1000));

/** The raw record a row was loaded from: by its raw_id, else looked up by (integration, entity type, external id). */
export function RawRecordLink(props: { rawId: number | null; integrationId: string; entityType: string; externalId: string }) {
  const lookup = useRawLookup(props.integrationId, props.entityType, props.externalId, props.rawId === null);
  const id = props.rawId ?? lookup.data?.id ?? null;
  if (id !== null) {
    return (
      <Link className="link" to={`/raw/${id}`} data-testid="raw-link">
        raw record {id}
      </Link>
    );
  }
  if (lookup.isPending && lookup.fetchStatus !== "idle") return <span className="muted">looking…</span>;
  return <span className="muted">none stored</span>;
}
