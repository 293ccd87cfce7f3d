"""Request and response models of the tenant admin's routes: API keys, tenants, integration changes
and connection tests. A key's secret is in a response only once, when it is created; source
credentials are in none."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.integrations import Credentials, IntegrationPatch, IntegrationSettings, ORMModel
from api.validation import Text
from etl.tenancy.keys import SCOPE_WRITE, normalise_scopes

# --- API keys ---------------------------------------------------------------------------------


Scope = Literal["read", "write"]
_SCOPES_DOC = ("`read`: GET requests only, any other method answers 403; `write`: also changes things, and "
               "implies `read`")


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "ci-dashboard"}, {"name": "analyst", "scopes": ["read"]}]})
    name: Text = Field("default", min_length=1, max_length=200, description="what the key is for")
    is_admin: bool = Field(False, description="an admin key also manages tenants; only an admin key can create one")
    scopes: list[Scope] = Field(["read", "write"], min_length=1, description=(
        f"what the key may do. {_SCOPES_DOC} (`[\"write\"]` is stored as `[\"read\", \"write\"]`). "
        "`[\"read\"]` makes a read-only key, e.g. for a dashboard. An admin key needs `write`"))

    @model_validator(mode="after")
    def _normalise_scopes(self) -> "ApiKeyCreate":
        self.scopes = normalise_scopes(self.scopes)
        if self.is_admin and SCOPE_WRITE not in self.scopes:
            raise ValueError("an admin key needs the write scope (it manages tenants): "
                             "leave scopes out or include \"write\"")
        return self


class ApiKey(ORMModel):
    """A key as listed: never its secret, only the first characters (`prefix`) to recognise it."""

    id: uuid.UUID
    name: str = Field(examples=["ci-dashboard"])
    prefix: str = Field(examples=["pk_3Fq9xZ"], description="the secret's first characters")
    is_admin: bool
    scopes: list[Scope] = Field(examples=[["read", "write"], ["read"]], description=_SCOPES_DOC)
    created_at: datetime
    revoked_at: datetime | None = Field(description="null while the key works")


class ApiKeyCreated(ApiKey):
    key: str = Field(description="the secret: shown only in this response, store it now; only its hash is kept",
                     examples=["pk_3Fq9xZ..."])


# --- tenants ----------------------------------------------------------------------------------


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "acme"}]})
    name: Text = Field(min_length=1, max_length=200)


class Tenant(ORMModel):
    id: uuid.UUID
    name: str = Field(examples=["acme"])
    created_at: datetime


class TenantCreated(Tenant):
    api_key: ApiKeyCreated = Field(description="the tenant's first API key; its secret is shown only here")


# --- integrations -----------------------------------------------------------------------------


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
