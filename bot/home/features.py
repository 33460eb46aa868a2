"""The Home features together, as the handlers use them, and the answers to
``/task defaults`` and ``/task remind``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.defaults import describe
from bot.domain.drafts import draft_to_dict
from bot.domain.grammar import Parsed
from bot.domain.slack_text import escape
from bot.flows.forms import TaskForms
from bot.flows.task_work import TaskMessage
from bot.home.defaults import ChannelDefaults
from bot.home.digest import Digests
from bot.home.notify import Assignments
from bot.home.reactions import ReactionTasks
from bot.home.sources import MessageSource
from bot.home.store import HomeStore
from bot.home.tab import HOME_FORM_PLACE, HomeTab
from bot.home.unfurl import Unfurls
from bot.home.views import text_answer
from bot.slack.modal import FormContext, FormValues
from bot.slack.people import People
from bot.sync.store import SyncStore

log = logging.getLogger(__name__)


@dataclass
class Home:
    slack: AsyncWebClient
    people: People
    store: HomeStore
    defaults: ChannelDefaults
    tab: HomeTab
    assignments: Assignments
    sources: MessageSource
    digests: Digests | None = None
    unfurls: Unfurls | None = None
    reactions: ReactionTasks | None = None
    sync: SyncStore | None = None
    off: set[str] = field(default_factory=set)  # features whose scopes are missing

    # ------------------------------------------------------------------ /task defaults
    async def defaults_command(self, channel: str, user: str, parsed: Parsed) -> dict[str, Any]:
        if parsed.option == "clear":
            cleared = await self.store.clear_defaults(channel)
            return text_answer(
                "This channel's task defaults are cleared."
                if cleared
                else "This channel has no task defaults."
            )
        if parsed.option == "set":
            assert parsed.draft is not None
            checked = await self.defaults.checked(parsed.draft)
            if isinstance(checked, str):
                return text_answer(f":warning: *The defaults were not set.* {_escape(checked)}")
            merged = {**await self.store.defaults(channel), **draft_to_dict(checked)}
            merged.pop("name", None)
            await self.store.set_defaults(channel, merged, user)
            head = "This channel's task defaults are now"
        else:
            merged = await self.store.defaults(channel)
            if not merged:
                return text_answer(
                    "This channel has no task defaults. Set some with e.g. `/task defaults "
                    "@org Acme @type Call @priority High @assign @jane`."
                )
            head = "This channel's task defaults"
        lines = "\n".join(f"• {line}" for line in describe(merged))
        return text_answer(
            f"{head}:\n{lines}\nThey apply to every task made here (the command, the form, "
            "the shortcut, an emoji); what you type wins. `/task defaults clear` removes them."
        )

    # ------------------------------------------------------------------ /task remind
    async def remind_command(self, user: str, option: str | None) -> dict[str, Any]:
        if self.digests is None:
            return text_answer(
                "The morning digest is off for this bot (the app lacks a scope it needs): "
                "ask the admin who installed it."
            )
        if option is not None:
            await self.store.set_reminders(user, option == "on")
        on = await self.store.reminders_on(user)
        person = await self.people.get(user)
        zone = person.tz if person and person.tz else "UTC"
        if on:
            return text_answer(
                f"You get a direct message at 09:00 your time ({_escape(zone)}) listing your "
                "tasks due today and overdue, when there are any. `/task remind off` stops it."
            )
        return text_answer(
            "You get no morning digest. `/task remind on` sends you one at 09:00 your time "
            "with your tasks due today and overdue."
        )

    # ------------------------------------------------------------------ the Home tab
    async def where(self, task_id: int, requester: str) -> TaskMessage:
        """A task button pressed on the Home tab: the task's thread when one follows it (it
        is told there too), and the tab to publish again."""
        if self.sync is not None:
            tracked = (await self.sync.tracked([task_id])).get(task_id)
            if tracked is not None:
                return TaskMessage(
                    task_id,
                    tracked.requester or requester,
                    tracked.channel_id,
                    tracked.message_ts,
                    tracked.thread_ts,
                    home=True,
                )
        return TaskMessage(task_id, requester, "", "", "", home=True)

    async def open_form(self, trigger_id: str, user: str, forms: TaskForms) -> bool:
        """The form from the Home tab's New task: the task is posted in the user's direct
        messages with the bot."""
        channel = await self.dm_channel(user)
        context = FormContext(channel_id=channel, channel_name=HOME_FORM_PLACE)
        return await forms.open(trigger_id, context, FormValues())

    async def dm_channel(self, user: str) -> str:
        """The bot's direct-message channel with ``user`` (``conversations.open``), or the
        user's id (Slack posts that to the same channel)."""
        try:
            opened = await self.slack.conversations_open(users=user)
        except SlackApiError as error:
            log.info("conversations.open failed: %s", error.response.get("error"))
            return user
        return (opened.get("channel") or {}).get("id") or user


def _escape(text: str) -> str:
    return escape(text, 1500)
