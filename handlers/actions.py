"""Buttons on task messages: complete, change status, add a note, open (a link: just ack)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.forms import TaskForms
from bot.service import TaskCreator
from bot.task_work import TaskMessage, TaskWork


def register(app: AsyncApp, creator: TaskCreator, forms: TaskForms, work: TaskWork) -> None:
    @app.action("open_task")
    async def open_task(ack: AsyncAck) -> None:
        await ack()  # the browser opens the link; nothing else to do

    @app.action("task_complete")
    async def complete(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        where = TaskMessage.from_action(body, action["value"])
        creator.spawn(work.complete(where, body["user"]["id"]), f"complete-{where.task_id}")

    @app.action("task_status")
    async def change_status(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        value = action["selected_option"]["value"]
        where = TaskMessage.from_action(body, value)
        status_id = int(json.loads(value)["s"])
        creator.spawn(
            work.set_status(where, body["user"]["id"], status_id), f"status-{where.task_id}"
        )

    @app.action("request_retry")
    async def retry(ack: AsyncAck, action: dict[str, Any]) -> None:
        await ack()
        creator.spawn(creator.retry(action["value"]), "retry")  # a 2nd click finds it running

    @app.action("request_edit")
    async def edit(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        creator.spawn(forms.open_for_entry(body["trigger_id"], action["value"]), "edit")

    @app.action("task_note")
    async def add_note(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        where = TaskMessage.from_action(body, action["value"])
        creator.spawn(forms.open_note(body["trigger_id"], where, body["user"]["id"]), "note")
