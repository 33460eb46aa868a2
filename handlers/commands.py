"""The ``/task`` slash command (whatever name the workspace gave it): ack, then hand over."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.drafts import TaskDraft
from bot.domain.grammar import SUBCOMMANDS, GrammarError, as_task, parse, read
from bot.domain.requests import TaskRequest
from bot.flows import unclear
from bot.flows.compose import task_name
from bot.flows.forms import TaskForms
from bot.flows.lookup import TaskLookup
from bot.flows.worker import TaskCreator
from bot.home.features import Home
from bot.oracle.catalog import unknown_named
from bot.slack import render
from bot.slack.connect import SlackConnect
from bot.subscriptions.commands import SubscriptionCommands
from bot.sync.replies import ThreadNotes

log = logging.getLogger(__name__)
MAX_TEXT = 8000  # Slack's own limit on a command is lower; this guards the parser
JOURNAL_WAIT = 1.5  # seconds a journal write may hold the ack (Slack allows 3)


CommandListener = Callable[[AsyncAck, dict[str, Any]], Awaitable[None]]


def register(
    app: AsyncApp,
    creator: TaskCreator,
    forms: TaskForms,
    lookup: TaskLookup,
    notes: ThreadNotes | None = None,
    home: Home | None = None,
    connect: SlackConnect | None = None,
    subscriptions: SubscriptionCommands | None = None,
) -> CommandListener:
    """Register the slash command's listener with Bolt; also returned, for the HTTP route that
    calls it directly (``bot.command_route``)."""
    listener = command_listener(creator, forms, lookup, notes, home, connect, subscriptions)
    app.command(re.compile(r".+"))(listener)

    @app.action(unclear.CREATE_AS_TASK)
    async def create_as_task(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A button under an unclear command: create the task it carries."""
        await ack()
        creator.spawn(_create_from_button(creator, body, action.get("value") or ""), "create")

    return listener


def command_listener(
    creator: TaskCreator,
    forms: TaskForms,
    lookup: TaskLookup,
    notes: ThreadNotes | None = None,
    home: Home | None = None,
    connect: SlackConnect | None = None,
    subscriptions: SubscriptionCommands | None = None,
) -> CommandListener:
    async def task_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        name = command.get("command") or "/task"
        text = command.get("text") or ""
        user = command.get("user_id", "")
        if len(text) > MAX_TEXT:
            await ack(
                **render.mistake_message(
                    name,
                    f"The command is too long ({len(text):,} characters; at most {MAX_TEXT:,}).",
                    text[:200] + "…",
                )
            )
            return
        channel = command.get("channel_id") or None
        # a person of another organization (Slack Connect) acts on nothing and reads nothing
        # (help aside); Slack names their team where it can, else users.info does
        if (
            connect is not None
            and text.strip().casefold() != "help"
            and await connect.outsider(
                user,
                team=command.get("team_id"),
                enterprise=command.get("enterprise_id"),
                channel=channel,
            )
        ):
            await ack(**render.refusal_message(connect.refusal()))
            return
        try:
            parsed = parse(text, user)
        except GrammarError as error:
            await ack(**render.mistake_message(name, error.message, text))
            if error.form:
                creator.spawn(
                    forms.open_from_command(
                        command.get("trigger_id", ""), command, read(text, user)
                    ),
                    "form",
                )
            return
        if parsed.kind == "help":
            reaction = home.reactions.reaction if home and home.reactions else "ticket"
            shared = None
            if connect is not None and await connect.channels.shared(channel):
                restricted = await connect.restricted(channel)
                shared = render.SHARED_RESTRICTED if restricted else render.SHARED_OPEN
            await ack(**render.help_message(name, reaction, shared))
            return
        if parsed.kind == "form":
            await ack()
            creator.spawn(_open_form(creator, forms, command, name), "form")
        elif parsed.kind == "show" and parsed.task_id is not None:
            await ack()
            creator.spawn(_answer(creator, command, lookup.show(parsed.task_id)), "show")
        elif parsed.kind == "sync":
            await ack(**await _sync_setting(notes, command.get("channel_id", ""), parsed.option))
        elif parsed.kind in ("defaults", "remind"):
            await ack()
            if home is None:
                answer: Awaitable[dict[str, Any]] = _nothing_here()
            elif parsed.kind == "defaults":
                answer = home.defaults_command(command.get("channel_id", ""), user, parsed)
            else:
                answer = home.remind_command(user, parsed.option)
            creator.spawn(_answer(creator, command, answer), parsed.kind)
        elif parsed.kind in ("subscribe", "subscriptions", "unsubscribe"):
            await ack()
            said = (
                subscriptions.answer(parsed.kind, command, parsed.option)
                if subscriptions is not None
                else _subscriptions_off()
            )
            creator.spawn(_answer(creator, command, said), parsed.kind)
        elif parsed.kind == "mine":
            await ack()
            creator.spawn(
                _answer(creator, command, lookup.mine(command.get("user_id", ""))), "mine"
            )
        elif parsed.kind == "unclear":
            assert parsed.draft is not None and parsed.option is not None
            await ack(
                **render.unclear_message(
                    name,
                    SUBCOMMANDS[parsed.option],
                    text,
                    task_name(parsed.draft),
                    unclear.button_value(text, name),
                )
            )
        else:
            assert parsed.draft is not None
            draft = await _ready(creator, command, parsed.draft)
            if isinstance(draft, dict):  # a mistake, or a question
                await ack(**draft)
                return
            request = TaskRequest.from_command(command)
            key = f"command:{request.team_id}:{command.get('trigger_id') or request.correlation_id}"
            await accept_then_ack(ack, creator, request, draft, key)

    return task_command


async def _ready(
    creator: TaskCreator, command: dict[str, Any], draft: TaskDraft
) -> TaskDraft | dict[str, Any]:
    """The draft ready to journal, its unclear dates settled by the requester's language; or
    what to answer the requester instead (a mistake, or which date they meant)."""
    name, text = command.get("command") or "/task", command.get("text") or ""
    problem = creator.limits.name_problem(task_name(draft)) or unknown_named(
        draft, creator.catalog.cached()
    )
    if problem is not None:
        return render.mistake_message(name, problem, text)
    dates = unclear.unclear_dates(draft)
    if not dates:
        return draft
    user = command.get("user_id", "")

    async def locale() -> str | None:
        person = await creator.people.get(user)  # cached: the create reads it again for free
        return person.locale if person else None

    first_is_day = await unclear.day_first_of(locale)
    if first_is_day is not None:
        return unclear.settled(draft, first_is_day)
    choices = [
        (reading.label, unclear.button_value(reading.text, name))
        for reading in unclear.date_readings(text, draft)
    ]
    return render.date_question(name, text, next(iter(dates.values())), choices)


async def _create_from_button(creator: TaskCreator, body: dict[str, Any], value: str) -> None:
    """Create the task a button carries, as its command would have (same checks, one task
    however often the button is pressed), then remove the question it answered."""
    user = (body.get("user") or {}).get("id", "")
    channel = (body.get("channel") or {}).get("id", "")
    team = (body.get("team") or {}).get("id", "") or (body.get("user") or {}).get("team_id", "")
    message = body.get("container") or {}
    carried = unclear.command_of(value)
    response_url = body.get("response_url", "")
    if carried is None or not user or not channel:
        log.warning("a create button came without its command or where it was pressed")
        return
    text, name = carried
    command = {
        "command": name,
        "text": text,
        "user_id": user,
        "user_name": (body.get("user") or {}).get("username", ""),
        "channel_id": channel,
        "channel_name": (body.get("channel") or {}).get("name", ""),
        "team_id": team,
        "response_url": response_url,
        "trigger_id": body.get("trigger_id", ""),
    }
    try:
        parsed = as_task(text, user)
    except GrammarError as error:
        await creator.respond(response_url, render.mistake_message(name, error.message, text))
        return
    assert parsed.draft is not None
    draft = await _ready(creator, command, parsed.draft)
    if isinstance(draft, dict):  # a mistake, or a question
        await creator.respond(response_url, {"replace_original": True, **draft})
        return
    request = TaskRequest.from_command(command)
    pressed = message.get("message_ts") or body.get("trigger_id") or request.correlation_id
    key = f"button:{team}:{user}:{pressed}"  # one task per question, whichever button
    try:
        entry = await creator.accept(request, draft, kind="command", dedupe_key=key)
    except Exception:
        log.exception("could not journal a request")
        await creator.respond(response_url, render.not_recorded_message())
        return
    await creator.respond(response_url, {"delete_original": True})
    if entry is not None:  # None: pressed again
        creator.start(entry)


async def _sync_setting(
    notes: ThreadNotes | None, channel: str, option: str | None
) -> dict[str, Any]:
    """``/task sync [on|off]``: whether replies in this channel's task threads become notes."""
    if notes is None:
        text = (
            "Synced threads are off for this bot (`B2C_SYNC_INTERVAL=0`): replies in task "
            "threads do not become notes. The admin who installed it can turn them on."
        )
        return {"response_type": "ephemeral", "text": text}
    if option is not None:
        await notes.set_replies(channel, option == "on")
    on = await notes.replies_on(channel)
    text = (
        "Replies in this channel's task threads become notes on the task in B2C Service "
        "(`/task sync off` stops that)."
        if on
        else "Replies in this channel's task threads stay in Slack (`/task sync on` makes them "
        "notes in B2C Service). Changes made in B2C Service are still told in the threads."
    )
    return {"response_type": "ephemeral", "text": text}


async def _subscriptions_off() -> dict[str, Any]:
    text = (
        "Channel subscriptions are off for this bot (`TASK_SUBSCRIPTIONS=off`, or synced "
        "threads off with `B2C_SYNC_INTERVAL=0`). The admin who installed it can turn them on."
    )
    return {"response_type": "ephemeral", "text": text}


async def _nothing_here() -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": "This bot runs without its Home features."}


async def _open_form(
    creator: TaskCreator, forms: TaskForms, command: dict[str, Any], name: str
) -> None:
    if not await forms.open_from_command(command.get("trigger_id", ""), command):
        await creator.respond(command.get("response_url", ""), render.help_message(name))


async def accept_then_ack(
    ack: AsyncAck, creator: TaskCreator, request: TaskRequest, draft: TaskDraft, key: str
) -> None:
    """Journal the request, then ack; a slow journal write never holds the ack past
    JOURNAL_WAIT (the request is started as soon as the write completes)."""
    write = asyncio.ensure_future(creator.accept(request, draft, kind="command", dedupe_key=key))
    done, _ = await asyncio.wait({write}, timeout=JOURNAL_WAIT)
    if write in done and write.exception() is not None:
        log.error("could not journal a request: %s", write.exception())
        await ack(**render.not_recorded_message())
        return
    await ack()
    try:
        entry = await write
    except Exception:
        log.exception("could not journal a request")
        await creator.respond(request.response_url, render.not_recorded_message())
        return
    if entry is not None:  # None: the same request again (a redelivery)
        creator.start(entry)


async def _answer(
    creator: TaskCreator, command: dict[str, Any], reply: Awaitable[dict[str, Any]]
) -> None:
    await creator.respond(command.get("response_url", ""), await reply)
