"""Turning a TaskDraft into the body of ``POST /tasks``, and into the lines shown in Slack.

Pure: the user's zone, the clock, looked-up names and the resolved assignee are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.domain import when
from bot.domain.drafts import IdOrName, TaskDraft
from bot.domain.slack_text import escape, to_plain
from bot.domain.tasks import (
    NewNote,
    Ref,
    SalesSettings,
    ServiceSettings,
    StatusWithType,
    TaskCreate,
)
from bot.slack import render

REACTION_PLACE = "@reaction"  # the channel name of an emoji task's request (not known)
WORKFLOW_PLACE = "@workflow"  # the channel name of a Workflow Builder step's request


@dataclass(frozen=True)
class Origin:
    """Who asked, and where: recorded on the task since Oracle only sees the bot's account."""

    requester_name: str
    channel_name: str

    @property
    def place(self) -> str:
        name = self.channel_name
        if name == "directmessage":
            return "a direct message"
        if name == REACTION_PLACE:
            return "a message (an emoji reaction)"
        if name == WORKFLOW_PLACE:
            return "a Workflow Builder step"
        if name == "privategroup" or not name:
            return "a private channel"
        if name.startswith("mpdm-"):
            return "a group message"
        return "#" + name

    def note(self) -> str:
        return f"Created from Slack by {self.requester_name} in {self.place}"


def _ref(value: IdOrName | None) -> Ref | None:
    """Oracle's reference: by id when known (a name beside it is only for people)."""
    if value is None:
        return None
    return Ref(id=value.id) if value.id is not None else Ref(lookup_name=value.name)


def _id_ref(value: int | None) -> Ref | None:
    return Ref(id=value) if value is not None else None


def task_name(draft: TaskDraft, names: Mapping[str, str] | None = None) -> str:
    return " ".join(to_plain(draft.name, names).split())


def compose_task(
    draft: TaskDraft,
    *,
    origin: Origin,
    tz: str | None,
    now: datetime,
    names: Mapping[str, str] | None = None,
    assignee: Ref | None = None,
    assignee_label: str | None = None,
) -> tuple[TaskCreate, list[tuple[str, str]]]:
    """The Oracle request body and the (label, Slack-safe value) lines describing it."""
    details: list[tuple[str, str]] = []
    due = start = None
    try:
        if draft.due is not None:
            due = when.parse_when(draft.due, tz, now, when.DUE_DEFAULT_TIME)
    except when.DateError as error:
        raise ValueError(f"@due {error}") from None
    try:
        if draft.start is not None:
            start = when.parse_when(draft.start, tz, now, when.START_DEFAULT_TIME)
    except when.DateError as error:
        raise ValueError(f"@start {error}") from None
    notes = [NewNote(text=origin.note())]
    if draft.note:
        notes.append(NewNote(text=to_plain(draft.note, names)))

    body = TaskCreate(
        name=task_name(draft, names),
        contact=_id_ref(draft.contact),
        organization=_ref(draft.organization),
        assigned_to_account=assignee,
        due_time=due,
        start_time=start,
        percent_complete=draft.percent,
        priority=_ref(draft.priority),
        status_with_type=StatusWithType(status=_ref(draft.status)) if draft.status else None,
        task_type=_ref(draft.task_type),
        task_template=_ref(draft.template),
        service_settings=(
            ServiceSettings(incident=_ref(draft.incident), answer=_id_ref(draft.answer))
            if draft.incident or draft.answer
            else None
        ),
        sales_settings=(
            SalesSettings(opportunity=_id_ref(draft.opportunity)) if draft.opportunity else None
        ),
        notes=notes,
    )

    def add(label: str, value: object | None) -> None:
        if value is not None:
            details.append((label, escape(str(value), 300)))

    add("Contact", draft.contact)
    add("Organization", draft.organization)
    add("Assigned to", assignee_label if assignee is not None else None)
    if due is not None:
        details.append(("Due", render.slack_date(due)))
    if start is not None:
        details.append(("Start", render.slack_date(start)))
    add("Priority", draft.priority)
    # (the status: the thread shows Oracle's, beside; shown once)
    add("Type", draft.task_type)
    add("Template", draft.template)
    add("Incident", draft.incident)
    add("Answer", draft.answer)
    add("Opportunity", draft.opportunity)
    add("Percent complete", f"{draft.percent}%" if draft.percent is not None else None)
    if draft.note:
        details.append(("Note", escape(to_plain(draft.note, names), 500)))
    return body, details
