"""The task form (a Slack modal): building it, and reading what the user submitted. Pure.

Every input block's ``block_id`` is the field's name (as in the grammar) and its ``action_id`` is
``value``, so errors map onto fields by name, for Slack's ``response_action: errors`` and for
Oracle refusals shown in the form.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.domain import grammar, when
from bot.domain.drafts import AccountLogin, IdOrName, SlackUser, TaskDraft
from bot.domain.requests import TaskRequest
from bot.domain.slack_text import bold, escape, to_plain
from bot.oracle.catalog import NamedID
from bot.oracle.lookups import Choice
from bot.oracle.site import DEFAULT_NAME_MAX

CALLBACK = "task_form"
NOTE_CALLBACK = "task_note_form"
MAX_NAME = DEFAULT_NAME_MAX  # until the site says otherwise
MAX_METADATA = 3000
NAMED_KINDS = ("priority", "status", "type", "template")


@dataclass
class FormValues:
    """What the form shows: typed values and picked options, all optional but the name."""

    name: str = ""
    contact: Choice | None = None
    org: Choice | None = None
    assign_user: str | None = None
    assign_login: str = ""
    due: int | None = None  # epoch seconds (Slack's datetimepicker)
    start: int | None = None
    named: dict[str, str] = field(default_factory=dict)  # kind -> id or name
    incident: str = ""
    answer: str = ""
    opportunity: str = ""
    note: str = ""
    whole_thread: bool = False  # the message shortcut in a thread: the thread as the note


@dataclass(frozen=True)
class FormContext:
    """Where the result goes, carried in the view's ``private_metadata``."""

    channel_id: str
    channel_name: str = ""
    response_url: str = ""
    thread_ts: str | None = None  # a message shortcut: answer in this thread
    message_ts: str | None = None  # the message the shortcut was used on
    command: str = "/task"
    text: str = ""
    in_thread: bool = False  # the message is in a thread: the form offers the whole thread

    @classmethod
    def of(cls, request: TaskRequest) -> FormContext:
        """The context of a form reopened for a journaled request ("Edit and retry")."""
        return cls(
            channel_id=request.channel_id,
            channel_name=request.channel_name,
            response_url=request.response_url,
            thread_ts=request.thread_ts,
            command=request.command,
            text=request.text,
        )

    def request(self, body: dict[str, Any]) -> TaskRequest:
        """The task request of a submitted form: its context, and who submitted it."""
        user = body.get("user") or {}
        return TaskRequest(
            user_id=user.get("id", ""),
            user_name=user.get("username") or user.get("name", ""),
            team_id=(body.get("team") or {}).get("id", ""),
            channel_id=self.channel_id,
            channel_name=self.channel_name,
            response_url=self.response_url,
            command=self.command,
            text=self.text,
            thread_ts=self.thread_ts,
            source_ts=self.message_ts,
        )

    def encode(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v}
        encoded = json.dumps(data, separators=(",", ":"))
        if len(encoded) > MAX_METADATA:
            data["text"] = ""
            encoded = json.dumps(data, separators=(",", ":"))
        return encoded

    @classmethod
    def decode(cls, metadata: str) -> FormContext:
        try:
            data = json.loads(metadata or "{}")
        except ValueError:
            data = {}
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**{"channel_id": "", **known})


# ----------------------------------------------------------------------------- building
def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _input(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = True,
    hint: str | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": {"action_id": "value", **element},
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


def _text_input(
    block_id: str,
    label: str,
    value: str,
    *,
    optional: bool = True,
    multiline: bool = False,
    max_length: int = 3000,
    placeholder: str = "",
    hint: str | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "multiline": multiline,
        "max_length": max_length,
    }
    if value:
        element["initial_value"] = value[:max_length]
    if placeholder:
        element["placeholder"] = _plain(placeholder)
    return _input(block_id, label, element, optional=optional, hint=hint)


def _external(block_id: str, label: str, choice: Choice | None, placeholder: str) -> dict:
    element: dict[str, Any] = {
        "type": "external_select",
        "min_query_length": 2,
        "placeholder": _plain(placeholder),
    }
    if choice is not None:
        element["initial_option"] = choice.option()
    return _input(block_id, label, element)


def _named_select(kind: str, label: str, options: list[NamedID], current: str | None) -> dict:
    if not options:  # the site would not list them: take a name or an id as text
        return _text_input(kind, label, current or "", max_length=80, placeholder="A name or an ID")
    element: dict[str, Any] = {
        "type": "static_select",
        "placeholder": _plain(f"Choose a {label.lower()}"),
        "options": [Choice(str(o.id), o.name).option() for o in options[:100]],
    }
    match = next(
        (
            o
            for o in options
            if current and (str(o.id) == current or o.name.lower() == current.lower())
        ),
        None,
    )
    if match is not None:
        element["initial_option"] = Choice(str(match.id), match.name).option()
    return _input(kind, label, element)


def _datetime(block_id: str, label: str, epoch: int | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "datetimepicker"}
    if epoch is not None:
        element["initial_date_time"] = epoch
    return _input(block_id, label, element)


def _warning(text: str) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f":warning: {escape(text, 1500)}"}],
    }


def form_view(
    values: FormValues,
    context: FormContext,
    *,
    catalog: dict[str, list[NamedID]] | None = None,
    errors: dict[str, str] | None = None,
    banner: str | None = None,
    name_max: int = MAX_NAME,
) -> dict[str, Any]:
    """The task form. ``errors`` are shown under their fields; ``banner`` at the top;
    ``name_max`` is the site's limit on a task name."""
    named = catalog or {}
    blocks: list[dict[str, Any]] = []
    if banner:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f":x: *{escape(banner, 1500)}*"}}
        )
    if catalog is None:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": "Loading priorities and statuses from B2C Service…"}
                ],
            }
        )
    fields = [
        _text_input(
            "name",
            "Task name",
            values.name,
            optional=False,
            max_length=min(name_max, 3000),
            placeholder="Return customer call",
        ),
        _external("contact", "Contact", values.contact, "Search by name or e-mail"),
        _external("org", "Organization", values.org, "Search by name"),
        _input(
            "assign",
            "Assign to",
            {
                "type": "users_select",
                "placeholder": _plain("A Slack user (matched by e-mail)"),
                **({"initial_user": values.assign_user} if values.assign_user else {}),
            },
        ),
        _text_input(
            "assign_login", "…or staff login or account ID", values.assign_login, max_length=80
        ),
        _datetime("due", "Due", values.due),
        _datetime("start", "Start", values.start),
    ]
    labels = {
        "priority": "Priority",
        "status": "Status",
        "type": "Task type",
        "template": "Template",
    }
    for kind in NAMED_KINDS:
        if catalog is not None:
            fields.append(
                _named_select(kind, labels[kind], named.get(kind, []), values.named.get(kind))
            )
        elif values.named.get(kind):
            fields.append(_text_input(kind, labels[kind], values.named[kind], max_length=80))
    fields += [
        _text_input(
            "incident",
            "Related incident",
            values.incident,
            max_length=40,
            placeholder="ID or reference number, e.g. 261128-000123",
        ),
        _text_input(
            "opportunity",
            "Related opportunity",
            values.opportunity,
            max_length=20,
            placeholder="Opportunity ID",
        ),
        _text_input(
            "answer", "Related answer", values.answer, max_length=20, placeholder="Answer ID"
        ),
        _text_input("note", "Note", values.note, multiline=True, max_length=3000),
    ]
    if context.in_thread:
        fields.append(_whole_thread(values.whole_thread))
    problems = errors or {}
    for block in fields:
        blocks.append(block)
        if block["block_id"] in problems:
            blocks.append(_warning(problems[block["block_id"]]))
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": _plain("New B2C task"),
        "submit": _plain("Create task"),
        "close": _plain("Cancel"),
        "private_metadata": context.encode(),
        "blocks": blocks,
    }


WHOLE_THREAD = "whole_thread"


def _whole_thread(checked: bool) -> dict[str, Any]:
    option = {
        "text": _plain("Add the whole thread to the note"),
        "description": _plain("Every message: who, when and what, files by name and link"),
        "value": "yes",
    }
    element: dict[str, Any] = {"type": "checkboxes", "action_id": "value", "options": [option]}
    if checked:
        element["initial_options"] = [option]
    return {
        "type": "input",
        "block_id": WHOLE_THREAD,
        "optional": True,
        "label": _plain("Thread"),
        "element": element,
    }


def progress_view(name: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "task_progress",
        "title": _plain("New B2C task"),
        "close": _plain("Close"),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": ":hourglass_flowing_sand: Creating "
                    f"{bold(escape(name, 250))} in Oracle B2C Service…",
                },
            }
        ],
    }


def done_view(task_id: int, title: str, status: str, link: str) -> dict[str, Any]:
    text = (
        f":white_check_mark: *Task #{task_id} created:* {escape(title, 250)}\n"
        f"Status: *{escape(status)}*\n<{escape(link)}|Open in B2C Service>"
    )
    return {
        "type": "modal",
        "callback_id": "task_done",
        "title": _plain("Task created"),
        "close": _plain("Done"),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


def note_view(task_id: int, metadata: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": NOTE_CALLBACK,
        "title": _plain(f"Note on #{task_id}"),
        "submit": _plain("Add note"),
        "close": _plain("Cancel"),
        "private_metadata": metadata,
        "blocks": [_text_input("note", "Note", "", optional=False, multiline=True)],
    }


# ----------------------------------------------------------------------------- from a command
def unnamed_contact(contact_id: str) -> str:
    """A contact's label until Oracle has said its name."""
    return f"Contact {contact_id}"


def values_from_reading(reading: grammar.Reading, *, tz: str | None, now: datetime) -> FormValues:
    """Pre-fill the form with everything a (possibly mistaken) command did say."""
    return values_from_draft(reading.draft(), tz=tz, now=now, raw=reading.raw)


def values_from_draft(
    draft: TaskDraft, *, tz: str | None, now: datetime, raw: dict[str, str] | None = None
) -> FormValues:
    """The form's values for a draft (and, from a command, the raw text of bad fields)."""
    raw = raw or {}
    values = FormValues(name=to_plain(draft.name)[:MAX_NAME], note=to_plain(draft.note or ""))
    if draft.contact is not None:
        values.contact = Choice(str(draft.contact), unnamed_contact(str(draft.contact)))
    if draft.organization is not None:
        org = draft.organization
        values.org = Choice(str(org.id) if org.id is not None else f"name:{org.name}", str(org))
    if isinstance(draft.assignee, SlackUser):
        values.assign_user = draft.assignee.user_id
    elif isinstance(draft.assignee, AccountLogin):
        values.assign_login = draft.assignee.login
    elif isinstance(draft.assignee, IdOrName):
        values.assign_login = str(draft.assignee)
    for attribute, default in (("due", when.DUE_DEFAULT_TIME), ("start", when.START_DEFAULT_TIME)):
        phrase = getattr(draft, attribute)
        try:
            moment = when.parse_when(phrase, tz, now, default) if phrase else None
        except when.DateError:  # unreadable or unclear (04/03): the picker is left empty
            moment = None
        setattr(values, attribute, int(moment.timestamp()) if moment else None)
    for kind, attribute in (
        ("priority", "priority"),
        ("status", "status"),
        ("type", "task_type"),
        ("template", "template"),
    ):
        if getattr(draft, attribute) is not None:
            values.named[kind] = str(getattr(draft, attribute))
    values.incident = str(draft.incident or "")
    values.answer = str(draft.answer or "")
    values.opportunity = str(draft.opportunity or "")
    for name in ("incident", "answer", "opportunity"):  # keep what was typed, even if wrong
        if not getattr(values, name) and raw.get(name):
            setattr(values, name, to_plain(raw[name]))
    if not values.assign_login and raw.get("assign") and values.assign_user is None:
        values.assign_login = to_plain(raw["assign"])
    return values


# ----------------------------------------------------------------------------- submission
def _state(state: dict[str, Any], block_id: str) -> dict[str, Any]:
    return (state.get(block_id) or {}).get("value") or {}


def read_submission(state: dict[str, Any]) -> FormValues:
    """The form's values from ``view.state.values``."""

    def text(block_id: str) -> str:
        return (_state(state, block_id).get("value") or "").strip()

    def option(block_id: str) -> Choice | None:
        selected = _state(state, block_id).get("selected_option")
        if not selected:
            return None
        return Choice(selected["value"], selected.get("text", {}).get("text", ""))

    values = FormValues(
        name=text("name"),
        contact=option("contact"),
        org=option("org"),
        assign_user=_state(state, "assign").get("selected_user"),
        assign_login=text("assign_login"),
        due=_state(state, "due").get("selected_date_time"),
        start=_state(state, "start").get("selected_date_time"),
        incident=text("incident"),
        answer=text("answer"),
        opportunity=text("opportunity"),
        note=(_state(state, "note").get("value") or "").strip(),
        whole_thread=bool(_state(state, WHOLE_THREAD).get("selected_options")),
    )
    for kind in NAMED_KINDS:
        picked = option(kind)
        values.named[kind] = picked.value if picked else text(kind)
    values.named = {k: v for k, v in values.named.items() if v}
    return values


def _iso(epoch: int | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch is not None else None


def draft_from_form(
    values: FormValues, *, name_max: int = MAX_NAME
) -> tuple[TaskDraft | None, dict[str, str]]:
    """A draft from submitted values, or the errors to show on their fields."""
    errors: dict[str, str] = {}
    parts: dict[str, Any] = {}

    def read(name: str, raw: str, attribute: str) -> None:
        if not raw:
            return
        try:
            parts[attribute] = grammar.spec(name).read(escape(raw))
        except ValueError as error:
            errors[name] = f"This {error}."

    if not values.name.strip():
        errors["name"] = "Give the task a name."
    elif len(values.name.strip()) > name_max:
        errors["name"] = (
            f"B2C Service takes at most {name_max:,} characters here "
            f"(this is {len(values.name.strip()):,}); put the rest in the note."
        )
    if values.contact is not None:
        read("contact", values.contact.value, "contact")
    if values.org is not None:
        value = values.org.value
        parts["organization"] = (
            IdOrName(name=value[5:]) if value.startswith("name:") else IdOrName(id=int(value))
        )
    if values.assign_user and values.assign_login:
        errors["assign_login"] = "Pick a Slack user or give a login, not both."
    elif values.assign_user:
        parts["assignee"] = SlackUser(values.assign_user)
    elif values.assign_login:
        try:
            parts["assignee"] = grammar.spec("assign").read(escape(values.assign_login))
        except ValueError as error:
            errors["assign_login"] = f"This {error}."
    for name, attribute in (
        ("priority", "priority"),
        ("status", "status"),
        ("type", "task_type"),
        ("template", "template"),
    ):
        read(name, values.named.get(name, ""), attribute)
    read("incident", values.incident, "incident")
    read("answer", values.answer, "answer")
    read("opportunity", values.opportunity, "opportunity")
    if values.due is not None and values.start is not None and values.start > values.due:
        errors["start"] = "The start is after the due date."
    if errors:
        return None, errors
    draft = TaskDraft(
        name=escape(values.name.strip()),
        due=_iso(values.due),
        start=_iso(values.start),
        note=escape(values.note) or None,
        **parts,
    )
    return draft, {}


# Oracle's words → the field they concern (for showing a refusal on the right field)
_ATTRIBUTION = (
    ("contact", "contact"),
    ("organization", "org"),
    ("account", "assign"),
    ("priority", "priority"),
    ("tasktype", "type"),
    ("task type", "type"),
    ("tasktemplate", "template"),
    ("template", "template"),
    ("statustype", "status"),
    ("status", "status"),
    ("incident", "incident"),
    ("answer", "answer"),
    ("opportunity", "opportunity"),
    ("duetime", "due"),
    ("starttime", "start"),
    ("task.name", "name"),
    ("name is", "name"),
)


def field_for(reason: str, *, assigned_by_login: bool = False) -> str | None:
    """The form field an Oracle refusal is about, when its words say so."""
    lowered = reason.lower()
    for word, block in _ATTRIBUTION:
        if word in lowered:
            if block == "assign" and assigned_by_login:
                return "assign_login"
            return block
    return None
