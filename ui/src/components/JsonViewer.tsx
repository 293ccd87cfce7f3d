// A JSON document as a collapsible tree. Keys and values are React text (never HTML), so a payload
// holding markup shows it as characters. Big payloads stay responsive: nodes below `openDepth` start
// collapsed and are not rendered until opened, and an array or object shows its first `limit` entries
// with "show more".

import { useState } from "react";

export const DEFAULT_LIMIT = 50;

interface NodeProps {
  name: string | null;
  value: unknown;
  depth: number;
  openDepth: number;
  limit: number;
  last: boolean;
}

const isContainer = (value: unknown): value is Record<string, unknown> | unknown[] =>
  value !== null && typeof value === "object";

function Scalar({ value }: { value: unknown }) {
  if (typeof value === "string") return <span className="text-green-800 dark:text-green-300">{JSON.stringify(value)}</span>;
  if (typeof value === "number") return <span className="text-blue-800 dark:text-blue-300">{String(value)}</span>;
  if (typeof value === "boolean") return <span className="text-purple-800 dark:text-purple-300">{String(value)}</span>;
  if (value === null) return <span className="muted">null</span>;
  return <span className="muted">{String(value)}</span>;
}

function Name({ name }: { name: string | null }) {
  if (name === null) return null;
  return (
    <>
      <span className="text-slate-800 dark:text-slate-200" data-json-key="">
        {JSON.stringify(name)}
      </span>
      <span className="muted">: </span>
    </>
  );
}

function JsonNode({ name, value, depth, openDepth, limit, last }: NodeProps) {
  const [open, setOpen] = useState(depth < openDepth);
  const [shown, setShown] = useState(limit);
  const comma = last ? "" : ",";
  if (!isContainer(value)) {
    return (
      <li className="pl-4">
        <Name name={name} />
        <Scalar value={value} />
        <span className="muted">{comma}</span>
      </li>
    );
  }
  const array = Array.isArray(value);
  const entries: [string | null, unknown][] = array ? value.map((item) => [null, item]) : Object.entries(value);
  const [opening, closing] = array ? ["[", "]"] : ["{", "}"];
  const size = array ? `${entries.length} ${entries.length === 1 ? "item" : "items"}` : `${entries.length} ${entries.length === 1 ? "key" : "keys"}`;
  if (entries.length === 0) {
    return (
      <li className="pl-4">
        <Name name={name} />
        <span className="muted">
          {opening}
          {closing}
          {comma}
        </span>
      </li>
    );
  }
  const visible = entries.slice(0, shown);
  return (
    <li className="pl-4">
      <button
        type="button"
        className="-ml-4 w-4 text-left text-xs text-slate-500 hover:text-blue-600"
        aria-expanded={open}
        aria-label={`${open ? "Collapse" : "Expand"} ${name ?? (array ? "array" : "object")}`}
        onClick={() => setOpen(!open)}
      >
        {open ? "▾" : "▸"}
      </button>
      <Name name={name} />
      <span className="muted">{opening}</span>
      {open ? (
        <>
          <ul>
            {visible.map(([key, item], index) => (
              <JsonNode
                key={key ?? index}
                name={key}
                value={item}
                depth={depth + 1}
                openDepth={openDepth}
                limit={limit}
                last={index === entries.length - 1}
              />
            ))}
          </ul>
          {entries.length > shown && (
            <div className="pl-4">
              <button type="button" className="link text-xs" onClick={() => setShown(shown + limit)}>
                show more ({Math.min(limit, entries.length - shown)} of {entries.length - shown} left)
              </button>
            </div>
          )}
          <span className="muted">
            {closing}
            {comma}
          </span>
        </>
      ) : (
        <button type="button" className="muted text-xs hover:text-blue-600" onClick={() => setOpen(true)}>
          {" "}
          … {size} {closing}
          {comma}
        </button>
      )}
    </li>
  );
}

export interface JsonViewerProps {
  value: unknown;
  /** Levels open at first (0: only the root's summary); deeper ones start collapsed. */
  openDepth?: number;
  /** Entries shown per array or object before "show more". */
  limit?: number;
  label?: string;
}

export function JsonViewer({ value, openDepth = 2, limit = DEFAULT_LIMIT, label = "JSON" }: JsonViewerProps) {
  return (
    <div className="overflow-x-auto font-mono text-xs leading-5 break-all" role="group" aria-label={label}>
      <ul className="-ml-4">
        <JsonNode name={null} value={value} depth={0} openDepth={openDepth} limit={limit} last />
      </ul>
    </div>
  );
}
