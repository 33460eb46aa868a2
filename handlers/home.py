"""The Home features' Slack surfaces: the Home tab (``app_home_opened`` and its buttons),
link previews (``link_shared``) and emoji tasks (``reaction_added``)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.flows.forms import TaskForms
from bot.flows.worker import TaskCreator
from bot.home.features import Home
from bot.slack.connect import SlackConnect
from handlers.events import EventListener


def register(
    app: AsyncApp,
    creator: TaskCreator,
    forms: TaskForms,
    home: Home,
    connect: SlackConnect | None = None,
) -> dict:
    """Register the listeners; returns the event listeners the HTTP route calls directly."""

    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home" and event.get("user"):
            creator.spawn(home.tab.publish(event["user"]), "home")

    async def link_shared(event: dict[str, Any]) -> None:
        if home.unfurls is not None:
            creator.spawn(home.unfurls.unfurl(event), "unfurl")

    async def reaction_added(event: dict[str, Any], body: dict[str, Any] | None = None) -> None:
        if home.reactions is None:
            return
        if connect is not None:  # an emoji from another organization's person makes nothing
            connect.heard(body or {})
            if not home.reactions.wanted(event):
                return
            item = event.get("item") if isinstance(event.get("item"), dict) else {}
            if await connect.outsider(
                str(event.get("user") or ""),
                team=event.get("user_team"),
                channel=item.get("channel"),
            ):
                return
        entry = await home.reactions.accept(event, (body or {}).get("team_id") or "")
        if entry is not None:  # None: not ours, refused, or the message has its task
            creator.start(entry)  # (its run lets the acks of a burst go first)

    app.event("app_home_opened")(home_opened)
    app.event("link_shared")(link_shared)
    app.event("reaction_added")(reaction_added)

    @app.action("home_new_task")
    async def new_task(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        user = (body.get("user") or {}).get("id", "")
        creator.spawn(home.open_form(body.get("trigger_id", ""), user, forms), "form")

    @app.action("home_refresh")
    async def refresh(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        creator.spawn(home.tab.publish((body.get("user") or {}).get("id", "")), "home")

    @app.action("home_page")
    async def page(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user = (body.get("user") or {}).get("id", "")
        offset = int(action.get("value") or 0)
        creator.spawn(home.tab.publish(user, offset=max(0, offset)), "home")

    listeners: dict[str, EventListener] = {"reaction_added": reaction_added}
    return listeners
