"""A task request as the bot keeps it: who asked, where, and what they typed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TaskRequest:
    user_id: str
    channel_id: str
    channel_name: str = ""
    user_name: str = ""
    team_id: str = ""
    response_url: str = ""
    command: str = "/task"
    text: str = ""  # what was typed, given back when the task could not be created
    thread_ts: str | None = None  # answer inside this thread (message shortcut)
    source_ts: str | None = None  # the message a shortcut or an emoji was used on
    whole_thread: bool = False  # the note carries the whole thread (bot.home.threads)
    function_execution_id: str | None = None  # a Workflow Builder step's run (bot.workflow)
    correlation_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @classmethod
    def from_command(cls, payload: dict[str, Any]) -> TaskRequest:
        return cls(
            user_id=payload.get("user_id") or "",
            channel_id=payload.get("channel_id") or "",
            channel_name=payload.get("channel_name") or "",
            user_name=payload.get("user_name") or "",
            team_id=payload.get("team_id") or "",
            response_url=payload.get("response_url") or "",
            command=payload.get("command") or "/task",
            text=payload.get("text") or "",
        )
