"""Webhooks of the caller's tenant (api/routers/notifications.py). A webhook's signing secret is in a
response only twice: when it is created and when it is rotated. Its URL is write-only: a Slack
incoming-webhook URL lets whoever has it post to the channel, so it is stored encrypted and every
response carries its masked form, `url_display`, instead."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import ORMModel
from api.validation import Text
from etl.notify.events import EVENT_KINDS
from etl.notify.subscriptions import MAX_STALE_MINUTES, MAX_URL_CHARS

Format = Literal["json", "slack"]
_EVENTS_DOC = f"the events to send, among {', '.join(EVENT_KINDS)}"
_FORMAT_DOC = ("`json`: our event document (event, tenant_id, occurred_at, subject, delivery_id); `slack`: an "
               "incoming-webhook message {\"text\": ...} for Slack or any chat that takes that shape")
_URL_DOC = ("where events are POSTed: a public http(s) address. Write-only: stored encrypted, never returned "
            "(responses carry `url_display`)")
_STALE_DOC = ("for integration.stale: minutes without a completed sync after which an integration is stale "
              f"(5 to {MAX_STALE_MINUTES})")


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "ops-alerts", "url": "https://hooks.example.com/pulse", "events": ["job.failed", "integration.stale"],
         "stale_after_minutes": 180}]})
    name: Text = Field(min_length=1, max_length=200, description="what the webhook is for")
    url: Text = Field(max_length=MAX_URL_CHARS, description=_URL_DOC)
    events: list[Text] = Field(min_length=1, max_length=len(EVENT_KINDS), description=_EVENTS_DOC)
    format: Format = Field("json", description=_FORMAT_DOC)
    stale_after_minutes: int | None = Field(None, ge=5, le=MAX_STALE_MINUTES, description=_STALE_DOC)
    enabled: bool = True


class WebhookUpdate(BaseModel):
    """Only the fields sent change; `stale_after_minutes: null` clears the threshold. Without `url`
    the webhook keeps its URL (which is never returned, so a form cannot send it back)."""

    model_config = ConfigDict(extra="forbid")
    name: Text | None = Field(None, min_length=1, max_length=200)
    url: Text | None = Field(None, max_length=MAX_URL_CHARS,
                             description=_URL_DOC + "; omitted: unchanged, given: checked and replaces it")
    events: list[Text] | None = Field(None, min_length=1, max_length=len(EVENT_KINDS), description=_EVENTS_DOC)
    format: Format | None = None
    stale_after_minutes: int | None = Field(None, ge=5, le=MAX_STALE_MINUTES, description=_STALE_DOC)
    enabled: bool | None = None


class Webhook(ORMModel):
    """A webhook as listed: never its secret, never its URL (only its masked form)."""

    id: uuid.UUID
    name: str
    url_display: str = Field(description="the URL masked: scheme://host/ and, for a long path, its last 4 "
                                         "characters; the rest is never returned",
                             examples=["https://hooks.slack.com/…Xk9Q"])
    format: Format
    events: list[str] = Field(description=_EVENTS_DOC)
    stale_after_minutes: int | None
    enabled: bool
    created_at: datetime


class WebhookWithSecret(Webhook):
    secret: str = Field(description="the signing secret: shown only in this response, store it now",
                        examples=["whsec_3Fq9xZ..."])


class Delivery(ORMModel):
    id: uuid.UUID
    event: str = Field(examples=["job.failed"])
    status: Literal["pending", "succeeded", "failed"] = Field(
        description="pending: not sent yet, or to be retried at next_attempt_at; succeeded: the receiver "
                    "answered 2xx; failed: every attempt failed (ETL_WEBHOOK_MAX_ATTEMPTS) or the address is refused")
    attempts: int
    last_status_code: int | None = Field(description="the receiver's last HTTP status; null if it never answered")
    last_error: str | None = Field(description="why the last attempt failed, in words")
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    payload: dict = Field(description="occurred_at and the event's subject (ids and words)")
