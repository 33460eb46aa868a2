"""Block Kit messages the bot posts. Pure: data in, ``{"text", "blocks"}`` out.

Every piece of user- or Oracle-provided text goes through ``slack_text.escape`` here, so nothing
a user typed can become a live mention, link or markup token.
"""

from __future__ import annotations

import json
from datetime import datetime

from bot.domain import when
from bot.domain.grammar import FIELDS
from bot.domain.slack_text import bold, escape
from bot.domain.tasks import Task
from bot.oracle.catalog import NamedID

Message = dict[str, object]
MAX_SECTION = 3000  # Slack's limit; user text is shortened before it is built in (below)
MAX_NAME = 250  # a task's name as shown
MAX_ECHO = 2000  # what the user typed, echoed back
MAX_NOTE_SHOWN = 1500  # characters of an Oracle note shown in a thread


def _section(text: str) -> dict[str, object]:
    if len(text) > MAX_SECTION:
        text = text[: MAX_SECTION - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, object]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_SECTION]}]}


def _code(text: str) -> str:
    return "```" + escape(text, MAX_ECHO).replace("```", "`\u200b``") + "```"


def slack_date(moment: datetime) -> str:
    """A date Slack shows in each reader's own time zone, with a UTC fallback."""
    epoch = int(moment.timestamp())
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{epoch}^{{date_short_pretty}} at {{time}}|{fallback}>"


def in_words(moment: datetime, tz: str | None) -> str:
    """A moment in the reader's own zone, in words: "Friday 4 December 2026 at 15:00"."""
    zone = when.zone(tz)
    local = moment.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M} (your time, {zone.key})"


def private_confirmation(
    task_id: int,
    title: str,
    due: datetime | None,
    start: datetime | None,
    tz: str | None,
    now: datetime,
) -> Message | None:
    """What only the requester sees once the task exists: its dates in their own zone, in
    words, and a warning for a due date in the past or a start after the due date. None when
    the task has no dates (nothing to confirm beyond the thread)."""
    if due is None and start is None:
        return None
    lines = [f":white_check_mark: Task *#{task_id}* {escape(title, MAX_NAME)} was created."]
    if due is not None:
        lines.append(f"Due {in_words(due, tz)}.")
    if start is not None:
        lines.append(f"Starts {in_words(start, tz)}.")
    if due is not None and due < now:
        lines.append(":warning: The due date is in the past: change it in the task if it is wrong.")
    if due is not None and start is not None and start > due:
        lines.append(":warning: The start is after the due date.")
    text = "\n".join(lines)
    return {"response_type": "ephemeral", "text": text, "blocks": [_section(text)]}


def usage(command: str) -> str:
    lines = [f"*Usage:* `{escape(command)} <name> [@field value]...`", "*Fields:*"]
    for spec in FIELDS:
        lines.append(f"• `@{spec.name} {escape(spec.example)}`  {escape(spec.help)}")
    return "\n".join(lines)


def examples(command: str, reaction: str) -> str:
    cmd = escape(command)
    return "\n".join(
        [
            "*Examples:*",
            f"`{cmd} Return customer call @contact 83`",
            f"`{cmd} Send renewal quote @org Acme @assign @jane @due friday 3pm @priority High`",
            f'`{cmd} "Check @due dates" @incident 261128-000123 @note "Customer prefers mornings"`',
            "Values may be in double quotes. Dates are read in your Slack time zone.",
            f"`{cmd} show 12` shows a task; `{cmd} mine` lists your open tasks.",
            "A task's thread follows it: what changes in B2C Service is told there, and replies "
            f"become notes on the task (`{cmd} sync off` keeps this channel's replies in Slack; "
            f"`{cmd} sync on`, `{cmd} sync`).",
            f"`{cmd} defaults @org Acme @type Call @priority High` gives this channel's tasks "
            f"those values unless you type others (`{cmd} defaults` shows them, "
            f"`{cmd} defaults clear` removes them).",
            f"`{cmd} subscribe @priority High @org Acme`: this channel follows the B2C Service "
            "tasks that match, wherever they were made: a card each, changes in its thread, "
            f"overdue told once (`@priority High,Critical`, `@priority -Low`, `due-soon 1h`; "
            f"`{cmd} subscriptions` lists them, `{cmd} unsubscribe 2` stops one).",
            f"React with :{reaction}: to make a task of a message. The bot's Home tab lists your "
            f"tasks; at 09:00 it tells you what is due (`{cmd} remind off`, `{cmd} remind on`).",
            "A command is one of these only when it fits its form exactly; anything else is a "
            f"task (`{cmd} Show 3 demos to Acme`). Two words that start like one but do not "
            f"fit it (`{cmd} show abc`) get a button that creates the task.",
        ]
    )


def dates_help() -> str:
    """The date forms the bot reads, each with what it means (``when.FORMS``)."""
    lines = ["*Dates* (in your Slack time zone; 17:00 for @due and 09:00 for @start when no time):"]
    for typed, meaning in when.FORMS:
        forms = ", ".join(f"`{escape(form.strip())}`" for form in typed.split(","))
        lines.append(f"• {forms}" + (f": {escape(meaning)}" if meaning else ""))
    return "\n".join(lines)


SHARED_RESTRICTED = (
    ":link: This channel is shared with another organization (Slack Connect): here the bot "
    "shows a task's id, status and link and what you typed, nothing else from B2C Service "
    "(no notes, contacts or assignees), and people from the other organization cannot act on "
    "tasks."
)
SHARED_OPEN = (
    ":link: This channel is shared with another organization (Slack Connect) and your admin "
    "opened it fully: the bot shows everything here, as in any channel. People from the other "
    "organization still cannot act on tasks."
)


def help_message(command: str, reaction: str = "ticket", shared: str | None = None) -> Message:
    """``/task help``; ``shared``: the line that says how the bot behaves in a Slack Connect
    channel (``SHARED_RESTRICTED`` or ``SHARED_OPEN``), none elsewhere."""
    intro = (
        f"`{escape(command)}` creates a task in Oracle B2C Service and posts it here "
        "with its id, status and a link."
    )
    blocks = [
        _section(intro),
        _section(usage(command)),
        _section(examples(command, reaction)),
        _section(dates_help()),
    ]
    if shared:
        blocks.append(_context(shared))
    return {"response_type": "ephemeral", "text": f"How to use {command}", "blocks": blocks}


def mistake_message(command: str, problem: str, text: str) -> Message:
    """The ephemeral answer to a command with a mistake: what is wrong, the usage, the input."""
    return {
        "response_type": "ephemeral",
        "text": f"Your task was not created: {escape(problem)}",
        "blocks": [
            _section(f":warning: *Your task was not created.* {escape(problem)}"),
            _context("What you typed, to fix and send again:"),
            _section(_code(f"{command} {text}")),
            _section(usage(command)),
        ],
    }


def _create_button(label: str, value: str, primary: bool = False) -> dict[str, object]:
    button: dict[str, object] = {
        "type": "button",
        "action_id": "create_as_task",
        "value": value,
        "text": {"type": "plain_text", "text": label[:75]},
    }
    if primary:
        button["style"] = "primary"
    return button


def date_question(
    command: str, text: str, part: str, choices: list[tuple[str, str | None]]
) -> Message:
    """An unclear day/month (``04/03``) the requester's Slack language did not settle: one
    button per reading (label, value; no value: the command is too long for a button)."""
    problem = (
        f"“{part}” could be read day first or month first, and your Slack language did not "
        f"say which you use."
    )
    buttons = [_create_button(label, value) for label, value in choices if value]
    hint = (
        "Pick one to create the task, or write the date with the month's name (`4 mar`)."
        if buttons
        else "Write the date with the month's name (`4 mar`) and send it again."
    )
    blocks = [
        _section(f":calendar: *Which date did you mean?* {escape(problem)}"),
        _context(escape(hint)),
    ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    blocks += [_context("What you typed:"), _section(_code(f"{command} {text}"))]
    return {
        "response_type": "ephemeral",
        "text": f"Which date did you mean? {problem}",
        "blocks": blocks,
    }


def unclear_message(
    command: str, usage_line: str, text: str, name: str, value: str | None
) -> Message:
    """Two words that start like a subcommand but do not fit it: its usage, and a button that
    creates the task (none when the command is too long for a button's value)."""
    cmd = escape(command)
    said = (
        f"`{cmd} {escape(text)}` is not a command the bot knows. "
        f"{usage_line.replace('/task', cmd)}."
    )
    blocks = [_section(f":thinking_face: {said}")]
    if value is not None:
        label = f"Create task “{name}”"
        blocks.append({"type": "actions", "elements": [_create_button(label, value, primary=True)]})
    else:
        blocks.append(_context("To create it as a task, put the name in double quotes."))
    return {"response_type": "ephemeral", "text": said, "blocks": blocks}


def pending_parent(requester: str, name: str) -> Message:
    shown = bold(escape(name, MAX_NAME))
    text = f"<@{requester}> is creating a task in Oracle B2C Service: {shown}"
    return {
        "text": f"Creating task: {escape(name, MAX_NAME)}",
        "blocks": [_section(f":hourglass_flowing_sand: {text}")],
    }


def task_actions(
    task: Task, link: str, requester: str, statuses: list[NamedID] | None = None
) -> dict[str, object]:
    """The buttons that work a task from Slack. Their values carry the task and requester."""
    value = json.dumps({"t": task.id, "r": requester}, separators=(",", ":"))
    elements: list[dict[str, object]] = []
    if not task.is_complete:  # the buttons follow the status (and come back on reopening)
        elements.append(
            {
                "type": "button",
                "action_id": "task_complete",
                "value": value,
                "style": "primary",
                "text": {"type": "plain_text", "text": "Mark complete"},
            }
        )
    if statuses:
        elements.append(
            {
                "type": "static_select",
                "action_id": "task_status",
                "placeholder": {"type": "plain_text", "text": "Change status"},
                "options": [
                    {
                        "text": {"type": "plain_text", "text": s.name[:75]},
                        "value": json.dumps(
                            {"t": task.id, "r": requester, "s": s.id}, separators=(",", ":")
                        ),
                    }
                    for s in statuses[:100]
                ],
            }
        )
    elements += [
        {
            "type": "button",
            "action_id": "task_note",
            "value": value,
            "text": {"type": "plain_text", "text": "Add note"},
        },
        {
            "type": "button",
            "action_id": "open_task",
            "url": link,
            "text": {"type": "plain_text", "text": "Open in B2C Service"},
        },
    ]
    return {"type": "actions", "block_id": "task_actions", "elements": elements}


def _who(requester: str) -> str:
    """Who created a task, as its message says: the requester, or a workflow that named none."""
    return f"<@{requester}>" if requester else "A workflow"


def created_parent(
    requester: str,
    task: Task,
    link: str,
    statuses: list[NamedID] | None = None,
    *,
    shown: dict[str, str | None] | None = None,
) -> Message:
    """The task message: who created which task, its current status, and its buttons; with
    ``shown`` (a synced thread's view of the task), its assignee and due date too."""
    title = escape(task.title, MAX_NAME)
    text = (
        f":white_check_mark: {_who(requester)} created task "
        f"<{escape(link)}|*#{task.id}* {title}>  ·  *{escape(task.status_name)}*"
    )
    assignee = shown.get("assignee") if shown else None
    if assignee:
        text += f"  ·  {escape(assignee, 200)}"
    due_text = shown.get("due") if shown else None
    if due_text:
        try:  # Oracle's "…Z" (read as UTC since Python 3.11)
            text += f"  ·  due {slack_date(datetime.fromisoformat(due_text))}"
        except ValueError:
            pass
    return {
        "text": f"Task #{task.id} created: {title}",
        "blocks": [_section(text), task_actions(task, link, requester, statuses)],
    }


def deleted_parent(requester: str, task_id: int) -> Message:
    """The task message of a task deleted in B2C Service: no link, no buttons."""
    text = (
        f":wastebasket: {_who(requester)} created task *#{task_id}*, since deleted in B2C Service"
    )
    return {"text": f"Task #{task_id} (deleted in B2C Service)", "blocks": [_section(text)]}


def note_added(task_id: int, text: str, link: str) -> str:
    """A note added in B2C Service, as a task's thread tells it (escaped, shortened)."""
    return (
        f":memo: Note added in B2C Service (<{escape(link)}|task #{task_id}>):\n"
        f">{escape(text, MAX_NOTE_SHOWN)}"
    )


def task_event(text: str) -> Message:
    """A line in a task's thread: a change made from Slack, or why it failed."""
    return {"text": text, "blocks": [_section(text)]}


def task_summary(task: Task, link: str) -> Message:
    """A task's current state (``/task show``)."""
    lines = [
        f"*Task #{task.id}:* {escape(task.title, MAX_NAME)}",
        f"Status: *{escape(task.status_name)}*",
    ]
    if task.due_time:
        lines.append(f"Due: {slack_date(task.due_time)}")
    if task.percent_complete is not None:
        lines.append(f"Complete: {task.percent_complete}%")
    lines.append(f"<{escape(link)}|Open in B2C Service>")
    return {
        "response_type": "ephemeral",
        "text": f"Task #{task.id}: {escape(task.title, MAX_NAME)}",
        "blocks": [_section("\n".join(lines))],
    }


def task_list(rows: list[tuple[int, str, str, str]]) -> Message:
    """The caller's open tasks (``/task mine``): (id, name, status, link) each."""
    if not rows:
        text = "You have no open tasks in Oracle B2C Service."
    else:
        lines = [f"*Your open tasks ({len(rows)}):*"]
        lines += [
            f"• <{escape(link)}|#{task_id}> {escape(name, MAX_NAME)}  ·  {escape(status)}"
            for task_id, name, status, link in rows
        ]
        text = "\n".join(lines)
    return {"response_type": "ephemeral", "text": text, "blocks": [_section(text)]}


def failed_parent(requester: str, name: str) -> Message:
    text = (
        f":x: <@{requester}> tried to create a task: {bold(escape(name, MAX_NAME))}. "
        "It was not created; the reason is in the thread."
    )
    return {"text": f"Task not created: {escape(name, MAX_NAME)}", "blocks": [_section(text)]}


def not_created_parent(requester: str, name: str) -> Message:
    """A public "creating…" message whose task Oracle refused: brief; the reason is private."""
    text = (
        f":x: <@{requester}> tried to create a task: {bold(escape(name, MAX_NAME))}. It could not "
        "be created; they were told why."
    )
    return {"text": f"Task not created: {escape(name, MAX_NAME)}", "blocks": [_section(text)]}


def created_reply(
    task: Task, link: str, details: list[tuple[str, str]], actions: dict[str, object] | None = None
) -> Message:
    """The thread reply for a created task. ``details`` values are already Slack-safe;
    ``actions`` replaces the lone link button (when the reply is itself the task message)."""
    blocks: list[dict[str, object]] = [
        _section(
            f"*Task #{task.id} created* in Oracle B2C Service: {bold(escape(task.title, MAX_NAME))}"
        ),
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*ID*\n{task.id}"},
                {"type": "mrkdwn", "text": f"*Status*\n{escape(task.status_name)}"},
            ],
        },
    ]
    fields = [{"type": "mrkdwn", "text": f"*{escape(label)}*\n{value}"} for label, value in details]
    for start in range(0, len(fields), 10):  # Slack: at most 10 fields a section
        blocks.append({"type": "section", "fields": fields[start : start + 10]})
    blocks.append(
        actions
        or {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open in B2C Service"},
                    "url": link,
                    "action_id": "open_task",
                }
            ],
        }
    )
    return {
        "text": f"Task #{task.id} created: {escape(task.title, MAX_NAME)} "
        f"({escape(task.status_name)}) {escape(link)}",
        "blocks": blocks,
    }


def retrying_parent(requester: str, name: str) -> Message:
    text = (
        f":hourglass_flowing_sand: <@{requester}> is creating a task in Oracle B2C Service: "
        f"{bold(escape(name, MAX_NAME))}\n_Oracle is not answering, retrying…_"
    )
    return {
        "text": f"Creating task (retrying): {escape(name, MAX_NAME)}",
        "blocks": [_section(text)],
    }


def _request_button(action_id: str, label: str, request_id: str) -> dict[str, object]:
    return {
        "type": "actions",
        "block_id": "request_actions",
        "elements": [
            {
                "type": "button",
                "action_id": action_id,
                "value": request_id,
                "style": "primary",
                "text": {"type": "plain_text", "text": label},
            }
        ],
    }


def retry_button(request_id: str) -> dict[str, object]:
    return _request_button("request_retry", "Retry", request_id)


def edit_button(request_id: str) -> dict[str, object]:
    return _request_button("request_edit", "Edit and retry", request_id)


def failed_reply(
    headline: str,
    reason: str,
    hint: str,
    command: str,
    text: str,
    actions: dict[str, object] | None = None,
) -> Message:
    """The thread reply when Oracle did not create the task: why, what to do, the input."""
    blocks: list[dict[str, object]] = [
        _section(f":x: *{escape(headline)}*\n>" + escape(reason, 1500).replace("\n", "\n>")),
        _section(escape(hint)),
    ]
    if text:
        blocks += [
            _context("Your command, to fix and send again:"),
            _section(_code(f"{command} {text}")),
        ]
    if actions is not None:
        blocks.append(actions)
    return {"text": f"Task not created: {escape(reason)}", "blocks": blocks}


def refusal_message(reason: str) -> Message:
    text = f":no_entry: {escape(reason)}"
    return {"response_type": "ephemeral", "text": escape(reason), "blocks": [_section(text)]}


def not_recorded_message() -> Message:
    text = (
        ":warning: The task bot could not record your request just now, so it was not "
        "created. Please send it again in a moment."
    )
    return {"response_type": "ephemeral", "text": text, "blocks": [_section(text)]}


def not_in_channel_hint() -> dict[str, object]:
    return _context(
        "Only you can see this: the bot could not post in this conversation. "
        "Invite it (`/invite @Task bot`) to get each task in its own thread."
    )
