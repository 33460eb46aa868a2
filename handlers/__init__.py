"""Thin Bolt listeners, one module per Slack surface. Each acks and hands over to ``bot``: an
entry point, it uses the features and the flows, never the other way round."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.flows.forms import TaskForms
from bot.flows.lookup import TaskLookup
from bot.flows.note_form import NoteForm
from bot.flows.task_work import TaskWork
from bot.flows.worker import TaskCreator
from bot.home.features import Home
from bot.slack.access import Gate
from bot.slack.connect import SlackConnect
from bot.subscriptions.commands import SubscriptionCommands
from bot.sync.replies import ThreadNotes
from bot.workflow.step import WorkflowStep
from handlers import (
    access,
    actions,
    commands,
    connect,
    events,
    home,
    options,
    shortcuts,
    views,
    workflow,
)


def register(
    app: AsyncApp,
    creator: TaskCreator,
    forms: TaskForms,
    note_form: NoteForm,
    work: TaskWork,
    lookup: TaskLookup,
    gate: Gate,
    notes: ThreadNotes | None = None,
    home_features: Home | None = None,
    slack_connect: SlackConnect | None = None,
    subscriptions: SubscriptionCommands | None = None,
    step: WorkflowStep | None = None,
) -> tuple[commands.CommandListener, dict[str, events.EventListener]]:
    """Register every listener; returns the slash command's and the events' the HTTP route
    calls directly (see ``bot.command_route``)."""
    access.register(app, gate)
    if slack_connect is not None:
        connect.register(app, slack_connect)
    fast = {"message": events.register(app, creator, notes, slack_connect)}
    listener = commands.register(
        app, creator, forms, lookup, notes, home_features, slack_connect, subscriptions
    )
    views.register(app, forms, note_form)
    shortcuts.register(app, creator, forms)
    actions.register(app, creator, forms, note_form, work, home_features)
    options.register(app, creator)
    if step is not None:
        workflow.register(app, step)
    if home_features is not None:
        fast.update(home.register(app, creator, forms, home_features, slack_connect))
    return listener, fast
