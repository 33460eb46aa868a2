"""What a user asked for, before anything is sent to Oracle: the task draft and its parts.

A draft comes from the slash-command grammar (and later from the modal). Text fields keep
Slack's formatting (mentions, entities) until the task is composed, because turning a mention
into a name may need a lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class IdOrName:
    """A reference given by numeric id or by name (Oracle's ``id`` / ``lookupName``). With both,
    the id is what Oracle is sent and the name is the site's own for it (a name the bot has
    resolved against the site: ``high`` becomes 3, "High")."""

    id: int | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.id is None and self.name is None:
            raise ValueError("an id or a name")

    def __str__(self) -> str:
        return self.name if self.name is not None else str(self.id)


@dataclass(frozen=True)
class SlackUser:
    """An assignee given as a Slack mention: mapped to a staff account by e-mail."""

    user_id: str


@dataclass(frozen=True)
class AccountLogin:
    """An assignee given as a staff account login."""

    login: str


Assignee = SlackUser | AccountLogin | IdOrName


@dataclass(frozen=True)
class TaskDraft:
    name: str
    contact: int | None = None
    contact_email: str | None = None  # a contact by e-mail (the Workflow Builder step)
    organization: IdOrName | None = None
    assignee: Assignee | None = None
    due: str | None = None
    start: str | None = None
    priority: IdOrName | None = None
    status: IdOrName | None = None
    task_type: IdOrName | None = None
    template: IdOrName | None = None
    incident: IdOrName | None = None
    answer: int | None = None
    opportunity: int | None = None
    percent: int | None = None
    note: str | None = None


def draft_to_dict(draft: TaskDraft) -> dict[str, Any]:
    """A JSON-safe form of a draft (for the request journal)."""
    data: dict[str, Any] = {}
    for name, value in draft.__dict__.items():
        if isinstance(value, IdOrName):
            value = {"kind": "ref", "id": value.id, "name": value.name}
        elif isinstance(value, SlackUser):
            value = {"kind": "slack_user", "user_id": value.user_id}
        elif isinstance(value, AccountLogin):
            value = {"kind": "login", "login": value.login}
        if value is not None:
            data[name] = value
    return data


def draft_from_dict(data: dict[str, Any]) -> TaskDraft:
    values: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, dict):
            kind = value.get("kind")
            if kind == "slack_user":
                value = SlackUser(value["user_id"])
            elif kind == "login":
                value = AccountLogin(value["login"])
            else:
                value = IdOrName(id=value.get("id"), name=value.get("name"))
        values[name] = value
    return TaskDraft(**values)
