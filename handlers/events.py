"""Events API: replies in a followed task's thread become notes (``bot.sync.replies``).

The reply is journaled before the ack (Bolt sends it when this listener returns), so Slack's
retry of an event it thinks went unanswered finds it journaled and makes no second note."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.flows.worker import TaskCreator
from bot.slack.connect import SlackConnect
from bot.sync.replies import ThreadNotes

# called with keywords, as Bolt calls a listener: event= the event, body= its envelope
EventListener = Callable[..., Awaitable[None]]


def register(
    app: AsyncApp,
    creator: TaskCreator,
    notes: ThreadNotes | None,
    connect: SlackConnect | None = None,
) -> EventListener:
    """Register the message listener with Bolt; also returned, for the HTTP route that calls
    it directly (``bot.command_route``). A reply from a person of another organization (Slack
    Connect: their ``user_team``) is not a note."""

    async def on_message(event: dict[str, Any], body: dict[str, Any] | None = None) -> None:
        if notes is None:
            return
        if connect is not None and event.get("thread_ts"):  # a reply: maybe a note
            connect.heard(body or {})  # (the envelope says whether the channel is shared)
            if await connect.outsider(
                str(event.get("user") or ""),
                team=event.get("user_team"),
                channel=event.get("channel"),
            ):
                return
        reply = await notes.accept(event)
        if reply is not None:
            creator.spawn(after_acks(creator, notes.run(reply)), f"note-{reply.id[:8]}")

    app.event("message")(on_message)
    return on_message


async def after_acks(creator: TaskCreator, work: Awaitable[Any]) -> Any:
    """The note once the acks of a burst have gone (as task requests do)."""
    await creator.after_acks()
    return await work
