"""Thin Bolt listeners, one module per Slack surface. Each acks and hands over to ``bot``."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.service import TaskCreator
from handlers import actions, commands


def register(app: AsyncApp, creator: TaskCreator) -> None:
    commands.register(app, creator)
    actions.register(app)
