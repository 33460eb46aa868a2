"""Oracle B2C Service ``tasks`` as pydantic models: what we send, and what Oracle returns.

Attribute names are Python's; aliases are Oracle's camelCase wire names. Request bodies are
``model_dump(mode="json", by_alias=True, exclude_none=True)``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator
from pydantic.alias_generators import to_camel

from bot.domain.when import oracle_time


class OracleModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def body(self) -> dict:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Ref(OracleModel):
    """A reference or a named ID: exactly one of ``id`` and ``lookupName``."""

    id: int | None = None
    lookup_name: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Ref:
        if (self.id is None) == (self.lookup_name is None):
            raise ValueError("a reference has exactly one of id and lookupName")
        return self


class StatusWithType(OracleModel):
    status: Ref | None = None


class ServiceSettings(OracleModel):
    incident: Ref | None = None
    answer: Ref | None = None


class SalesSettings(OracleModel):
    opportunity: Ref | None = None


class NewNote(OracleModel):
    text: str = Field(max_length=349525)


class TaskCreate(OracleModel):
    """The body of ``POST /tasks``."""

    name: str = Field(min_length=1)
    contact: Ref | None = None
    organization: Ref | None = None
    assigned_to_account: Ref | None = None
    due_time: datetime | None = None
    start_time: datetime | None = None
    percent_complete: int | None = Field(default=None, ge=0, le=100)
    priority: Ref | None = None
    status_with_type: StatusWithType | None = None
    task_type: Ref | None = None
    task_template: Ref | None = None
    service_settings: ServiceSettings | None = None
    sales_settings: SalesSettings | None = None
    notes: list[NewNote] | None = None

    @field_serializer("due_time", "start_time")
    def _time(self, value: datetime | None) -> str | None:
        return oracle_time(value) if value is not None else None


class NamedValue(OracleModel):
    id: int | None = None
    lookup_name: str | None = None


class StatusWithTypeValue(OracleModel):
    status: NamedValue | None = None
    status_type: NamedValue | None = None


class Link(OracleModel):
    rel: str
    href: str
    media_type: str | None = None


class Reference(OracleModel):
    """A reference as Oracle returns it on read: an id, or only links (``…/accounts/2``)."""

    id: int | None = None
    links: list[Link] = Field(default_factory=list)

    @property
    def ref_id(self) -> int | None:
        if self.id is not None:
            return self.id
        for link in self.links:
            tail = link.href.rstrip("/").rsplit("/", 1)[-1]
            if tail.isdigit():
                return int(tail)
        return None


class Task(OracleModel):
    """A task as Oracle returns it (only what the bot reads; the rest is ignored)."""

    id: int
    lookup_name: str | None = None
    name: str | None = None
    created_time: datetime | None = None
    updated_time: datetime | None = None
    due_time: datetime | None = None
    start_time: datetime | None = None
    percent_complete: int | None = None
    priority: NamedValue | None = None
    status_with_type: StatusWithTypeValue | None = None
    assigned_to_account: Reference | None = None
    links: list[Link] = Field(default_factory=list)

    @property
    def status_name(self) -> str:
        status = self.status_with_type.status if self.status_with_type else None
        return (status.lookup_name if status else None) or "Unknown"

    @property
    def is_complete(self) -> bool:
        """Whether the task's status is of the "Completed" type (Oracle's status types are
        Not Complete / Completed; the statuses themselves are the site's own)."""
        kind = self.status_with_type.status_type if self.status_with_type else None
        return bool(kind and (kind.lookup_name or "").casefold() == "completed")

    @property
    def title(self) -> str:
        return self.name or self.lookup_name or f"Task {self.id}"


class QueryTable(OracleModel):
    """One result table of ``GET /queryResults``; cells are strings, read by position."""

    table_name: str | None = None
    count: int = 0
    column_names: list[str] = Field(default_factory=list)
    rows: list[list[str | None]] = Field(default_factory=list)
