"""What every resource's models share: ORM rows as responses, the `{"detail": ...}` message of an error, and
a page of a keyset-paginated list."""
from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

T = TypeVar("T")


class ORMModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def column_at(column: str):
    """A response field that keeps its published name while its column is `column` (timestamp
    columns end in _at; the API's field names did not change): read from the row's column, or by
    the field's own name from a dump of the model."""
    return Field(validation_alias=AliasChoices(column, column.removesuffix("_at")))


class Message(BaseModel):
    detail: str = Field(examples=["integration 3f2b... not found"])


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(
        None, description="Pass as `cursor` to get the next page; null on the last page.",
        examples=["WyIyMDI1LTA5LTMwVDEyOjAwOjAwKzAwOjAwIiwgMTJd"],
    )
