"""The note form of a task (its Add note button): offered only to those ``TASK_BUTTONS_FOR``
lets change the task, and the note added through ``TaskWork`` once it is submitted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.flows.task_work import TaskMessage, TaskWork
from bot.slack import modal

log = logging.getLogger(__name__)


class NoteForm:
    def __init__(
        self,
        *,
        slack: AsyncWebClient,
        work: TaskWork,
        spawn: Callable[[Awaitable[Any], str], asyncio.Task[Any]],
    ) -> None:
        self.slack = slack
        self.work = work
        self.spawn = spawn  # background work, tracked (TaskCreator.spawn)

    async def open(self, trigger_id: str, where: TaskMessage, actor: str) -> bool:
        if await self.work.refused(where, actor):  # TASK_BUTTONS_FOR: no form to fill in vain
            return False
        try:
            await self.slack.views_open(
                trigger_id=trigger_id, view=modal.note_view(where.task_id, where.encode())
            )
        except SlackApiError as error:
            log.warning("views.open (note) failed: %s", error.response.get("error"))
            return False
        return True

    def submit(self, body: dict[str, Any]) -> dict[str, Any] | None:
        view = body.get("view") or {}
        text = modal.read_submission((view.get("state") or {}).get("values") or {}).note
        if not text:
            return {"response_action": "errors", "errors": {"note": "Write the note."}}
        where = TaskMessage.decode(view.get("private_metadata") or "{}")
        actor = (body.get("user") or {}).get("id", "")
        self.spawn(self.work.add_note(where, actor, text), f"note-{where.task_id}")
        return None
