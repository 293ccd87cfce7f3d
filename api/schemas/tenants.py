"""Tenants, for admin keys (api/routers/tenants.py): a new tenant's first API key is in the response that
creates it, and only there."""
from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.api_keys import ApiKeyCreated
from api.schemas.common import ORMModel
from api.validation import Text


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "acme"}]})
    name: Text = Field(min_length=1, max_length=200)


class Tenant(ORMModel):
    id: uuid.UUID
    name: str = Field(examples=["acme"])
    created_at: datetime


class TenantCreated(Tenant):
    api_key: ApiKeyCreated = Field(description="the tenant's first API key; its secret is shown only here")
