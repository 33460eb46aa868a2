"""Slack Connect, before any listener: a person from another organization presses a button,
submits a form or uses the shortcut, and is answered privately; nothing reaches Oracle. An
event's envelope says whether its channel is shared; channel_shared and channel_unshared say
when that changes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import render
from bot.slack.connect import SlackConnect

# the interactions that act on Oracle (a suggestion list or a closed form does not)
ACTING = ("block_actions", "view_submission", "message_action", "shortcut")


def _first_input(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None


def register(app: AsyncApp, connect: SlackConnect) -> None:
    @app.middleware
    async def organizations(
        body: dict[str, Any],
        client: AsyncWebClient,
        next: Callable[[], Awaitable[Any]],
    ) -> Any:
        kind = body.get("type") if isinstance(body, dict) else None
        if kind == "event_callback":
            connect.heard(body)
            return await next()
        if kind not in ACTING:
            return await next()
        user = body.get("user") if isinstance(body.get("user"), dict) else {}
        enterprise = body.get("enterprise") if isinstance(body.get("enterprise"), dict) else {}
        where = body.get("channel") if isinstance(body.get("channel"), dict) else {}
        container = body.get("container") if isinstance(body.get("container"), dict) else {}
        channel = where.get("id") or container.get("channel_id")
        if not await connect.outsider(
            str(user.get("id") or ""),
            team=user.get("team_id"),
            enterprise=enterprise.get("id"),
            channel=channel,
        ):
            return await next()
        refusal = connect.refusal()
        if kind == "view_submission":
            block = _first_input(body.get("view") or {})
            answer = (
                {"response_action": "errors", "errors": {block: refusal}}
                if block
                else {"response_action": "clear"}
            )
            return BoltResponse(
                status=200, body=json.dumps(answer), headers={"content-type": "application/json"}
            )
        if channel:
            try:
                await client.chat_postEphemeral(
                    channel=channel, user=user.get("id", ""), **render.refusal_message(refusal)
                )
            except SlackApiError:
                pass
        return BoltResponse(status=200, body="")

    @app.event("channel_shared")
    async def channel_shared(event: dict[str, Any]) -> None:
        connect.channels.said(event.get("channel"), True)

    @app.event("channel_unshared")
    async def channel_unshared(event: dict[str, Any]) -> None:
        # still shared with another organization when Slack says so (is_ext_shared)
        connect.channels.said(event.get("channel"), bool(event.get("is_ext_shared")))
