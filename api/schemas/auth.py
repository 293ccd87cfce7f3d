"""Who the caller is (api/routers/auth.py): what the console shows and which actions it enables."""
from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.api_keys import Scope


class Me(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"tenant_id": "3f2b6c1e-8d4a-4b7e-9c2f-1a0e5d6b7c8d", "tenant_name": "acme",
         "key_id": "7d6c5b4a-3e2f-4a1b-8c9d-0e1f2a3b4c5d", "key_name": "console", "scopes": ["read", "write"],
         "is_admin": False, "auth": "api_key"},
        {"tenant_id": "3f2b6c1e-8d4a-4b7e-9c2f-1a0e5d6b7c8d", "tenant_name": "acme", "key_id": None,
         "key_name": None, "scopes": ["read"], "is_admin": False, "auth": "jwt"},
    ]})
    tenant_id: uuid.UUID
    tenant_name: str
    key_id: uuid.UUID | None = Field(description="the API key's id; null for a JWT")
    key_name: str | None = Field(description="the API key's name; null for a JWT")
    scopes: list[Scope] = Field(description="`[\"read\"]`: GET only, every other method answers 403; "
                                            "`[\"read\", \"write\"]`: also changes things")
    is_admin: bool = Field(description="an admin key also manages tenants; always false for a JWT")
    auth: Literal["api_key", "jwt"] = Field(description="how the caller authenticated")
