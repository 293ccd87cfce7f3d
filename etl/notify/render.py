"""What a receiver gets: `json`, our event document, or `slack`, an incoming-webhook message
({"text": ...}) in words a person reads in a chat channel."""
from __future__ import annotations

import uuid

import orjson

from etl.notify import events

# What happened, per event; {name} is the integration's, {reason} why, {link} where to look.
SENTENCES = {
    events.JOB_FAILED: "A sync of {name} failed: {reason}.",
    events.JOB_PARTIAL: "A sync of {name} finished with errors: {reason}.",
    events.INTEGRATION_PAUSED: "{name} is paused and will not sync until it is resumed: {reason}.",
    events.INTEGRATION_RECOVERED: "{name} syncs again: {reason}.",
    events.DATA_STALE: "{name} is stale: {reason}.",
    events.AUDIT_DIFFERENCES: "The consistency audit of {name} found differences: {reason}.",
}


def event_document(event: str, tenant_id: uuid.UUID, delivery_id: uuid.UUID, payload: dict) -> dict:
    return {"event": event, "tenant_id": str(tenant_id), "occurred_at": payload.get("occurred_at"),
            "subject": payload.get("subject") or {}, "delivery_id": str(delivery_id)}


def slack_text(event: str, subject: dict, webhook_name: str) -> str:
    if event == events.TEST:
        return f"pulse-etl test notification for the webhook {webhook_name}: it arrives, so events will too."
    name = subject.get("integration_name") or subject.get("integration_id") or "an integration"
    reason = str(subject.get("reason") or "no reason given").rstrip(".")
    sentence = SENTENCES.get(event, f"{event} for {{name}}: {{reason}}.").format(name=name, reason=reason)
    link = subject.get("link")
    return f"{sentence} See {link} in the pulse-etl console." if link else sentence


def body_for(fmt: str, event: str, tenant_id: uuid.UUID, delivery_id: uuid.UUID, payload: dict,
             webhook_name: str) -> bytes:
    if fmt == "slack":
        return orjson.dumps({"text": slack_text(event, payload.get("subject") or {}, webhook_name)})
    return orjson.dumps(event_document(event, tenant_id, delivery_id, payload))
