"""Thin Bolt listeners, one module per Slack surface. Each acks and hands over to ``bot``."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.access import Gate
from bot.forms import TaskForms
from bot.service import TaskCreator
from bot.sync.replies import ThreadNotes
from bot.task_work import TaskWork
from handlers import access, actions, commands, events, options, shortcuts, views


def register(
    app: AsyncApp,
    creator: TaskCreator,
    forms: TaskForms,
    work: TaskWork,
    gate: Gate,
    notes: ThreadNotes | None = None,
) -> tuple[commands.CommandListener, events.MessageListener]:
    """Register every listener; returns the slash command's and the message events' (see
    ``bot.command_route``)."""
    access.register(app, gate)
    messages = events.register(app, creator, notes)
    listener = commands.register(app, creator, forms, work, notes)
    views.register(app, forms)
    shortcuts.register(app, creator, forms)
    actions.register(app, creator, forms, work)
    options.register(app, creator)
    return listener, messages
