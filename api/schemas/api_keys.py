"""The tenant's API keys (api/routers/api_keys.py). A key's secret is in a response only once, when it
is created."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.common import ORMModel
from api.validation import Text
from etl.tenancy.keys import SCOPE_WRITE, normalise_scopes

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
