"""What a task's thread last showed, and what changed since: pure, table-tested.

A *shown* state is the fields the task message and its thread show, read from one ROQL row
(``SYNC_COLUMNS`` in ``bot.oracle.roql``): names, not ids, so that a line can say "Assigned to: Jane
Agent" without another call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.slack_text import escape
from bot.domain.tasks import Task
from bot.slack.render import slack_date

# (key, label) in the order a change line lists them; the row's cells come in this order after
# ``id`` and ``updatedTime`` (see bot.oracle.roql.SYNC_COLUMNS)
FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("status", "Status"),
    ("assignee", "Assigned to"),
    ("due", "Due"),
    ("start", "Start"),
    ("percent", "Complete"),
    ("priority", "Priority"),
)
MAX_VALUE = 200  # characters of a value in a change line


def shown_from_row(row: list[str | None]) -> dict[str, str | None]:
    """The shown state from a row ``id, updatedTime, <FIELDS...>, status type`` (empty cells
    are None). The status type is kept but never reported (it follows the status)."""
    cells = list(row[2:]) + [None] * (len(FIELDS) + 2)
    shown = {key: (cells[i] or None) for i, (key, _label) in enumerate(FIELDS)}
    shown["status_type"] = cells[len(FIELDS)] or None
    shown["assignee_id"] = cells[len(FIELDS) + 1] or None  # kept, never reported
    return shown


# the cells after those: what channel subscriptions filter on and their cards show
EXTRA_KEYS = ("type", "template", "org_id", "org", "contact_id", "contact")


def card_from_row(row: list[str | None]) -> dict[str, str | None]:
    """A task as a subscription's card shows it and its filters read it: the shown state and
    the cells after it (``EXTRA_KEYS``), and its version."""
    cells = list(row[2 + len(FIELDS) + 2 :]) + [None] * len(EXTRA_KEYS)
    return {
        **shown_from_row(row),
        **{key: (cells[i] or None) for i, key in enumerate(EXTRA_KEYS)},
        "version": version(row[1]) if len(row) > 1 else None,
    }


def version(updated: object) -> str | None:
    """A task's ``updatedTime`` in one spelling, whatever Oracle's (``…00.000Z``) or pydantic's
    (``…00Z``): the version a thread last showed, compared with the next row's."""
    if not updated:
        return None
    try:
        return datetime.fromisoformat(str(updated)).isoformat()  # (Oracle's Z: since 3.11)
    except ValueError:
        return str(updated)


def shown_from_answer(task: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """What a just-created task's thread shows, from Oracle's answer to the POST (``task``, as
    journaled) and the body sent: no read after the create. Oracle answers references as links
    only (the seed's example), so the assignee's name is not known: its id is (the answer's
    link, else the body's), and the first row the poll reads names it without a line."""
    status = (task.get("statusWithType") or {}).get("status") or {}
    status_type = (task.get("statusWithType") or {}).get("statusType") or {}
    priority = task.get("priority") or {}
    percent = task.get("percentComplete")
    shown: dict[str, Any] = {
        "name": task.get("name") or None,
        "status": status.get("lookupName") or None,
        "due": task.get("dueTime") or None,
        "start": task.get("startTime") or None,
        "percent": str(percent) if percent is not None else None,
        "priority": priority.get("lookupName") or None,
        "status_type": status_type.get("lookupName") or None,
    }
    assignee = _reference_id(task.get("assignedToAccount")) or _reference_id(
        body.get("assignedToAccount")
    )
    shown["assignee"] = None
    if assignee is not None:
        shown["unknown"] = ["assignee"]  # by id only: its name comes with the first row read
    shown["assignee_id"] = str(assignee) if assignee is not None else None
    shown["version"] = version(task.get("updatedTime"))
    return shown


def _reference_id(reference: object) -> int | None:
    """The id of a reference as sent (``{"id": 2}``) or answered (links to ``…/accounts/2``)."""
    if not isinstance(reference, dict):
        return None
    if isinstance(reference.get("id"), int):
        return reference["id"]
    for link in reference.get("links") or []:
        tail = str(link.get("href", "")).rstrip("/").rsplit("/", 1)[-1]
        if tail.isdigit():
            return int(tail)
    return None


def newly_assigned(old: dict[str, Any], new: dict[str, Any]) -> int | None:
    """The staff account a task was just assigned to (its thread's last view and now), or
    None: not reassigned, or unassigned. A view kept before the assignee's id was (no
    ``assignee_id``) counts as reassigned only when the assignee's name changed."""
    now = new.get("assignee_id")
    if not now or not str(now).isdigit():
        return None
    before = old.get("assignee_id")
    if before is None and "assignee_id" not in old:
        return int(now) if old.get("assignee") != new.get("assignee") else None
    return int(now) if str(before) != str(now) else None


def task_from_shown(task_id: int, shown: dict[str, Any]) -> Task:
    """The task as the thread shows it, for redrawing its task message without reading it
    from Oracle again."""
    return Task.model_validate(
        {
            "id": task_id,
            "name": shown.get("name"),
            "statusWithType": {
                "status": {"lookupName": shown.get("status")},
                "statusType": {"lookupName": shown.get("status_type")},
            },
        }
    )


def _value(key: str, value: str | None) -> str:
    if value is None:
        return "none"
    if key in ("due", "start"):
        try:
            return slack_date(datetime.fromisoformat(value))  # (Oracle's Z: read since 3.11)
        except ValueError:
            return escape(value, MAX_VALUE)
    if key == "percent":
        return f"{value}%"
    return escape(value, MAX_VALUE)


def _same(key: str, old: Any, new: Any) -> bool:
    if key in ("due", "start") and old and new:  # one moment, however Oracle spells it
        return version(old) == version(new)
    return (old or None) == (new or None)


SHARED_KEYS = frozenset({"status"})  # what a channel shared with another organization is told


def differences(
    old: dict[str, Any], new: dict[str, Any], keys: frozenset[str] | None = None
) -> list[str]:
    """``Label: old → new`` for each field that changed (Slack text, escaped). A field the
    thread never knew (listed in ``old["unknown"]``: the assignee's name after a create) is
    learnt without a line; for the assignee, a different id is still a change. ``keys``:
    only those fields (a Slack Connect channel's)."""
    unknown = set(old.get("unknown") or ())
    lines = []
    for key, label in FIELDS:
        if keys is not None and key not in keys:
            continue
        before, after = old.get(key), new.get(key)
        if key in unknown:
            moved = key == "assignee" and str(old.get("assignee_id") or "") != str(
                new.get("assignee_id") or ""
            )
            if not moved:
                continue
        elif _same(key, before, after):
            continue
        if key == "assignee" and after:
            lines.append(f"{label}: {_value(key, after)}")
        else:
            lines.append(f"{label}: {_value(key, before)} → {_value(key, after)}")
    return lines


def change_line(lines: list[str]) -> str:
    """One line for the thread: every change, then where it was made."""
    return " · ".join([*lines, "changed in B2C Service"])
