// The parts every list page shares (jobs, raw data, work items, pull requests, API keys, mappings):
// filters kept in the URL, a bar of filter controls, a panel that says loading / error / empty in
// words, and a fixed-layout table whose column widths fit 1280 px.

import type { ReactNode } from "react";
import { useSearchParams } from "react-router";
import { readFilters, withFilter } from "../lib/urlFilters";
import { Empty, ErrorState, Loading } from "./States";

/** The named filters the URL sets, and the ways to change them (a change replaces the history entry). */
export function useUrlFilters(names: readonly string[]) {
  const [params, setParams] = useSearchParams();
  const filters = readFilters(params, names);
  return {
    filters,
    filtered: Object.keys(filters).length > 0,
    change: (name: string, value: string) => setParams(withFilter(params, name, value), { replace: true }),
    clear: () => setParams(new URLSearchParams(), { replace: true }),
  };
}

/** A row of filter controls, with "Clear filters" once any is set; `actions` sit at the right end. */
export function FilterBar(props: { label: string; filtered: boolean; onClear: () => void; children: ReactNode; actions?: ReactNode }) {
  return (
    <div role="group" aria-label={props.label} className="flex flex-wrap items-end gap-3">
      {props.children}
      {props.filtered && (
        <button type="button" className="btn" onClick={props.onClear}>
          Clear filters
        </button>
      )}
      {props.actions && <div className="ml-auto flex gap-2">{props.actions}</div>}
    </div>
  );
}

type QueryState = { isPending: boolean; isError: boolean; error: unknown; refetch: () => unknown };

/** A query's result in words: "Loading <what>…", the error with Try again, `empty` when there are
 * no rows, else the rows (`children`). */
export function QueryStates(props: { query: QueryState; what: string; count: number; empty: ReactNode; children: ReactNode }) {
  const { query } = props;
  if (query.isPending) return <Loading what={props.what} />;
  if (query.isError) {
    return (
      <div className="p-4">
        <ErrorState title={`Could not read the ${props.what.replace(/^the /, "")}`} error={query.error} onRetry={() => void query.refetch()} />
      </div>
    );
  }
  if (props.count === 0) return <Empty>{props.empty}</Empty>;
  return <>{props.children}</>;
}

/** QueryStates in a panel of its own. */
export function QueryPanel({ className = "", ...props }: Parameters<typeof QueryStates>[0] & { className?: string }) {
  return (
    <div className={`panel overflow-hidden ${className}`}>
      <QueryStates {...props} />
    </div>
  );
}

/** A column: its header (text, or a control such as a select-all box) and its Tailwind width; one
 * column without a width takes what is left. */
export type Column = { header: ReactNode; width?: string };

export function Table({ columns, children, className = "" }: { columns: readonly Column[]; children: ReactNode; className?: string }) {
  return (
    <table className={`w-full table-fixed border-collapse text-sm ${className}`}>
      <colgroup>
        {columns.map((column, index) => (
          <col key={index} className={column.width} />
        ))}
      </colgroup>
      <thead className="bg-slate-50 dark:bg-slate-900/60">
        <tr>
          {columns.map((column, index) => (
            <th key={index} scope="col" className="th">
              {column.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
