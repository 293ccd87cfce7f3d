// Notifications: the tenant's webhooks (events POSTed to a URL, signed), a form to add one, its
// signing secret shown once (on creation and rotation), a test on request, and the recent
// deliveries of the webhook chosen in the list.

import { useState } from "react";
import { useWriteBlocked } from "../../api/hooks";
import {
  useDeleteWebhook,
  useRotateSecret,
  useTestWebhook,
  useWebhooks,
  type Webhook,
  type WebhookWithSecret,
} from "../../api/notifications";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { QueryPanel, Table } from "../../components/DataTable";
import { toast } from "../../components/toast";
import { SecretPanel } from "../keys/SecretPanel";
import { CreateWebhook } from "./CreateWebhook";
import { Deliveries } from "./Deliveries";

const COLUMNS = [
  { header: "Webhook" },
  { header: "Events", width: "w-72" },
  { header: "Format", width: "w-20" },
  { header: <span className="sr-only">Actions</span>, width: "w-[25rem]" },
];

function eventsText(webhook: Webhook): string {
  return webhook.events
    .map((kind) => (kind === "integration.stale" && webhook.stale_after_minutes ? `${kind} (after ${webhook.stale_after_minutes} min)` : kind))
    .join(", ");
}

function WebhookRow(props: {
  webhook: Webhook;
  selected: boolean;
  onSelect: () => void;
  onRotate: () => void;
  onDelete: () => void;
}) {
  const { webhook } = props;
  const blocked = useWriteBlocked();
  const test = useTestWebhook();
  const sendTest = () =>
    test.mutate(webhook.id, {
      onSuccess: () => {
        props.onSelect();
        toast(`Test sent to ${webhook.name}`, { kind: "success", description: "Its delivery is listed below." });
      },
      onError: (error) => toast("Could not send the test", { kind: "error", description: error.message }),
    });
  return (
    <tr className={`border-t border-slate-100 dark:border-slate-800 ${props.selected ? "bg-blue-50/60 dark:bg-blue-950/30" : ""}`} data-webhook={webhook.id}>
      <td className="td">
        <div className="truncate font-medium" title={webhook.name}>
          {webhook.name}
          {!webhook.enabled && <span className="muted text-xs"> (disabled)</span>}
        </div>
        <div className="muted truncate font-mono text-xs" title="The URL is a secret: only its host and last characters are shown">
          {webhook.url_display}
        </div>
      </td>
      <td className="td text-xs">
        <div className="truncate" title={eventsText(webhook)}>
          {eventsText(webhook)}
        </div>
      </td>
      <td className="td text-xs">{webhook.format === "slack" ? "Slack" : "JSON"}</td>
      <td className="td">
        <div className="flex justify-end gap-2">
          <button
            type="button"
            className="btn"
            disabled={blocked !== null || test.isPending || !webhook.enabled}
            title={blocked ?? (webhook.enabled ? undefined : "the webhook is disabled")}
            aria-label={`Send a test to ${webhook.name}`}
            onClick={sendTest}
          >
            Send test
          </button>
          <button type="button" className="btn" aria-pressed={props.selected} aria-label={`Deliveries of ${webhook.name}`} onClick={props.onSelect}>
            Deliveries
          </button>
          <button type="button" className="btn" disabled={blocked !== null} title={blocked ?? undefined} aria-label={`Rotate the secret of ${webhook.name}`} onClick={props.onRotate}>
            Rotate secret
          </button>
          <button type="button" className="btn btn-danger" disabled={blocked !== null} title={blocked ?? undefined} aria-label={`Delete ${webhook.name}`} onClick={props.onDelete}>
            Delete
          </button>
        </div>
      </td>
    </tr>
  );
}

const SECRET_NOTE =
  "Copy it now: this is the only time it is shown. Your receiver checks each delivery's X-Pulse-Signature with it (HMAC-SHA256 of “timestamp.body”, see the README); if it is lost, rotate the secret.";

export function NotificationsPage() {
  const webhooks = useWebhooks();
  const rotate = useRotateSecret();
  const remove = useDeleteWebhook();
  const [secret, setSecret] = useState<WebhookWithSecret | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<{ action: "delete" | "rotate"; webhook: Webhook } | null>(null);
  const rows = webhooks.data ?? [];
  const selected = rows.find((w) => w.id === selectedId) ?? null;

  const confirm = () => {
    if (!confirming) return;
    const { action, webhook } = confirming;
    const done = () => setConfirming(null);
    const failed = (error: Error) => {
      done();
      toast(action === "delete" ? "Could not delete the webhook" : "Could not rotate the secret", { kind: "error", description: error.message });
    };
    if (action === "rotate") {
      rotate.mutate(webhook.id, { onSuccess: (rotated) => (done(), setSecret(rotated)), onError: failed });
    } else {
      remove.mutate(webhook.id, {
        onSuccess: () => {
          done();
          if (selectedId === webhook.id) setSelectedId(null);
          toast(`Webhook “${webhook.name}” deleted`, { kind: "success" });
        },
        onError: failed,
      });
    }
  };

  return (
    <div>
      <h1 className="text-xl font-semibold">Notifications</h1>
      <p className="muted mt-1 text-sm">
        Webhooks POST an event when a job fails, an integration is paused or goes stale: as a signed JSON document, or as a
        Slack message. Failed deliveries are retried with growing waits.
      </p>
      <div className="mt-4 flex flex-col gap-3">
        {secret && (
          <SecretPanel
            name={secret.name}
            secret={secret.secret}
            title={`Signing secret of “${secret.name}”`}
            note={SECRET_NOTE}
            label="The webhook's signing secret"
            onDone={() => setSecret(null)}
          />
        )}
        <CreateWebhook
          onCreated={(created) => {
            setSecret(created);
            setSelectedId(created.id);
          }}
        />
      </div>
      <QueryPanel className="mt-4" query={webhooks} what="the webhooks" count={rows.length} empty="No webhook yet: add one above.">
        <Table columns={COLUMNS}>
          {rows.map((webhook) => (
            <WebhookRow
              key={webhook.id}
              webhook={webhook}
              selected={webhook.id === selectedId}
              onSelect={() => setSelectedId(webhook.id)}
              onRotate={() => setConfirming({ action: "rotate", webhook })}
              onDelete={() => setConfirming({ action: "delete", webhook })}
            />
          ))}
        </Table>
      </QueryPanel>
      {selected && <Deliveries webhook={selected} />}
      <ConfirmDialog
        open={confirming !== null}
        title={confirming?.action === "delete" ? `Delete webhook “${confirming.webhook.name}”?` : `Rotate the secret of “${confirming?.webhook.name ?? ""}”?`}
        confirmLabel={confirming?.action === "delete" ? "Delete the webhook" : "Rotate the secret"}
        danger={confirming?.action === "delete"}
        busy={rotate.isPending || remove.isPending}
        onConfirm={confirm}
        onCancel={() => setConfirming(null)}
      >
        {confirming?.action === "delete" ? (
          <p>No more events are sent to it, and its delivery history is deleted.</p>
        ) : (
          <p>Deliveries are signed with the new secret from now on: your receiver must use it at once.</p>
        )}
      </ConfirmDialog>
    </div>
  );
}
