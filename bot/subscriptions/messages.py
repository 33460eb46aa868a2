"""What subscriptions say in Slack: a task's card, the lines in its thread, the list of a
channel's subscriptions. Pure: Block Kit from what the poller read, every value escaped."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.slack_text import escape
from bot.oracle.catalog import NamedID
from bot.slack.render import MAX_NAME, Message, slack_date, task_actions
from bot.subscriptions.filters import describe
from bot.subscriptions.store import Subscription
from bot.sync.changes import task_from_shown


def _section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _when(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return slack_date(datetime.fromisoformat(value))  # (Oracle's Z: read since 3.11)
    except ValueError:
        return escape(value, 60)


def card(
    task_id: int, shown: dict[str, Any], link: str, statuses: list[NamedID] | None = None
) -> Message:
    """A task a channel's subscription matched: its name and link, status, priority,
    assignee, due date, contact and organization, and the task buttons."""
    name = escape(shown.get("name") or f"Task {task_id}", MAX_NAME)
    head = f":bell: <{escape(link)}|*#{task_id}* {name}>  ·  *{escape(shown.get('status') or '?')}*"
    facts = []
    if shown.get("priority"):
        facts.append(f"Priority {escape(shown['priority'], 80)}")
    facts.append(
        f"Assigned to {escape(shown['assignee'], 120)}" if shown.get("assignee") else "Unassigned"
    )
    due = _when(shown.get("due"))
    if due:
        facts.append(f"due {due}")
    if shown.get("contact"):
        facts.append(f"Contact {escape(shown['contact'], 120)}")
    if shown.get("org"):
        facts.append(f"Organization {escape(shown['org'], 120)}")
    task = task_from_shown(task_id, shown)
    return {
        "text": f"Task #{task_id}: {escape(shown.get('name') or '', MAX_NAME)}",
        "blocks": [
            _section(head + "\n" + "  ·  ".join(facts)),
            task_actions(task, link, "", statuses),
        ],
    }


def gathered(rows: list[tuple[int, dict[str, Any]]], link: Any) -> Message:
    """Tasks past the handful a channel gets as cards in a minute: one message naming them,
    as many as fit in one section."""
    entries = [
        f"• <{escape(link(task_id))}|*#{task_id}* "
        f"{escape(shown.get('name') or f'Task {task_id}', 120)}>"
        f"  ·  {escape(shown.get('status') or '?', 60)}"
        for task_id, shown in rows
    ]
    head = f":bell: {len(rows)} more tasks matched this channel's subscriptions:"
    more = "(`/task subscriptions` to narrow them)"
    return _listing(head, entries, [task_id for task_id, _shown in rows], more)


def gathered_lines(said: list[tuple[Any, str]], link: Any) -> Message:
    """A round's changes past the handful a channel gets in their threads: one message
    naming each task (``said``: each card, with its line), as many as fit in one section."""
    entries = [
        f"• <{escape(link(card.task_id))}|*#{card.task_id}*> "
        f"{escape(card.shown.get('name') or '', 80)}: "
        # (a long note: escaped text is never cut, so it is not shown)
        + (text if len(text) <= 600 else "changed, with a long note (see the task)")
        for card, text in said
    ]
    head = f":arrows_counterclockwise: {len(said)} more changes to tasks this channel follows:"
    return _listing(head, entries, [card.task_id for card, _text in said])


def _listing(head: str, entries: list[str], task_ids: list[int], more: str = "") -> Message:
    """``head`` and as many ``entries`` as fit in one section (then how many more), its
    text naming the tasks' numbers where blocks are not shown (a notification)."""
    listed: list[str] = []
    size = len(head)
    for entry in entries:
        if size + len(entry) > 2800:
            listed.append(f"… and {len(entries) - len(listed)} more" + (f" {more}" if more else ""))
            break
        listed.append(entry)
        size += len(entry) + 1
    named = ", ".join(f"#{task_id}" for task_id in task_ids[:50])
    text = f"{head} {named}" + (" …" if len(task_ids) > 50 else "")
    return {"text": text, "blocks": [_section(head + "\n" + "\n".join(listed))]}


def line(text: str, broadcast: bool = False) -> Message:
    """A line in a card's thread (``broadcast``: also shown in the channel)."""
    message: Message = {"text": text, "blocks": [_section(text)]}
    if broadcast:
        message["reply_broadcast"] = True
    return message


def overdue(task_id: int, shown: dict[str, Any], link: str) -> str:
    due = _when(shown.get("due")) or "its due time"
    name = escape(shown.get("name") or f"Task {task_id}", 120)
    return f":alarm_clock: <{escape(link)}|*#{task_id}* {name}> is overdue since {due}."


def due_soon(task_id: int, shown: dict[str, Any], link: str) -> str:
    due = _when(shown.get("due")) or "soon"
    name = escape(shown.get("name") or f"Task {task_id}", 120)
    return f":hourglass_flowing_sand: <{escape(link)}|*#{task_id}* {name}> is due {due}."


def subscribed(user: str, described: str) -> Message:
    """Said in the channel: who subscribed it to what (``described``: ``filters.describe``)."""
    text = (
        f":bell: <@{user}> subscribed this channel to B2C Service tasks with "
        f"{described}. Each matching task gets one card here, its changes "
        "in the card's thread (`/task subscriptions` lists them, `/task unsubscribe` stops one)."
    )
    return {"text": text, "blocks": [_section(text)]}


def unsubscribed(channel: str, user: str, said: str, left: int) -> dict[str, Any]:
    """Said in the channel when a subscription stops (``said``: what it followed)."""
    rest = f" It still follows {left} other filter{'s' if left != 1 else ''}." if left else ""
    text = f":no_bell: <@{user}> stopped this channel following B2C Service tasks with {said}."
    text += rest
    return {"channel": channel, "text": text, "blocks": [_section(text)]}


def listing(subscriptions: list[Subscription], personal: bool) -> dict[str, Any]:
    """``/task subscriptions``: the channel's (or the person's) subscriptions, numbered."""
    where = "You follow" if personal else "This channel follows"
    if not subscriptions:
        text = (
            f"{where} no B2C Service tasks. `/task subscribe @priority High` (any of @assign, "
            "@priority, @status, @type, @template, @org, @contact) starts."
        )
        return {"response_type": "ephemeral", "text": text}
    lines = [f"{where} B2C Service tasks with:"]
    for number, s in enumerate(subscriptions, 1):
        made = datetime.fromtimestamp(s.made_at).astimezone()
        lines.append(
            f"{number}. {describe(s.conditions, s.due_soon, s.notes)}  ·  "
            f"by <@{s.made_by}>, {slack_date(made)}"
        )
    lines.append("`/task unsubscribe 2` stops the second, `/task unsubscribe all` every one.")
    return {"response_type": "ephemeral", "text": "\n".join(lines)}


def home_blocks(subscriptions: list[Subscription]) -> list[dict[str, Any]]:
    """The Home tab's part: the person's own feed (made in the bot's direct messages)."""
    if not subscriptions:
        return []
    lines = [
        f"{number}. {describe(s.conditions, s.due_soon, s.notes)}"
        for number, s in enumerate(subscriptions[:20], 1)
    ]
    lines.append(
        "Cards come to your direct messages with the bot; `/task unsubscribe 2` there stops "
        "the second."
    )
    return [
        {"type": "divider"},
        {"type": "header", "text": {"type": "plain_text", "text": "Your subscriptions"}},
        _section("\n".join(lines)),
    ]
