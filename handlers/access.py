"""Allow-lists, checked before any listener: a polite refusal, and nothing reaches Oracle."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import render
from bot.slack.access import Gate


def _who_and_where(body: dict[str, Any]) -> tuple[str, str | None]:
    if "command" in body:  # a slash command's form
        return body.get("user_id", ""), body.get("channel_id")
    user = (body.get("user") or {}).get("id", "")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    return user, channel


def refusal_answer(refusal: str) -> BoltResponse:
    """A refused slash command's answer (ephemeral, in the ack)."""
    return BoltResponse(
        status=200,
        body=json.dumps(render.refusal_message(refusal)),
        headers={"content-type": "application/json"},
    )


async def command_refusal(gate: Gate, command: dict[str, Any]) -> BoltResponse | None:
    """The answer to a slash command the allow-lists refuse; None when it may go on."""
    if gate.open:
        return None
    user, channel = _who_and_where(command)
    refusal = await gate.refusal(user, channel)
    return None if refusal is None else refusal_answer(refusal)


def register(app: AsyncApp, gate: Gate) -> None:
    if gate.open:
        return

    @app.middleware
    async def allow_lists(
        body: dict[str, Any],
        client: AsyncWebClient,
        next: Callable[[], Awaitable[Any]],
    ) -> Any:
        kind = body.get("type")
        if kind in ("block_suggestion", "view_closed") or body.get("ssl_check"):
            return await next()
        user, channel = _who_and_where(body)
        if kind == "view_submission":  # the form opened where the user was allowed to
            return await next()
        if kind == "event_callback":  # replies in threads of tasks made where it was allowed
            return await next()
        refusal = await gate.refusal(user, channel)
        if refusal is None:
            return await next()
        if "command" in body:
            return refusal_answer(refusal)
        if channel:
            try:
                await client.chat_postEphemeral(
                    channel=channel, user=user, **render.refusal_message(refusal)
                )
            except SlackApiError:
                pass
        return BoltResponse(status=200, body="")
