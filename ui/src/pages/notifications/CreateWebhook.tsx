// The form that subscribes a webhook: name, URL, format, the events as checkboxes and, with
// "data stale", its threshold. The API's refusal (a refused address, an unknown host) is shown as it
// words it.

import { useState, type FormEvent } from "react";
import { useWriteBlocked } from "../../api/hooks";
import { EVENTS, useCreateWebhook, type EventKind, type WebhookFormat, type WebhookWithSecret } from "../../api/notifications";

export function CreateWebhook({ onCreated }: { onCreated: (created: WebhookWithSecret) => void }) {
  const blocked = useWriteBlocked();
  const create = useCreateWebhook();
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [format, setFormat] = useState<WebhookFormat>("json");
  const [events, setEvents] = useState<EventKind[]>(["job.failed"]);
  const [staleAfter, setStaleAfter] = useState("180");
  const stale = events.includes("integration.stale");
  const toggle = (kind: EventKind, on: boolean) => setEvents((old) => (on ? [...old, kind] : old.filter((k) => k !== kind)));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body = { name: name.trim(), url: url.trim(), format, events, stale_after_minutes: stale ? Number(staleAfter) : null };
    create.mutate(body, {
      onSuccess: (created) => {
        setName("");
        setUrl("");
        onCreated(created);
      },
    });
  };
  const missing = !name.trim() ? "give the webhook a name" : !url.trim() ? "give the URL" : events.length === 0 ? "choose an event" : null;
  return (
    <form className="panel space-y-3 p-4" onSubmit={submit} aria-label="Add a webhook">
      <div className="flex flex-wrap items-end gap-3">
        <label className="flex flex-col gap-0.5 text-xs font-medium">
          Name
          <input className="field w-52" value={name} maxLength={200} placeholder="e.g. ops-alerts" onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="flex min-w-0 flex-1 flex-col gap-0.5 text-xs font-medium">
          URL
          <input
            className="field w-full"
            type="url"
            value={url}
            maxLength={2000}
            placeholder="https://hooks.slack.com/services/…"
            onChange={(e) => setUrl(e.target.value)}
          />
        </label>
        <label className="flex flex-col gap-0.5 text-xs font-medium">
          Format
          <select className="field" value={format} onChange={(e) => setFormat(e.target.value as WebhookFormat)}>
            <option value="json">JSON (signed event document)</option>
            <option value="slack">Slack message</option>
          </select>
        </label>
      </div>
      <fieldset className="flex flex-wrap gap-x-5 gap-y-1.5">
        <legend className="mb-1 text-xs font-medium">Events</legend>
        {EVENTS.map(([kind, words]) => (
          <label key={kind} className="flex items-center gap-1.5 text-sm">
            <input type="checkbox" checked={events.includes(kind)} onChange={(e) => toggle(kind, e.target.checked)} />
            {words}
          </label>
        ))}
      </fieldset>
      <div className="flex flex-wrap items-end gap-3">
        <label className="flex flex-col gap-0.5 text-xs font-medium">
          Stale after (minutes without a completed sync)
          <input
            className="field w-40"
            type="number"
            min={5}
            value={staleAfter}
            disabled={!stale}
            title={stale ? undefined : "for the “no completed sync” event"}
            onChange={(e) => setStaleAfter(e.target.value)}
          />
        </label>
        <button
          type="submit"
          className="btn btn-primary"
          disabled={blocked !== null || missing !== null || create.isPending}
          title={blocked ?? missing ?? undefined}
        >
          {create.isPending ? "Adding…" : "Add webhook"}
        </button>
      </div>
      {create.isError && (
        <p role="alert" className="text-sm text-red-700 dark:text-red-300">
          Not added: {create.error.message}
        </p>
      )}
    </form>
  );
}
