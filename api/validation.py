"""Input that PostgreSQL or our JSON writer cannot take is refused with a 422 at the edge, for every
route at once: NUL characters (psycopg2 refuses them in parameters, JSONB refuses `\\u0000`),
unpaired surrogates (no UTF-8 encoding exists), integers past 64 bits and JSON nested past a sane
depth (orjson, which writes our JSONB columns, refuses both), NaN and infinities (which it would
store as null). The URL is checked by a middleware,
request bodies by the models' base class. Messages name where the problem is, never the value: a
body may carry credentials."""
from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar
from urllib.parse import parse_qsl

from pydantic import AfterValidator, BaseModel, Field, SecretStr, model_validator
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

MAX_JSON_DEPTH = 64
# What orjson serializes: signed and unsigned 64-bit integers.
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1
# bigint primary keys
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]


def unstorable_text(text: str) -> str | None:
    """Why `text` cannot be stored as PostgreSQL text, or None when it can."""
    if "\x00" in text:
        return r"contains a NUL character (\u0000), which cannot be stored; remove it"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return r"contains an unpaired surrogate (\ud800-\udfff), which is not valid Unicode text"
    return None


def _storable_text(text: str) -> str:
    problem = unstorable_text(text)
    if problem:
        raise ValueError(problem)
    return text


# A string field of a model that does not derive from RequestModel.
Text = Annotated[str, AfterValidator(_storable_text)]


def _name(where: str) -> str:
    """A field path as quoted in a message: bounded, since keys and depth are the client's."""
    return where if len(where) <= 80 else where[:77] + "..."


def _check_json(value: Any, where: str, depth: int, drop_nul: bool) -> None:
    """Raise ValueError naming the place in `value` that cannot be stored. Nested models are left
    alone: each checks its own fields."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        problem = unstorable_text(value.replace("\x00", "") if drop_nul else value)
        if problem:
            raise ValueError(f"{_name(where)}: {problem}")
    elif isinstance(value, int) and not isinstance(value, bool):
        if not _INT_MIN <= value <= _INT_MAX:
            raise ValueError(f"{_name(where)}: integer out of range (at most 64 bits)")
    elif isinstance(value, float):
        if not math.isfinite(value):  # NaN and 1e400 parse, but JSON has no such number: stored as null
            raise ValueError(f"{_name(where)}: not a finite number")
    elif isinstance(value, (dict, list)):
        if depth >= MAX_JSON_DEPTH:
            raise ValueError(f"{_name(where)}: nested deeper than {MAX_JSON_DEPTH} levels of objects and arrays")
        if isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key[:40]}"
                _check_json(key, f"{path} (a key)", depth, drop_nul)
                _check_json(item, path, depth + 1, drop_nul)
        else:
            for i, item in enumerate(value):
                _check_json(item, f"{where}[{i}]", depth + 1, drop_nul)


class RequestModel(BaseModel):
    """Base of every request body: each string, key and number anywhere in its fields (free-form
    JSON included) can be stored. Fields named in `nul_dropped` may hold NUL characters because
    the code that stores them drops them (etl/raw.py, like the pipeline's own extracts)."""

    nul_dropped: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _storable(self):
        for name, value in self.__dict__.items():
            _check_json(value, name, 0, name in self.nul_dropped)
        for name, value in (self.__pydantic_extra__ or {}).items():  # unknown fields, allowed by some models
            _check_json(name, f"{name[:40]} (a field name)", 0, False)
            _check_json(value, name[:40], 0, False)
        return self


class RefuseNulInUrl:
    """422 for a NUL character (`%00`) in the path or a query parameter, before any route sees it:
    every route would otherwise pass it to psycopg2, which refuses it (a 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = _nul_in_url(scope) if scope["type"] == "http" else None
        if problem:
            await JSONResponse({"detail": problem}, status_code=422)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _nul_in_url(scope: Scope) -> str | None:
    if "\x00" in scope["path"]:
        return r"the URL path contains a NUL character (%00); remove it"
    query = scope.get("query_string") or b""
    if b"%00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return (f"query parameter {_name(name.replace(chr(0), '%00'))} contains a NUL character (%00); "
                    "remove it")
    return None
