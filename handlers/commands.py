"""The ``/task`` slash command (whatever name the workspace gave it): ack, then create."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import render
from bot.grammar import GrammarError, parse
from bot.service import CommandRequest, TaskCreator

MAX_TEXT = 8000  # Slack's own limit on a command is lower; this guards the parser


def register(app: AsyncApp, creator: TaskCreator) -> None:
    @app.command(re.compile(r".+"))
    async def task_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        name = command.get("command") or "/task"
        text = command.get("text") or ""
        if len(text) > MAX_TEXT:
            await ack(
                **render.mistake_message(
                    name,
                    f"The command is too long ({len(text):,} characters; at most {MAX_TEXT:,}).",
                    text[:200] + "…",
                )
            )
            return
        try:
            parsed = parse(text)
        except GrammarError as error:
            await ack(**render.mistake_message(name, error.message, text))
            return
        if parsed.kind != "create" or parsed.draft is None:
            await ack(**render.help_message(name))  # the modal (a later issue) replaces "form"
            return
        await ack()
        creator.submit(CommandRequest.from_payload(command), parsed.draft)
