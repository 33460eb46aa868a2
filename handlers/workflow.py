"""The Workflow Builder step "Create B2C Service task" (``functions.create_b2c_task``): Slack
runs it with a ``function_executed`` event. Bolt acks it when this listener returns; the run is
journaled (or refused) by then, so Slack's retry of an event it thinks went unanswered finds
it journaled and makes no second task."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.workflow.inputs import CALLBACK_ID
from bot.workflow.step import WorkflowStep


def register(app: AsyncApp, step: WorkflowStep) -> None:
    async def on_step(event: dict[str, Any], body: dict[str, Any]) -> None:
        await step.received(event, str(body.get("team_id") or ""))

    app.function(CALLBACK_ID)(on_step)
