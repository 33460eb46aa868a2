"""The slash-command grammar: ``/task <name> [@field value]...`` → a TaskDraft, or a clear error.

Pure: no I/O, no clock. The name is the text before the first field; a field is ``@word`` at the
start of a word and followed by a space; its value runs to the next field. A value (or the name)
may be wrapped in double quotes to hold text that would otherwise look like a field.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from bot.domain import slack_text, when
from bot.domain.drafts import AccountLogin, Assignee, IdOrName, SlackUser, TaskDraft

_FIELD = re.compile(r"@([A-Za-z][A-Za-z_-]*)(?=\s|$)")
_QUOTES = {'"': '"', "“": "”", "”": "”"}
_DIGITS = re.compile(r"^\d{1,18}$")
_REFERENCE_NUMBER = re.compile(r"^\d{6}-\d{6}$")
_LOGIN = re.compile(r"^[\w.@+-]{1,80}$")
HELP_WORDS = {"help", "?", "-h", "--help"}


class GrammarError(ValueError):
    """A mistake in what the user typed; ``message`` says what and how to fix it."""

    def __init__(self, message: str, field: str | None = None, *, form: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.form = form  # whether the task form helps (not for a mistyped show or mine)


# every kind of reading a command can have (``Parsed.kind``); "unclear": two words that start
# like a subcommand but do not fit it (``show abc``): a task, or a mistyped subcommand?
KINDS = (
    "help",
    "form",
    "create",
    "show",
    "mine",
    "sync",
    "remind",
    "defaults",
    "subscribe",
    "subscriptions",
    "unsubscribe",
    "unclear",
)
# the subcommands, each with its exact form (/task help); anything else is a task
SUBCOMMANDS = {
    "help": "`/task help` shows how to use the bot",
    "mine": "`/task mine` lists your open tasks",
    "show": "`/task show 12` shows task 12",
    "sync": "`/task sync on` or `off`: whether replies in this channel's task threads become "
    "notes in B2C Service (`/task sync` alone: the setting)",
    "remind": "`/task remind on` or `off`: a direct message at 09:00 with your tasks due today "
    "and overdue (`/task remind` alone: the setting)",
    "defaults": "`/task defaults @org Acme @type Call` sets this channel's defaults; "
    "`/task defaults` alone shows them, `/task defaults clear` removes them",
    "subscribe": "`/task subscribe @priority High @org Acme`: this channel follows the B2C "
    "Service tasks that match, wherever they were created (`@priority High,Critical`: any of "
    "them, `@priority -Low`: not it; in the bot's direct messages, your own feed)",
    "subscriptions": "`/task subscriptions` lists this channel's subscriptions",
    "unsubscribe": "`/task unsubscribe 2` stops the second subscription, "
    "`/task unsubscribe all` every one",
}


@dataclass(frozen=True)
class Parsed:
    """The outcome of reading a command: help, the (future) form, or a draft to create."""

    kind: str  # one of KINDS
    draft: TaskDraft | None = None  # defaults: the fields to set (its name is empty)
    task_id: int | None = None
    option: str | None = None  # sync, remind: "on", "off", or None (show the setting);
    # defaults: "set", "clear" or None (show them); unclear: the subcommand's word;
    # subscribe: its filter as typed; unsubscribe: a number or "all"


def _positive_id(label: str, value: str) -> int:
    """An id (bound to its field's label with ``partial`` in FIELDS)."""
    if _DIGITS.match(value) and int(value) > 0:
        return int(value)
    raise ValueError(f"needs {label} ID, a whole number like 83, not “{value}”")


def _id_or_name(value: str) -> IdOrName:
    if _DIGITS.match(value):
        if int(value) == 0:
            raise ValueError("needs an ID above 0 or a name")
        return IdOrName(id=int(value))
    return IdOrName(name=slack_text.to_plain(value))


def _incident(value: str) -> IdOrName:
    value = value.removeprefix("#")  # as B2C Service shows it (#261128-000123), and show #12
    if _DIGITS.match(value) and int(value) > 0:
        return IdOrName(id=int(value))
    if _REFERENCE_NUMBER.match(value):
        return IdOrName(name=value)
    raise ValueError(
        f"needs an incident ID (like 4021) or reference number (like 261128-000123), not “{value}”"
    )


def _assignee(value: str) -> Assignee:
    user_id = slack_text.user_mention_id(value)
    if user_id:
        return SlackUser(user_id)
    if _DIGITS.match(value):  # a number is an account ID (never a login), and IDs start at 1
        if int(value) > 0:
            return IdOrName(id=int(value))
        raise ValueError(f"needs a staff account ID above 0, not “{value}”")
    plain = slack_text.to_plain(value)
    if _LOGIN.match(plain):
        return AccountLogin(plain)
    raise ValueError(
        f"needs a Slack user (@jane), a staff account ID or a staff login, not “{plain}”"
    )


def _when(value: str) -> str:
    plain = " ".join(slack_text.to_plain(value).split())
    try:
        when.check(plain)
    except when.DateError as error:
        raise ValueError(str(error)) from None
    return plain


def _percent(value: str) -> int:
    number = value.strip().removesuffix("%").strip()
    if _DIGITS.match(number) and 0 <= int(number) <= 100:
        return int(number)
    raise ValueError(f"needs a whole number from 0 to 100, not “{value}”")


def _text(value: str) -> str:
    return value


@dataclass(frozen=True)
class FieldSpec:
    name: str
    attribute: str
    read: Callable[[str], Any]
    example: str
    help: str


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("contact", "contact", partial(_positive_id, "a contact"), "83", "contact ID"),
    FieldSpec("org", "organization", _id_or_name, "Acme", "organization ID or name"),
    FieldSpec(
        "assign",
        "assignee",
        _assignee,
        "@jane",
        "Slack user, me, staff account ID, login or e-mail",
    ),
    FieldSpec("due", "due", _when, "tomorrow 5pm", "due date, in your time zone"),
    FieldSpec("start", "start", _when, "monday 9am", "start date, in your time zone"),
    FieldSpec("priority", "priority", _id_or_name, "High", "priority name or ID"),
    FieldSpec("status", "status", _id_or_name, "In Progress", "status name or ID"),
    FieldSpec("type", "task_type", _id_or_name, "Call", "task type name or ID"),
    FieldSpec("template", "template", _id_or_name, "Onboarding", "task template name or ID"),
    FieldSpec("incident", "incident", _incident, "261128-000123", "incident ID or reference"),
    FieldSpec("answer", "answer", partial(_positive_id, "an answer"), "1234", "answer ID"),
    FieldSpec(
        "opportunity",
        "opportunity",
        partial(_positive_id, "an opportunity"),
        "77",
        "opportunity ID",
    ),
    FieldSpec("percent", "percent", _percent, "50", "percent complete, 0 to 100"),
    FieldSpec("note", "note", _text, '"Customer prefers mornings"', "a note on the task"),
)
_BY_NAME = {spec.name: spec for spec in FIELDS}
ALIASES = {
    "assignee": "assign",
    "assigned": "assign",
    "organization": "org",
    "organisation": "org",
    "due-date": "due",
    "duedate": "due",
    "starts": "start",
    "tasktype": "type",
    "task-type": "type",
    "percentcomplete": "percent",
    "complete": "percent",
    "notes": "note",
}


def _closing_quote(text: str, start: int) -> int:
    """Index of the quote closing the one at ``start``; -1 if there is none."""
    closer = _QUOTES[text[start]]
    candidates = {closer, '"'} if closer != '"' else {'"'}
    for index in range(start + 1, len(text)):
        if text[index] in candidates:
            return index
    return -1


def _split(text: str) -> list[tuple[str | None, str]]:
    """Split into (field word or None for the name, raw value) pairs, respecting quotes."""
    parts: list[tuple[str | None, str]] = []
    current: str | None = None
    value_start = 0
    index = 0
    at_word_start = True
    while index < len(text):
        char = text[index]
        if at_word_start and char in _QUOTES:
            close = _closing_quote(text, index)
            if close < 0:
                what = f"@{current}" if current else "the name"
                raise GrammarError(f"A quote in {what} is never closed.", current)
            index = close + 1
            at_word_start = False
            continue
        if at_word_start and char == "@":
            match = _FIELD.match(text, index)
            if match:
                parts.append((current, text[value_start:index]))
                current = match.group(1)
                index = value_start = match.end()
                continue
        at_word_start = char.isspace()
        index += 1
    parts.append((current, text[value_start:]))
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if value and value[0] in _QUOTES and _closing_quote(value, 0) == len(value) - 1:
        return value[1:-1].strip()
    return value


def spec(name: str) -> FieldSpec:
    """The field called ``name`` (its canonical name, as in FIELDS)."""
    return _BY_NAME[name]


def _spec_or_none(word: str) -> FieldSpec | None:
    key = word.lower()
    return _BY_NAME.get(ALIASES.get(key, key))


def _spec_for(word: str) -> FieldSpec:
    spec = _spec_or_none(word)
    if spec is not None:
        return spec
    key = word.lower()
    known = [spec.name for spec in FIELDS] + list(ALIASES)
    guess = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = ""
    if guess:
        hint = f" Did you mean @{ALIASES.get(guess[0], guess[0])}?"
    raise GrammarError(f"There is no field @{word}.{hint}", word)


@dataclass
class Reading:
    """Everything that could be read from a command, and every mistake found in it."""

    name: str
    values: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)
    errors: list[GrammarError] = field(default_factory=list)

    def draft(self) -> TaskDraft:
        return replace(TaskDraft(name=self.name), **self.values)


def read(text: str, requester: str | None = None) -> Reading:
    """Read a task command, going on past mistakes (for pre-filling the form with what parsed).
    ``requester``: the Slack user typing it (``@assign me``)."""
    try:
        parts = _split(text.strip())
    except GrammarError as error:
        return Reading(name=text.strip(), errors=[error])
    reading = Reading(name=_unquote(parts[0][1]))
    for position, (word, raw) in enumerate(parts[1:], start=1):
        assert word is not None
        try:
            spec = _spec_for(word)
        except GrammarError as error:
            reading.errors.append(error)
            continue
        if spec.attribute in reading.values or spec.name in reading.raw:
            reading.errors.append(
                GrammarError(f"@{spec.name} is given twice: give it once.", spec.name)
            )
            continue
        value = _unquote(raw)
        reading.raw[spec.name] = value
        if not value:
            following = parts[position + 1][0] if position + 1 < len(parts) else None
            if spec.name == "assign" and following and _spec_or_none(following) is None:
                reading.errors.append(
                    GrammarError(
                        f"@assign needs a Slack user, but Slack did not recognise “@{following}” "
                        "as one: pick the person from Slack's @ list, or give a staff login or ID.",
                        "assign",
                    )
                )
                continue
            reading.errors.append(
                GrammarError(
                    f"@{spec.name} has no value: write it after the field, e.g. "
                    f"@{spec.name} {spec.example}.",
                    spec.name,
                )
            )
            continue
        if spec.name == "assign" and value.casefold() == "me":
            if requester:
                reading.values[spec.attribute] = SlackUser(requester)
            else:
                reading.errors.append(
                    GrammarError("@assign me needs to know who is asking.", spec.name)
                )
            continue
        try:
            reading.values[spec.attribute] = spec.read(value)
        except ValueError as error:
            reading.errors.append(GrammarError(f"@{spec.name} {error}.", spec.name))
    if not slack_text.to_plain(reading.name).strip():
        first = f" (it starts with @{parts[1][0]})" if len(parts) > 1 else ""
        reading.errors.append(
            GrammarError(
                f"The task needs a name before the first field{first}, "
                "e.g. Return customer call @contact 83.",
                "name",
            )
        )
    return reading


def _defaults(rest: str, requester: str | None) -> Parsed:
    """``/task defaults [clear | @field value...]``: a channel's defaults."""
    rest = rest.strip()
    if not rest:
        return Parsed("defaults")
    if rest.lower() == "clear":
        return Parsed("defaults", option="clear")
    reading = read("defaults " + rest, requester)
    if reading.errors:
        error = reading.errors[0]
        raise GrammarError(error.message, error.field, form=False)
    if "note" in reading.raw:
        raise GrammarError(
            "@note cannot be a channel default: a note belongs to one task.", "note", form=False
        )
    return Parsed("defaults", replace(reading.draft(), name=""), option="set")


_SHOW = re.compile(r"^show\s+#?(\d{1,18})$", re.IGNORECASE)


def subcommand(text: str, requester: str | None = None) -> Parsed | None:
    """The subcommand ``text`` is, when it fits one's form exactly; else None (a task)."""
    stripped = text.strip()
    if not stripped:
        return Parsed("form")
    words = stripped.lower().split()
    if stripped.lower() in HELP_WORDS:
        return Parsed("help")
    if words == ["mine"]:
        return Parsed("mine")
    show = _SHOW.match(stripped)
    if show:
        return Parsed("show", task_id=int(show.group(1)))
    if words[0] in ("sync", "remind"):
        if len(words) == 1:
            return Parsed(words[0])
        if len(words) == 2 and words[1] in ("on", "off"):
            return Parsed(words[0], option=words[1])
    if words[0] == "defaults":
        rest = stripped.split(None, 1)[1] if len(words) > 1 else ""
        if not rest or rest.strip().lower() == "clear" or _FIELD.match(rest.strip()):
            return _defaults(rest, requester)
    if words[0] == "subscribe":  # its filter is read by the feature (bot.subscriptions)
        rest = stripped.split(None, 1)[1].strip() if len(words) > 1 else ""
        if not rest or _FIELD.match(rest) or words[1] in ("due-soon", "notes"):
            return Parsed("subscribe", option=rest)
    if words == ["subscriptions"]:
        return Parsed("subscriptions")
    if words[0] == "unsubscribe" and len(words) == 2:
        if words[1] == "all" or (words[1].isdigit() and 0 < int(words[1]) < 1000):
            return Parsed("unsubscribe", option=words[1])
    return None


def parse(text: str, requester: str | None = None) -> Parsed:
    """Read the text of a ``/task`` command. Raises GrammarError for its first mistake.

    A subcommand is taken only when the text fits its form exactly; anything else is a task.
    Two words or fewer (before any field) that start with a subcommand's word but do not fit
    it (``show abc``, ``sync please``) are "unclear": the bot shows the subcommand's usage
    beside a button that creates the task."""
    exact = subcommand(text, requester)
    if exact is not None:
        return exact
    stripped = text.strip()
    reading = read(stripped, requester)
    first = stripped.split(None, 1)[0].lower()
    word = "help" if first in HELP_WORDS else first
    name_words = slack_text.to_plain(reading.name).split()
    if word in SUBCOMMANDS and len(name_words) <= 2 and not reading.errors:
        return Parsed("unclear", reading.draft(), option=word)
    if reading.errors:
        raise reading.errors[0]
    return Parsed("create", reading.draft())


def as_task(text: str, requester: str | None = None) -> Parsed:
    """Read ``text`` as a task whatever its first word (the button under an unclear command).
    Raises GrammarError for its first mistake."""
    reading = read(text.strip(), requester)
    if reading.errors:
        raise reading.errors[0]
    return Parsed("create", reading.draft())


def rewrite_value(text: str, field_name: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced by ``new`` in the value of its field ``field_name`` only
    (``@due 04/03`` → ``@due 4 mar``: the name or a note may hold the same characters)."""
    parts = _split(text)
    out = [parts[0][1]]
    for word, raw in parts[1:]:
        assert word is not None
        spec = _spec_or_none(word)
        if spec is not None and spec.name == field_name:
            pattern = re.compile(r"(?<!\S)" + re.escape(old) + r"(?!\S)", re.IGNORECASE)
            raw = pattern.sub(new, raw, count=1)
        out.append(f"@{word}{raw}")
    return "".join(out)
