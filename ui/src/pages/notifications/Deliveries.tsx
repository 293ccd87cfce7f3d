// A webhook's recent deliveries: when, which event, how it ended, how many attempts, the receiver's
// HTTP status and why it failed. Read again every few seconds while one is pending.

import { useDeliveries, type Webhook } from "../../api/notifications";
import { QueryPanel, Table } from "../../components/DataTable";
import { StatusBadge } from "../../components/StatusBadge";
import { dateTime, relative } from "../../lib/format";

const COLUMNS = [
  { header: "Sent", width: "w-36" },
  { header: "Event", width: "w-48" },
  { header: "Status", width: "w-28" },
  { header: "Attempts", width: "w-24" },
  { header: "HTTP", width: "w-20" },
  { header: "Error" },
];

export function Deliveries({ webhook }: { webhook: Webhook }) {
  const deliveries = useDeliveries(webhook.id);
  const rows = deliveries.data ?? [];
  return (
    <section aria-labelledby="deliveries-title" className="mt-6">
      <h2 id="deliveries-title" className="font-semibold">
        Recent deliveries of {webhook.name}
      </h2>
      <QueryPanel
        className="mt-2"
        query={deliveries}
        what="the deliveries"
        count={rows.length}
        empty="Nothing sent yet: send a test, or wait for an event."
      >
        <Table columns={COLUMNS}>
          {rows.map((d) => (
            <tr key={d.id} className="border-t border-slate-100 dark:border-slate-800" data-delivery={d.id}>
              <td className="td text-xs whitespace-nowrap" title={dateTime(d.created_at)}>
                {relative(d.created_at)}
              </td>
              <td className="td truncate font-mono text-xs">{d.event}</td>
              <td className="td">
                <StatusBadge status={d.status} />
              </td>
              <td className="td text-right tabular-nums">{d.attempts}</td>
              <td className="td text-right tabular-nums">{d.last_status_code ?? "—"}</td>
              <td className="td text-xs">
                {d.last_error ? (
                  <div className="truncate text-red-700 dark:text-red-300" title={d.last_error}>
                    {d.last_error}
                    {d.status === "pending" && <span className="muted"> · next try {relative(d.next_attempt_at)}</span>}
                  </div>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </Table>
      </QueryPanel>
    </section>
  );
}
