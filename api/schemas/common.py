"""What every resource's models share: ORM rows as responses, the `{"detail": ...}` message of an error, and
a page of a keyset-paginated list."""
from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class ORMModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Message(BaseModel):
    detail: str = Field(examples=["integration 3f2b... not found"])


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(
        None, description="Pass as `cursor` to get the next page; null on the last page.",
        examples=["WyIyMDI1LTA5LTMwVDEyOjAwOjAwKzAwOjAwIiwgMTJd"],
    )
