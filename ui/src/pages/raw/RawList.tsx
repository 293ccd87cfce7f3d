import { useMutation } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { Link } from "react-router";
import { useApi, useIntegrationName, useWriteBlocked } from "../../api/hooks";
import {
  ENTITY_TYPES,
  RAW_FILTERS,
  RAW_STATUSES,
  errorLine,
  useRawList,
  type RawFilters,
  type RawRecord,
  type ReprocessResponse,
} from "../../api/raw";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { FilterBar, QueryPanel, Table, useUrlFilters } from "../../components/DataTable";
import { IntegrationSelect, LoadMore, SelectFilter } from "../../components/FilterControls";
import { StatusBadge } from "../../components/StatusBadge";
import { dateTime, plural, relative, shortId } from "../../lib/format";
import { Refusal, StartedJob, refusalOf } from "./StartedJob";

type Ask = "selected" | "failed";

function Row(props: {
  record: RawRecord;
  checked: boolean;
  onCheck: (record: RawRecord, checked: boolean) => void;
  integrationName: (id: string) => string;
}) {
  const { record } = props;
  const error = errorLine(record.error_details);
  return (
    <tr className="border-t border-slate-100 dark:border-slate-800" data-raw={record.id}>
      <td className="td">
        <input
          type="checkbox"
          checked={props.checked}
          aria-label={`Select ${record.entity_type} ${record.external_id}`}
          onChange={(event) => props.onCheck(record, event.target.checked)}
        />
      </td>
      <td className="td">
        <Link className="link block truncate font-mono text-xs" to={`/raw/${record.id}`} title={record.external_id}>
          {record.external_id}
        </Link>
        <div className="muted truncate text-xs" title={props.integrationName(record.integration_id)}>
          {props.integrationName(record.integration_id)}
        </div>
      </td>
      <td className="td truncate text-xs">{record.entity_type}</td>
      <td className="td">
        <StatusBadge status={record.processing_status} />
      </td>
      <td className="td text-xs whitespace-nowrap" title={dateTime(record.updated_at)}>
        {relative(record.updated_at)}
      </td>
      <td className="td">
        {error ? (
          <div className="truncate text-xs text-red-700 dark:text-red-300" title={error}>
            {error}
          </div>
        ) : (
          <span className="muted text-xs">—</span>
        )}
      </td>
    </tr>
  );
}

export function RawList() {
  const client = useApi();
  const url = useUrlFilters(RAW_FILTERS);
  const filters = url.filters as RawFilters;
  const { filtered, change } = url;
  const filterText = JSON.stringify(filters);
  const list = useRawList(filters);
  const integrationName = useIntegrationName();
  const blocked = useWriteBlocked();
  // id -> integration: a reprocess is per integration.
  const [selected, setSelected] = useState<Map<number, string>>(() => new Map());
  const [asking, setAsking] = useState<Ask | null>(null);
  const [started, setStarted] = useState<ReprocessResponse | null>(null);
  const [refused, setRefused] = useState<{ message: string; jobId: string | null } | null>(null);

  useEffect(() => setSelected(new Map()), [filterText]); // another view: nothing it does not show stays selected

  const rows = useMemo(() => list.data?.pages.flatMap((page) => page.items) ?? [], [list.data]);
  const selectedIntegrations = new Set(selected.values());
  const oneIntegration = selectedIntegrations.size === 1 ? [...selectedIntegrations][0] : undefined;

  const reprocess = useMutation({
    mutationFn: (ask: Ask) => {
      const body =
        ask === "selected"
          ? { integration_id: oneIntegration, raw_ids: [...selected.keys()] }
          : { integration_id: filters.integration_id, filter: { status: "failed", entity_type: filters.entity_type ?? null } };
      return client.post<ReprocessResponse>("/api/v1/etl/reprocess", body);
    },
    onSuccess: (response) => {
      setStarted(response);
      setRefused(null);
      setSelected(new Map());
    },
    onError: (error) => {
      setRefused(refusalOf(error));
      setStarted(null);
    },
    onSettled: () => setAsking(null),
  });

  const check = (record: RawRecord, checked: boolean) =>
    setSelected((old) => {
      const next = new Map(old);
      if (checked) next.set(record.id, record.integration_id);
      else next.delete(record.id);
      return next;
    });
  const allChecked = rows.length > 0 && rows.every((record) => selected.has(record.id));
  const checkAll = (checked: boolean) => setSelected(checked ? new Map(rows.map((record) => [record.id, record.integration_id])) : new Map());

  const selectedWhy =
    blocked ??
    (selected.size === 0
      ? "select the records to reprocess"
      : selectedIntegrations.size > 1
        ? "a reprocess is per integration: select records of one integration"
        : null);
  const failedWhy = blocked ?? (filters.integration_id ? null : "choose an integration first: a reprocess is per integration");

  return (
    <div>
      <div className="flex items-baseline justify-between">
        <h1 className="text-xl font-semibold">Raw data</h1>
        <span className="muted text-xs">What the sources served, one record per object, oldest first</span>
      </div>
      <div className="mt-3">
        <FilterBar
          label="Filter the raw records"
          filtered={filtered}
          onClear={url.clear}
          actions={
            <>
              <span title={selectedWhy ?? undefined}>
                <button type="button" className="btn" disabled={selectedWhy !== null || reprocess.isPending} onClick={() => setAsking("selected")}>
                  Reprocess selected{selected.size > 0 && ` (${selected.size})`}
                </button>
              </span>
              <span title={failedWhy ?? undefined}>
                <button type="button" className="btn" disabled={failedWhy !== null || reprocess.isPending} onClick={() => setAsking("failed")}>
                  Reprocess all failed
                </button>
              </span>
            </>
          }
        >
          <IntegrationSelect value={filters.integration_id ?? ""} onChange={change} />
          <SelectFilter label="Entity type" name="entity_type" value={filters.entity_type ?? ""} options={ENTITY_TYPES} onChange={change} />
          <SelectFilter label="Status" name="status" value={filters.status ?? ""} options={RAW_STATUSES} onChange={change} />
          {filters.job_id && (
            <span className="flex flex-col gap-0.5 text-xs font-medium">
              Failed in job
              <span className="inline-flex items-center gap-1">
                <Link className="link font-mono" to={`/jobs/${filters.job_id}`}>
                  {shortId(filters.job_id)}
                </Link>
                <button type="button" className="btn py-0 text-xs" onClick={() => change("job_id", "")} aria-label="Any job">
                  ×
                </button>
              </span>
            </span>
          )}
        </FilterBar>
      </div>

      <div className="mt-3 space-y-2">
        {started && <StartedJob jobId={started.job_id} records={started.records} onDismiss={() => setStarted(null)} />}
        {refused && <Refusal message={refused.message} jobId={refused.jobId} onDismiss={() => setRefused(null)} />}
      </div>

      <QueryPanel
        className="mt-3"
        query={list}
        what="raw records"
        count={rows.length}
        empty={filtered ? "No raw record matches these filters." : "No raw records yet: a sync stores what it reads here."}
      >
        <Table
          columns={[
            {
              header: <input type="checkbox" checked={allChecked} aria-label="Select every record shown" onChange={(event) => checkAll(event.target.checked)} />,
              width: "w-10",
            },
            { header: "External id", width: "w-56" },
            { header: "Entity type", width: "w-44" },
            { header: "Status", width: "w-28" },
            { header: "Updated", width: "w-32" },
            { header: "Error" },
          ]}
        >
          {rows.map((record) => (
            <Row key={record.id} record={record} checked={selected.has(record.id)} onCheck={check} integrationName={integrationName} />
          ))}
        </Table>
      </QueryPanel>
      <LoadMore hasMore={list.hasNextPage} loading={list.isFetchingNextPage} onMore={() => void list.fetchNextPage()} />

      <ConfirmDialog
        open={asking !== null}
        title={asking === "selected" ? `Reprocess ${plural(selected.size, "record")}?` : "Reprocess every failed record?"}
        confirmLabel="Reprocess"
        busy={reprocess.isPending}
        onConfirm={() => asking && reprocess.mutate(asking)}
        onCancel={() => setAsking(null)}
      >
        {asking === "selected" ? (
          <p>
            A reprocess job transforms and loads the {plural(selected.size, "selected record")} of {integrationName(oneIntegration ?? "")} again,
            from the stored payloads, without calling the source.
          </p>
        ) : (
          <p>
            A reprocess job transforms and loads every failed {filters.entity_type ?? ""} record of {integrationName(filters.integration_id ?? "")}{" "}
            again{filters.job_id ? " (of any job, not only the one filtered on)" : ""}, from the stored payloads, without calling the source.
          </p>
        )}
      </ConfirmDialog>
    </div>
  );
}
