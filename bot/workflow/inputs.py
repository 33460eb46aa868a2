"""The step's inputs, as Workflow Builder sends them, read into a task draft exactly as
``/task`` reads the same fields (the grammar's own readers), or refused with one line a
workflow builder understands. Pure: no Slack, no Oracle.

What arrives (Slack doc, ``function_executed``): ``inputs`` holds each input the workflow set,
by name; an input left empty is absent. Text inputs are plain text (inferred: Workflow Builder
fills them from form answers and variables, not from Slack's escaped wire form), so they are
escaped here and read back by the same code as a typed command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.domain import when
from bot.domain.drafts import SlackUser, TaskDraft
from bot.domain.grammar import spec
from bot.domain.slack_text import escape

CALLBACK_ID = "create_b2c_task"
# what the manifest declares (manifest.yaml), name -> its title there
INPUTS = {
    "name": "Task name",
    "contact": "Contact",
    "organization": "Organization",
    "assignee": "Assignee",
    "due": "Due",
    "priority": "Priority",
    "status": "Status",
    "type": "Type",
    "template": "Template",
    "incident": "Incident",
    "note": "Note",
    "channel": "Post in channel",
    "requester": "Requested by",
}
OUTPUTS = ("task_id", "task_url", "status")
_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]+$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_STAMP = re.compile(r"^\d{9,11}(\.\d+)?$")  # Unix seconds: a Slack timestamp
# input -> the /task field that reads it (the same reader, the same messages)
_FIELDS = {
    "organization": "org",
    "priority": "priority",
    "status": "status",
    "type": "type",
    "template": "template",
    "incident": "incident",
}


class InputError(ValueError):
    """What is wrong with the step's inputs, in one line for the workflow's builder."""


@dataclass(frozen=True)
class StepInputs:
    """What the step was asked for: the draft, who ran it (if the workflow says), and where
    to post the task message (None: nowhere)."""

    draft: TaskDraft
    requester: str | None = None
    channel: str | None = None


def _text(inputs: dict[str, Any], name: str) -> str | None:
    value = inputs.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError(f"{INPUTS[name]} ({name}) must be text, not {type(value).__name__}.")
    text = " ".join(str(value).split()) if name != "note" else str(value).strip()
    return text or None


def _slack_id(inputs: dict[str, Any], name: str, pattern: re.Pattern[str], what: str) -> str | None:
    value = _text(inputs, name)
    if value is None:
        return None
    if not pattern.match(value):
        raise InputError(f"{INPUTS[name]} ({name}) must be {what}, not “{value[:80]}”.")
    return value


def _due(value: str) -> str:
    """A date as ``/task`` reads it, or a Slack timestamp (Unix seconds), as an ISO time."""
    if _STAMP.match(value):
        return datetime.fromtimestamp(float(value), UTC).isoformat(timespec="seconds")
    try:
        read = spec("due").read(escape(value))
    except ValueError as error:
        raise InputError(f"Due (due): {error}") from None
    unclear = when.undecided(read)
    if unclear is not None:  # nobody to ask which was meant, as /task asks
        raise InputError(
            f"Due (due): “{unclear}” could be read day first or month first; write the "
            "month's name (5 Dec 2026) or 2026-12-05."
        )
    return read


def read_inputs(inputs: Any) -> StepInputs:
    """The step's inputs as a draft; raises InputError with what is wrong."""
    if not isinstance(inputs, dict):
        raise InputError("The step's inputs did not arrive (Slack sent no inputs object).")
    name = _text(inputs, "name")
    if name is None:
        raise InputError("Task name (name) is required: give the task a name.")
    fields: dict[str, Any] = {"name": escape(name)}
    contact = _text(inputs, "contact")
    if contact is not None:
        if contact.isdigit() and int(contact) > 0 and len(contact) <= 18:
            fields["contact"] = int(contact)
        elif _EMAIL.match(contact):
            fields["contact_email"] = contact
        else:
            raise InputError(
                f"Contact (contact) must be a B2C Service contact ID (like 83) or an e-mail "
                f"address, not “{contact[:80]}”."
            )
    for key, field in _FIELDS.items():
        value = _text(inputs, key)
        if value is None:
            continue
        try:
            fields[spec(field).attribute] = spec(field).read(escape(value))
        except ValueError as error:
            raise InputError(f"{INPUTS[key]} ({key}) {error}") from None
    assignee = _slack_id(inputs, "assignee", _USER_ID, "a Slack user")
    if assignee is not None:
        fields["assignee"] = SlackUser(assignee)
    due = _text(inputs, "due")
    if due is not None:
        fields["due"] = _due(due)
    note = _text(inputs, "note")
    if note is not None:
        fields["note"] = escape(note)
    return StepInputs(
        draft=TaskDraft(**fields),
        requester=_slack_id(inputs, "requester", _USER_ID, "a Slack user"),
        channel=_slack_id(inputs, "channel", _CHANNEL_ID, "a Slack channel"),
    )
