"""Submitted forms: the task form and the note form."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.flows.forms import TaskForms
from bot.flows.note_form import NoteForm
from bot.slack import modal


def register(app: AsyncApp, forms: TaskForms, note_form: NoteForm) -> None:
    @app.view(modal.CALLBACK)
    async def task_form(ack: AsyncAck, body: dict[str, Any]) -> None:
        response, start = await forms.submit(body)
        await ack(**response)
        start()

    @app.view(modal.NOTE_CALLBACK)
    async def note(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack(**(note_form.submit(body) or {}))
