"""Block Kit for the Home features. Pure: data in, views and messages out; every piece of
user- or Oracle-provided text escaped (``slack_text.escape``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.slack_text import escape
from bot.domain.tasks import Task
from bot.oracle.catalog import NamedID
from bot.slack import render
from bot.slack.render import MAX_NAME, slack_date

MAX_BLOCKS = 100  # Slack: a Home tab view holds at most 100 blocks
PER_PAGE = 40  # two blocks a task, leaving room for the rest of the Home tab
CREATED_SHOWN = 10


@dataclass(frozen=True)
class Row:
    """One task as the Home tab, a digest or a link preview shows it (read from one ROQL row)."""

    id: int
    name: str
    status: str
    status_type: str | None = None
    due: datetime | None = None
    contact: str | None = None
    assignee: str | None = None

    @property
    def complete(self) -> bool:
        return (self.status_type or "").casefold() == "completed"

    def task(self) -> Task:
        return Task.model_validate(
            {
                "id": self.id,
                "name": self.name,
                "statusWithType": {
                    "status": {"lookupName": self.status},
                    "statusType": {"lookupName": self.status_type},
                },
            }
        )


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def _button(action_id: str, text: str, value: str = "", style: str | None = None) -> dict:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
    }
    if value:
        button["value"] = value
    if style:
        button["style"] = style
    return button


def task_line(row: Row, link: str, now: datetime) -> str:
    """``*#12 Call back* · In Progress · due … · :red_circle: overdue · Mary Major``."""
    parts = [f"*<{escape(link)}|#{row.id}> {escape(row.name, MAX_NAME)}*", escape(row.status)]
    if row.due is not None:
        due = f"due {slack_date(row.due)}"
        if row.due < now and not row.complete:
            due = f":red_circle: *overdue*, {due}"
        parts.append(due)
    if row.assignee:
        parts.append(f"assigned to {escape(row.assignee, 200)}")
    if row.contact:
        parts.append(f"contact {escape(row.contact, 200)}")
    return "  ·  ".join(parts)


def _task_blocks(
    row: Row, link: str, requester: str, statuses: list[NamedID] | None, now: datetime, key: str
) -> list[dict[str, Any]]:
    actions = render.task_actions(row.task(), link, requester, statuses)
    actions["block_id"] = f"{key}_{row.id}"  # block ids are unique within a view
    return [_section(task_line(row, link, now)), actions]


def by_due(rows: list[Row]) -> list[Row]:
    """Nearest due first; tasks without a due date last (then by id)."""
    return sorted(rows, key=lambda r: (r.due is None, r.due.timestamp() if r.due else 0, r.id))


def home_view(
    *,
    user_id: str,
    rows: list[Row] | None,
    created: list[tuple[int, str, str | None]],
    link: Any,
    now: datetime,
    statuses: list[NamedID] | None = None,
    offset: int = 0,
    problem: str | None = None,
    banner: str | None = None,
) -> dict[str, Any]:
    """The Home tab: New task, the user's open tasks (nearest due first, overdue marked, a
    page of ``PER_PAGE`` with "show more"), and the tasks they created from Slack."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "My tasks"}},
        {
            "type": "actions",
            "block_id": "home_top",
            "elements": [
                _button("home_new_task", "New task", style="primary"),
                _button("home_refresh", "Refresh"),
            ],
        },
    ]
    if banner:
        blocks.append(_section(banner))
    if problem is not None:
        blocks.append(_section(f":warning: {escape(problem, 1500)}"))
    elif rows is not None:
        ordered = by_due([r for r in rows if not r.complete])
        overdue = sum(1 for r in ordered if r.due is not None and r.due < now)
        title = f"*Open tasks assigned to you: {len(ordered)}*"
        if overdue:
            title += f"  ·  :red_circle: {overdue} overdue"
        blocks.append(_section(title))
        if not ordered:
            blocks.append(_context("Nothing open. New tasks assigned to you appear here."))
        page = ordered[offset : offset + PER_PAGE]
        for row in page:
            blocks += _task_blocks(row, link(row.id), user_id, statuses, now, "home_task")
        paging = []
        if offset > 0:
            paging.append(_button("home_page", "Back to the nearest due", "0"))
        if offset + PER_PAGE < len(ordered):
            rest = len(ordered) - offset - PER_PAGE
            paging.append(_button("home_page", f"Show more ({rest})", str(offset + PER_PAGE)))
        if paging:
            blocks.append({"type": "actions", "block_id": "home_paging", "elements": paging})
    blocks.append({"type": "divider"})
    blocks.append(_section("*Created by me from Slack*"))
    if created:
        lines = []
        for task_id, name, status in created[:CREATED_SHOWN]:
            shown = escape(status) if status else "_deleted in B2C Service_"
            lines.append(
                f"• <{escape(link(task_id))}|#{task_id}> {escape(name, MAX_NAME)}  ·  {shown}"
            )
        blocks.append(_section("\n".join(lines)))
    else:
        blocks.append(_context("Tasks you create with /task, the form or an emoji appear here."))
    return {"type": "home", "callback_id": "home", "blocks": blocks[:MAX_BLOCKS]}


def assigned_message(
    row: Row,
    link: str,
    *,
    by: str | None,
    where: str,
    statuses: list[NamedID] | None,
    now: datetime,
) -> dict[str, Any]:
    """The direct message to a task's new assignee, with the task's buttons."""
    who = f"<@{by}> assigned you" if by else "You were assigned"
    head = f":bust_in_silhouette: {who} a task {where}:"
    blocks = [_section(head), *_task_blocks(row, link, by or "", statuses, now, "assigned")]
    return {
        "text": f"Task #{row.id} assigned to you: {escape(row.name, MAX_NAME)}",
        "blocks": blocks,
    }


def digest_message(
    due_today: list[Row], overdue: list[Row], link: Any, now: datetime
) -> dict[str, Any]:
    """The morning digest: overdue first, then due today, each a line with its link."""
    blocks: list[dict[str, Any]] = [
        _section(
            f":sunrise: *Good morning.* {len(overdue)} overdue, {len(due_today)} due today "
            "in B2C Service."
        )
    ]
    for title, rows in (("Overdue", overdue), ("Due today", due_today)):
        if not rows:
            continue
        lines = [f"*{title}*"]
        for row in by_due(rows)[:40]:
            lines.append("• " + task_line(row, link(row.id), now))
        if len(rows) > 40:
            lines.append(f"…and {len(rows) - 40} more: see the bot's Home tab.")
        blocks.append(_section("\n".join(lines)))
    blocks.append(_context("`/task remind off` stops these messages; the Home tab lists all."))
    return {
        "text": f"{len(overdue)} overdue and {len(due_today)} due today in B2C Service",
        "blocks": blocks,
    }


def unfurl_card(
    row: Row, link: str, statuses: list[NamedID] | None, now: datetime
) -> dict[str, Any]:
    """A task link's preview: name, status, assignee, due date and the buttons."""
    return {"blocks": _task_blocks(row, link, "", statuses, now, "unfurl")}


def brief_card(row: Row, link: str) -> dict[str, Any]:
    """A task link's preview in a channel shared with another organization: its id and
    status only (its name, contact and assignee are not for people outside)."""
    text = f"<{escape(link)}|*Task #{row.id}*>  ·  {escape(row.status)}"
    return {"blocks": [_section(text)]}


def text_answer(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text, "blocks": [_section(text)]}


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def row_from_cells(cells: list[str | None]) -> Row:
    """A ``Row`` from the cells of ``bot.oracle.roql.ROW_COLUMNS``, in that order."""
    cells = list(cells) + [None] * 8
    return Row(
        id=int(cells[0] or 0),
        name=cells[1] or "",
        status=cells[2] or "Unknown",
        status_type=cells[3],
        due=_moment(cells[4]),
        contact=cells[5],
        assignee=cells[6],
    )


def assignee_id(cells: list[str | None]) -> int | None:
    """The assignee's staff account id in a ``ROW_COLUMNS`` row."""
    value = cells[7] if len(cells) > 7 else None
    return int(value) if value and str(value).isdigit() else None
