"""Commands the bot could read two ways, settled or asked about rather than guessed.

- A date like ``04/03``: the requester's Slack language says which number is the day (en-US
  writes the month first, en-GB the day); when it cannot be known, the requester is asked, with
  one button per reading.
- Two words that start like a subcommand but do not fit it (``show abc``): the subcommand's
  usage, beside one button that creates exactly that task.

Each button carries the command text to create (``CREATE_AS_TASK``), rewritten where the
question was about a date, and creates it as the command would, whatever its first word.
"""

from __future__ import annotations

import asyncio
import calendar
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from bot.domain import when
from bot.domain.drafts import TaskDraft
from bot.domain.grammar import rewrite_value

CREATE_AS_TASK = "create_as_task"  # the buttons' action_id
LOCALE_WAIT = 1.0  # seconds the ack may wait for the requester's language (Slack allows 3)
MAX_VALUE = 2000  # Slack's limit on a button's value
DATE_FIELDS = ("due", "start")


@dataclass(frozen=True)
class Reading:
    """One way to read a command: the button's label and the text it creates."""

    label: str
    text: str


def unclear_dates(draft: TaskDraft) -> dict[str, str]:
    """The date fields whose day/month order is unclear, each with the unclear part."""
    found = {}
    for field in DATE_FIELDS:
        phrase = getattr(draft, field)
        part = when.undecided(phrase) if phrase else None
        if part is not None:
            found[field] = part
    return found


async def day_first_of(locale: Callable[[], Awaitable[str | None]]) -> bool | None:
    """Whether the requester writes the day first, by their Slack language; None when Slack
    does not say in time (the ack cannot wait longer)."""
    try:
        return when.day_first(await asyncio.wait_for(locale(), LOCALE_WAIT))
    except TimeoutError:
        return None


def settled(draft: TaskDraft, first_is_day: bool) -> TaskDraft:
    """The draft with its unclear dates written out in the given order (``4 mar``)."""
    return replace(
        draft,
        **{
            field: when.settle(getattr(draft, field), first_is_day)
            for field in unclear_dates(draft)
        },
    )


def date_readings(text: str, draft: TaskDraft) -> list[Reading]:
    """Both readings of a command with an unclear date (day first, then month first)."""
    unclear = unclear_dates(draft)
    readings = []
    for first_is_day in (True, False):
        rewritten, labels = text, []
        for field, part in unclear.items():
            written = when.settle(part, first_is_day)
            rewritten = rewrite_value(rewritten, field, part, written)
            labels.append(f"{field.capitalize()} {_spelled(written)}")
        readings.append(Reading(", ".join(labels), rewritten))
    return readings


def _spelled(written: str) -> str:
    """``4 mar 2027`` → ``4 March 2027``."""
    months = {name.lower(): calendar.month_name[i] for i, name in enumerate(calendar.month_abbr)}
    return " ".join(months.get(word, word) for word in written.split())


def button_value(text: str, command: str) -> str | None:
    """A button's value carrying a command's text (and the command's name, as the workspace
    called it), or None when it would be too long for Slack."""
    value = json.dumps({"text": text, "c": command}, ensure_ascii=False, separators=(",", ":"))
    return value if len(value) <= MAX_VALUE else None


def command_of(value: str) -> tuple[str, str] | None:
    """The command text and name a button carries, or None when its value is not ours."""
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    text, command = data.get("text"), data.get("c")
    if not isinstance(text, str) or not text.strip():
        return None
    return text, command if isinstance(command, str) and command.startswith("/") else "/task"
