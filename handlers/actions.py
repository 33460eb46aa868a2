"""Buttons on task messages. Slack also sends a link button's click to the app: ack it."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp


def register(app: AsyncApp) -> None:
    @app.action("open_task")
    async def open_task(ack: AsyncAck) -> None:
        await ack()  # the browser opens the link; nothing else to do
