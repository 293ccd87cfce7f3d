// The controls of a filtered table (raw data, work items, pull requests): each edits one query-string
// filter through `onChange(name, value)`; a text filter applies on Enter or when it loses focus, not on
// every key.

import { useEffect, useState } from "react";

import { useIntegrations } from "../api/hooks";

type Option = string | readonly [string, string];

export function SelectFilter(props: {
  label: string;
  name: string;
  value: string;
  options: readonly Option[];
  onChange: (name: string, value: string) => void;
  all?: string;
}) {
  return (
    <label className="flex flex-col gap-0.5 text-xs font-medium">
      {props.label}
      <select className="field" value={props.value} onChange={(event) => props.onChange(props.name, event.target.value)}>
        <option value="">{props.all ?? "All"}</option>
        {props.options.map((option) => {
          const [value, text] = typeof option === "string" ? [option, option] : option;
          return (
            <option key={value} value={value}>
              {text}
            </option>
          );
        })}
      </select>
    </label>
  );
}

// The integration filter of every list, offering the tenant's integrations (of one provider, on a page
// that shows one provider's data).
export function IntegrationSelect(props: {
  value: string;
  onChange: (name: string, value: string) => void;
  provider?: string;
}) {
  const integrations = useIntegrations();
  const offered = (integrations.data ?? []).filter((integration) => !props.provider || integration.provider === props.provider);
  return (
    <SelectFilter
      label="Integration"
      name="integration_id"
      value={props.value}
      options={offered.map((integration) => [integration.id, integration.name] as const)}
      onChange={props.onChange}
    />
  );
}

export function TextFilter(props: {
  label: string;
  name: string;
  value: string;
  placeholder?: string;
  onChange: (name: string, value: string) => void;
  width?: string;
}) {
  const [text, setText] = useState(props.value);
  useEffect(() => setText(props.value), [props.value]); // the URL changed (back, clear filters)
  const apply = () => {
    if (text.trim() !== props.value) props.onChange(props.name, text);
  };
  return (
    <label className="flex flex-col gap-0.5 text-xs font-medium">
      {props.label}
      <input
        type="search"
        className={`field ${props.width ?? "w-36"}`}
        value={text}
        maxLength={200}
        placeholder={props.placeholder}
        onChange={(event) => setText(event.target.value)}
        onBlur={apply}
        onKeyDown={(event) => {
          if (event.key === "Enter") apply();
        }}
      />
    </label>
  );
}

export function DateFilter(props: { label: string; name: string; value: string; onChange: (name: string, value: string) => void }) {
  return (
    <label className="flex flex-col gap-0.5 text-xs font-medium">
      {props.label}
      <input type="date" className="field" value={props.value} onChange={(event) => props.onChange(props.name, event.target.value)} />
    </label>
  );
}

export function LoadMore(props: { hasMore: boolean; loading: boolean; onMore: () => void; label?: string }) {
  if (!props.hasMore) return null;
  return (
    <div className="mt-3 flex justify-center">
      <button type="button" className="btn" disabled={props.loading} onClick={props.onMore}>
        {props.loading ? "Loading…" : (props.label ?? "Load more")}
      </button>
    </div>
  );
}
