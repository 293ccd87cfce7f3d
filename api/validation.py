"""Input that PostgreSQL or our JSON writer cannot take is refused with a 422 at the edge, for every
route at once: NUL characters (psycopg2 refuses them in parameters, JSONB refuses `\\u0000`),
unpaired surrogates (no UTF-8 encoding exists), integers past 64 bits and JSON nested past a sane
depth (orjson, which writes our JSONB columns, refuses both), NaN and infinities (which it would
store as null). The URL is checked by a middleware, request bodies by the models' base class.
Messages name where the problem is, never the value: a body may carry credentials."""
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


def unstorable_text(text: str, allow_nul: bool = False) -> str | None:
    """Why `text` cannot be stored as PostgreSQL text, or None when it can."""
    if not allow_nul and "\x00" in text:
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


class _Unstorable(Exception):
    """A value that cannot be stored; `path` (innermost first) is filled in on the way out, so that
    the walk builds no path for the values that are fine."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        self.path: list[str] = []

    def message(self, field: str) -> str:
        where = field + "".join(reversed(self.path))
        return f"{where if len(where) <= 80 else where[:77] + '...'}: {self.problem}"


def _check_json(value: Any, depth: int, allow_nul: bool) -> None:
    """Raise _Unstorable for the first value in `value` that cannot be stored. Nested models are
    left alone: each checks its own fields."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        problem = unstorable_text(value, allow_nul)
        if problem:
            raise _Unstorable(problem)
    elif isinstance(value, int) and not isinstance(value, bool):
        if not _INT_MIN <= value <= _INT_MAX:
            raise _Unstorable("integer out of range (at most 64 bits)")
    elif isinstance(value, float):
        if not math.isfinite(value):  # NaN and 1e400 parse, but JSON has no such number: stored as null
            raise _Unstorable("not a finite number")
    elif isinstance(value, (dict, list)):
        if depth >= MAX_JSON_DEPTH:
            raise _Unstorable(f"nested deeper than {MAX_JSON_DEPTH} levels of objects and arrays")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and (problem := unstorable_text(key, allow_nul)):
                raise _Unstorable(f"a key {problem}")
            try:
                _check_json(item, depth + 1, allow_nul)
            except _Unstorable as exc:
                exc.path.append(f".{key[:40]}" if isinstance(key, str) else f"[{key}]")
                raise


class RequestModel(BaseModel):
    """Base of every request body: each string, key and number anywhere in its fields (free-form
    JSON included) can be stored. Fields named in `nul_dropped` may hold NUL characters because
    the code that stores them drops them (etl/raw.py, like the pipeline's own extracts)."""

    nul_dropped: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _storable(self):
        extra = self.__pydantic_extra__ or {}  # unknown fields, allowed by some models
        for name, value in (*self.__dict__.items(), *extra.items()):
            if name in extra and (problem := unstorable_text(name)):
                raise ValueError(f"a field name {problem}")
            try:
                _check_json(value, 0, name in self.nul_dropped)
            except _Unstorable as exc:
                raise ValueError(exc.message(name[:40])) from None
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
            shown = name.replace("\x00", "%00")
            return f"query parameter {shown[:40]} contains a NUL character (%00); remove it"
    return None
