"""What a subscription follows: ``/task subscribe @priority High,Critical @org -Acme due-soon 1h``
read into a ``Filter`` (pure, table-tested), and whether a task's row matches one.

A filter is a list of conditions, all of which a task must meet; each names a field of
``/task`` that identifies something, one or several values (``High,Critical``: any of them),
and may be negated (``-Low``: none of them). Values are read as ``/task`` reads them; they are
checked against the site (``bot.subscriptions.commands``) and kept as what they resolved to:
ids for the assignee, the organization and the contact, the site's own names for the named
values (the poller's rows carry those names)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.domain import slack_text
from bot.domain.drafts import SlackUser
from bot.domain.grammar import ALIASES, FIELDS, GrammarError

# the fields a subscription filters on, in the order they are described
FILTER_FIELDS = ("assign", "priority", "status", "type", "template", "org", "contact")
NAMED = ("priority", "status", "type", "template")  # matched by the site's name
LABELS = {
    "assign": "Assigned to",
    "priority": "Priority",
    "status": "Status",
    "type": "Type",
    "template": "Template",
    "org": "Organization",
    "contact": "Contact",
}
MAX_VALUES = 20  # values of one field
USAGE = (
    "Say which tasks this channel follows, e.g. `/task subscribe @priority High @org Acme`: "
    "any of " + ", ".join(f"@{name}" for name in FILTER_FIELDS) + "; several values with "
    "commas (`@priority High,Critical`), none of them with a minus (`@priority -Low`); "
    "`due-soon 1h` for a heads-up an hour before a task is due; `notes` first "
    "(`/task subscribe notes @priority High`) for the notes added in B2C Service too."
)
_SPEC = {spec.name: spec for spec in FIELDS}
_PART = re.compile(r"@([A-Za-z][A-Za-z_-]*)(?=\s|$)")
# before the fields only: a value may end with the word (@template Release notes)
_NOTES = re.compile(r"^notes(?=\s|$)", re.IGNORECASE)
_DUE_SOON = re.compile(r"(?:^|\s)due-soon(?:\s+(\S+))?(?=\s|$)", re.IGNORECASE)
_DURATION = re.compile(r"(\d{1,3})\s*(m|min|mins|h|hr|hrs|hours?|d|days?)$", re.IGNORECASE)
_UNIT = {"m": 60, "h": 3600, "d": 86400}
MAX_DUE_SOON = 7 * 86400


@dataclass(frozen=True)
class Condition:
    """One field's condition: ``values`` as ``/task`` reads them (before the site's check) or
    as they resolved (``{"id": …, "name": …}`` dicts, after it)."""

    field: str
    values: tuple[Any, ...]
    negated: bool = False


@dataclass(frozen=True)
class Filter:
    conditions: tuple[Condition, ...]
    due_soon: int | None = None  # seconds before the due time to tell (None: no heads-up)
    notes: bool = False  # notes added in B2C Service told in the cards' threads too


def parse_filter(text: str, requester: str | None = None) -> Filter:
    """Read what follows ``/task subscribe``. Raises GrammarError (with ``USAGE`` when
    nothing usable was given; its ``form`` means nothing here: no form is opened)."""
    due_soon = None
    found = list(_DUE_SOON.finditer(text))
    if len(found) > 1:
        raise GrammarError("Give due-soon once, e.g. due-soon 1h.")
    if found:
        due_soon = _duration(found[0].group(1) or "")
        text = text[: found[0].start()] + " " + text[found[0].end() :]
    text = text.strip()
    notes = bool(_NOTES.search(text))
    text = _NOTES.sub(" ", text).strip()
    parts = _PART.split(text)
    if parts[0].strip():
        raise GrammarError(
            f"“{slack_text.to_plain(parts[0].strip())[:80]}” is not a filter. {USAGE}"
        )
    conditions: dict[str, Condition] = {}
    for index in range(1, len(parts), 2):
        word, value = parts[index].lower(), " ".join(parts[index + 1].split())
        name = ALIASES.get(word, word)
        if name not in FILTER_FIELDS:
            raise GrammarError(
                f"@{word} cannot filter a subscription: use "
                + ", ".join(f"@{n}" for n in FILTER_FIELDS)
                + "."
            )
        if name in conditions:
            raise GrammarError(
                f"Give @{name} once, with its values separated by commas "
                f"(e.g. @{name} {_SPEC[name].example},…)."
            )
        conditions[name] = _condition(name, value, requester)
    if not conditions:
        raise GrammarError(USAGE)
    ordered = tuple(conditions[name] for name in FILTER_FIELDS if name in conditions)
    return Filter(ordered, due_soon, notes)


def _condition(name: str, value: str, requester: str | None) -> Condition:
    negated = value.startswith("-")
    value = value.removeprefix("-").strip()
    raw = [v.strip() for v in value.split(",")]
    if not value or any(not v for v in raw):
        raise GrammarError(
            f"@{name} needs a value (or several, separated by commas), e.g. "
            f"@{name} {_SPEC[name].example}."
        )
    if len(raw) > MAX_VALUES:
        raise GrammarError(f"@{name} takes at most {MAX_VALUES} values.")
    values: list[Any] = []
    for one in raw:
        if name == "assign" and one.casefold() == "me":
            if not requester:
                raise GrammarError("@assign me needs to know who is asking.")
            values.append(SlackUser(requester))
            continue
        try:
            values.append(_SPEC[name].read(one))
        except ValueError as error:
            raise GrammarError(f"@{name} {error}.") from None
    return Condition(name, tuple(values), negated)


def _duration(text: str) -> int:
    found = _DURATION.fullmatch(text.strip())
    seconds = int(found.group(1)) * _UNIT[found.group(2)[0].lower()] if found else 0
    if not 0 < seconds <= MAX_DUE_SOON:
        raise GrammarError(
            "due-soon needs how long before the due time, like 30m, 2h or 1d (at most 7 days)"
            + (f", not “{text}”." if text else ".")
        )
    return seconds


# ------------------------------------------------------------------ matching
def subject(shown: dict[str, Any]) -> dict[str, str | None]:
    """What a task's row says for matching: the ids of its assignee, organization and
    contact, the names of its named values (as the site spells them)."""
    return {
        "assign": _text(shown.get("assignee_id")),
        "priority": _text(shown.get("priority")),
        "status": _text(shown.get("status")),
        "type": _text(shown.get("type")),
        "template": _text(shown.get("template")),
        "org": _text(shown.get("org_id")),
        "contact": _text(shown.get("contact_id")),
    }


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def matches(conditions: list[dict[str, Any]], facts: dict[str, str | None]) -> bool:
    """Whether a task (``subject``) meets every resolved condition (``{"field", "negated",
    "values": [{"id", "name"}…]}``): a named value by its name (whatever its capitals), the
    others by id. A task without the field meets a negated condition only."""
    for condition in conditions:
        have = facts.get(condition["field"])
        keys = {_key(condition["field"], value) for value in condition["values"]}
        hit = have is not None and _fold(condition["field"], have) in keys
        if hit == bool(condition.get("negated")):
            return False
    return True


def _key(name: str, value: dict[str, Any]) -> str:
    if name in NAMED:
        return _fold(name, str(value.get("name") or ""))
    return str(value.get("id"))


def _fold(name: str, value: str) -> str:
    return value.casefold() if name in NAMED else value


def describe(
    conditions: list[dict[str, Any]], due_soon: int | None = None, notes: bool = False
) -> str:
    """The conditions in words (Slack text, escaped): "Priority: High or Critical · Organization:
    not Acme"."""
    said = []
    for condition in conditions:
        names = [
            slack_text.escape(str(v.get("name") or v.get("id")), 80) for v in condition["values"]
        ]
        joined = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
        if condition.get("negated"):
            joined = f"not {joined}"
        said.append(f"{LABELS[condition['field']]}: {joined}")
    if due_soon:
        said.append(f"heads-up {_span(due_soon)} before the due time")
    if notes:
        said.append("with their notes")
    return " · ".join(said)


def _span(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"
