"""Buttons on task messages: complete, change status, add a note, open (a link: just ack)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.flows.forms import TaskForms
from bot.flows.note_form import NoteForm
from bot.flows.task_work import TaskMessage, TaskWork
from bot.flows.worker import TaskCreator
from bot.home.features import Home


def register(
    app: AsyncApp,
    creator: TaskCreator,
    forms: TaskForms,
    note_form: NoteForm,
    work: TaskWork,
    home: Home | None = None,
) -> None:
    async def where_of(body: dict[str, Any], value: str) -> TaskMessage:
        """The task's message, or (a button on the Home tab) its thread if any, and the tab."""
        if home is not None and (body.get("view") or {}).get("type") == "home":
            data = json.loads(value)
            return await home.where(int(data["t"]), str(data.get("r", "")))
        return TaskMessage.from_action(body, value)

    async def complete_task(body: dict[str, Any], value: str) -> None:
        await work.complete(await where_of(body, value), body["user"]["id"])

    async def set_status(body: dict[str, Any], value: str) -> None:
        status_id = int(json.loads(value)["s"])
        await work.set_status(await where_of(body, value), body["user"]["id"], status_id)

    async def open_note(body: dict[str, Any], value: str) -> None:
        where = await where_of(body, value)
        await note_form.open(body["trigger_id"], where, body["user"]["id"])

    @app.action("open_task")
    async def open_task(ack: AsyncAck) -> None:
        await ack()  # the browser opens the link; nothing else to do

    @app.action("task_complete")
    async def complete(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        creator.spawn(complete_task(body, action["value"]), "complete")

    @app.action("task_status")
    async def change_status(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        creator.spawn(set_status(body, action["selected_option"]["value"]), "status")

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
        creator.spawn(open_note(body, action["value"]), "note")
