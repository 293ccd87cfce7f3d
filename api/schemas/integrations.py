"""Integrations of a tenant (api/routers/integrations.py): create, read, change, test the connection.
Credentials are write-only: no response model has a field that could carry them."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from api.schemas.common import ORMModel
from api.validation import RequestModel
from etl.tenancy.integrations import PROVIDERS

Provider = Literal[tuple(PROVIDERS)]


class Credentials(RequestModel):
    """Write-only: stored encrypted, never returned or logged."""

    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(None, description="Jira Cloud: the API token's user", examples=["bot@example.com"])
    token: SecretStr = Field(description="Jira Cloud API token, Data Center personal access token, or GitHub token")


class IntegrationSettings(RequestModel):
    model_config = ConfigDict(extra="allow")
    projects: list[str] = Field(default_factory=list, examples=[["ABC", "OPS"]])
    flavor: Literal["cloud", "dc"] | None = Field(None, description="Jira Cloud or Data Center/Server (default cloud)")
    story_points_field: str | None = Field(None, examples=["customfield_10016"])
    jql: str | None = Field(None, description="extra JQL filter", examples=["labels = backend"])
    repos: list[str] = Field(default_factory=list, description="GitHub: repositories owner/name",
                             examples=[["acme/api", "acme/web"]])
    bot_patterns: list[str] | None = Field(
        None, max_length=50,
        description="GitHub: regular expressions (RE2 syntax: no backreferences or lookaround; at most 50, each at "
                    "most 200 characters) on author logins that mark bots (default `\\[bot\\]$`)")


class IntegrationCreate(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "provider": "jira", "name": "acme-jira", "base_url": "https://acme.atlassian.net",
            "credentials": {"email": "bot@acme.com", "token": "<api token>"},
            "settings": {"projects": ["ABC"], "flavor": "cloud", "story_points_field": "customfield_10016"},
        }]},
    )
    provider: Provider
    name: str = Field(min_length=1, max_length=200)
    base_url: str = Field(examples=["https://acme.atlassian.net"])
    credentials: Credentials
    settings: IntegrationSettings

    def credentials_dict(self) -> dict:
        creds = {"token": self.credentials.token.get_secret_value()}
        if self.credentials.email:
            creds["email"] = self.credentials.email
        return creds


class Integration(ORMModel):
    id: uuid.UUID
    provider: str
    name: str
    base_url: str
    settings: dict[str, Any] = Field(examples=[{"projects": ["ABC"], "flavor": "cloud"}])
    has_credentials: bool = Field(description="credentials are stored (encrypted); they are never returned")
    enabled: bool
    schedule_interval_minutes: int | None
    schedule_cron: str | None
    schedule_timezone: str | None = Field(description="the zone schedule_cron is read in; null for UTC",
                                          examples=["Europe/Paris"])
    next_sync_at: datetime | None
    last_sync_at: datetime | None
    last_reconciled_at: datetime | None = Field(
        None, description="when the source's ids were last compared with ours to find deleted items")
    logo_updated_at: datetime | None = Field(
        None, description="when the logo (GET /integrations/{id}/logo) last changed; null when it has none")
    created_at: datetime
    paused: bool = Field(False, description="paused by the circuit breaker: schedules skip it and a manual sync "
                                            "answers 409 until it is resumed (POST /integrations/{id}/resume)")
    breaker_reason: str | None = Field(None, description="why it is paused, in words",
                                       examples=["3 syncs in a row failed because the source refused the "
                                                 "integration (credentials, permissions or what it names): ..."])
    breaker_kind: Literal["fatal", "failures"] | None = Field(
        None, description="fatal: the source refused the integration; it waits for an admin to fix it and resume. "
                          "failures: failed too often in a row; a probe sync runs at breaker_probe_at")
    breaker_open_at: datetime | None = Field(None, description="paused since")
    breaker_probe_at: datetime | None = Field(None, description="when the next probe sync runs (failures only)")
    consecutive_failures: int = Field(0, description="syncs failed in a row (reset by a sync that succeeds)")

    @classmethod
    def from_row(cls, row, logo_updated_at: datetime | None = None) -> "Integration":
        return cls.model_validate(
            {**{f: getattr(row, f) for f in cls.model_fields
                if f not in ("has_credentials", "logo_updated_at", "paused")},
             "has_credentials": bool(row.credentials_encrypted), "logo_updated_at": logo_updated_at,
             "paused": row.breaker_open_at is not None}
        )


def _credentials_dict(credentials: Credentials | None) -> dict | None:
    if credentials is None:
        return None
    creds = {"token": credentials.token.get_secret_value()}
    if credentials.email:
        creds["email"] = credentials.email
    return creds


class ConnectionTestIn(RequestModel):
    """What POST /integrations would create, tested with the source and not saved."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "provider": "jira", "base_url": "https://acme.atlassian.net",
            "credentials": {"email": "bot@acme.com", "token": "<api token>"},
            "settings": {"projects": ["ABC"], "flavor": "cloud"},
        }]},
    )
    provider: Provider
    name: str | None = Field(None, min_length=1, max_length=200, description="optional: checked as create checks it")
    base_url: str = Field(examples=["https://acme.atlassian.net"])
    credentials: Credentials
    settings: IntegrationSettings

    def credentials_dict(self) -> dict:
        return _credentials_dict(self.credentials)


class ConnectionTestChanges(RequestModel):
    """Changes to test on a saved integration, merged with what is stored as PATCH would merge them;
    nothing is saved."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [
            {"settings": {"projects": ["ABC", "OPS"]}},
            {"base_url": "https://new.atlassian.net", "credentials": {"email": "bot@acme.com", "token": "<token>"}},
        ]},
    )
    base_url: str | None = Field(None, description="a new host needs new credentials in the same body")
    settings: IntegrationSettings | None = Field(None, description="merged into the stored settings, as PATCH does")
    credentials: Credentials | None = Field(None, description="write-only: used for this test instead of the stored ones")

    def settings_changes(self) -> dict | None:
        return None if self.settings is None else self.settings.model_dump(exclude_unset=True)

    def credentials_dict(self) -> dict | None:
        return _credentials_dict(self.credentials)


class ScheduleIn(RequestModel):
    """Either a 5-field cron expression (in `timezone`, UTC by default) or an interval in minutes."""

    model_config = ConfigDict(extra="forbid")
    cron: str | None = Field(None, description="minute hour day-of-month month day-of-week",
                             examples=["*/15 * * * *", "0 6 * * mon-fri"])
    timezone: str | None = Field(
        None, description="IANA time zone the cron expression is read in (UTC when omitted); 06:00 stays 06:00 "
                          "local time across daylight-saving changes. Cron schedules only.",
        examples=["Europe/Paris", "America/New_York"])
    every_minutes: int | None = Field(None, examples=[30])


class IntegrationPatch(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"schedule": {"cron": "*/15 * * * *"}, "enabled": True},
                                        {"schedule": {"cron": "0 6 * * mon-fri", "timezone": "Europe/Paris"}},
                                        {"schedule": {"every_minutes": 30}}, {"schedule": None}]},
    )
    schedule: ScheduleIn | None = Field(
        None, description="the sync schedule; null removes it (the integration then syncs only when triggered). "
                          "Omit to leave it as it is.")
    enabled: bool | None = Field(None, description="a disabled integration is not synced on schedule")


class IntegrationUpdate(IntegrationPatch):
    """Any subset of the fields; what is omitted stays as it is."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [
            {"credentials": {"email": "bot@acme.com", "token": "<new api token>"}},
            {"settings": {"projects": ["ABC", "OPS"]}, "name": "acme-jira"},
            {"schedule": {"cron": "*/15 * * * *"}, "enabled": True},
        ]},
    )
    name: str | None = Field(None, min_length=1, max_length=200)
    base_url: str | None = Field(None, examples=["https://acme.atlassian.net"])
    settings: IntegrationSettings | None = Field(
        None, description="merged into the stored settings: a key given replaces that setting, a key set to null "
                          "removes it, the others stay")
    credentials: Credentials | None = Field(
        None, description="write-only: replaces the stored credentials as a whole, stored encrypted, never returned")

    def settings_changes(self) -> dict | None:
        return None if self.settings is None else self.settings.model_dump(exclude_unset=True)

    def credentials_dict(self) -> dict | None:
        if self.credentials is None:
            return None
        creds = {"token": self.credentials.token.get_secret_value()}
        if self.credentials.email:
            creds["email"] = self.credentials.email
        return creds


class ConnectionTest(BaseModel):
    """The source's answer to the integration's credentials and settings."""

    ok: bool
    account: str | None = Field(None, description="whose the credentials are, as the source names the account",
                                examples=["ETL Bot (712020:3f2b...)"])
    checked: list[str] | None = Field(None, description="what was found visible to these credentials",
                                      examples=[["project ABC", "project OPS"]])
    error: str | None = Field(
        None, description="the source's message and what to fix",
        examples=["Jira at https://acme.atlassian.net rejected the credentials (GET ... -> 401: ...); "
                  "check the email and API token"])


class SchedulePreview(BaseModel):
    """When a schedule would run, computed by the code the dispatcher uses."""

    next_runs: list[datetime] = Field(description="the next three due times, in UTC",
                                      examples=[["2026-03-02T05:00:00Z", "2026-03-03T05:00:00Z", "2026-03-04T05:00:00Z"]])
    timezone: str | None = Field(description="the zone a cron schedule is read in (UTC when none was given); "
                                             "null for an interval", examples=["Europe/Paris"])
    summary: str = Field(description="the schedule in words", examples=["at 06:00 Mon-Fri Europe/Paris",
                                                                         "every 30 minutes"])
