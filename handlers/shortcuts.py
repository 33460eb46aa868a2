"""The "Create task" message shortcut."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.flows.forms import TaskForms
from bot.flows.worker import TaskCreator

CALLBACK = "create_task_from_message"


def register(app: AsyncApp, creator: TaskCreator, forms: TaskForms) -> None:
    @app.shortcut(CALLBACK)
    async def create_from_message(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        creator.spawn(forms.open_from_message(body.get("trigger_id", ""), body), "form")
