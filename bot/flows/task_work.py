"""Working a task from Slack: complete it, change its status, add a note.

Every change is PATCHed to Oracle, re-read (Oracle's PATCH answers with an empty body), confirmed
in the task's thread, and the task message is updated in place to show the current status. A
change Oracle refuses is reported in the thread with Oracle's reason.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.domain.slack_text import escape
from bot.flows.failures import explain
from bot.oracle.catalog import Catalog
from bot.oracle.client import B2CClient
from bot.oracle.errors import B2CError
from bot.oracle.staff import IdentityError, Staff
from bot.slack import render
from bot.slack.delivery import SlackPoster, SlackUnavailable
from bot.slack.people import People

log = logging.getLogger(__name__)


class OwnChanges(Protocol):
    """A follower of the task's thread (bot.sync's poller, plugged in from above), told of the
    bot's own changes so that it does not report them as made in B2C Service."""

    async def own_change(self, task_id: int) -> None: ...

    async def own_change_done(
        self, task_id: int, notes_added: int = 0
    ) -> dict[str, str | None] | None: ...


@dataclass(frozen=True)
class TaskMessage:
    """Where a task lives in Slack: its message and the thread of that message."""

    task_id: int
    requester: str
    channel: str
    message_ts: str
    thread_ts: str
    home: bool = False  # pressed on the Home tab: the tab is published again after it

    @classmethod
    def from_action(cls, body: dict[str, Any], value: str) -> TaskMessage:
        data = json.loads(value)
        message = body.get("message") or {}
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
        ts = message.get("ts") or container.get("message_ts", "")
        return cls(
            int(data["t"]), str(data.get("r", "")), channel, ts, message.get("thread_ts") or ts
        )

    def encode(self) -> str:
        return json.dumps(self.__dict__, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> TaskMessage:
        return cls(**json.loads(text))


class TaskWork:
    def __init__(
        self,
        *,
        b2c: B2CClient,
        poster: SlackPoster,
        catalog: Catalog,
        staff: Staff,
        link: Callable[[int], str],
        people: People,
        completed_status: str = "Completed",
        buttons_for: str = "anyone",
    ) -> None:
        self.b2c = b2c
        self.poster = poster
        self.catalog = catalog
        self.staff = staff
        self.link = link  # the task's address in B2C Service (TaskCreator.link)
        self.people = people
        self.completed_status = completed_status
        self.buttons_for = buttons_for  # TASK_BUTTONS_FOR: anyone, requester or assignee
        self.sync: OwnChanges | None = None  # synced threads (bot.sync), when on
        # told before the bot changes a task itself, so that a feature following Oracle's
        # changes does not report it as made in B2C Service (bot.subscriptions' cards)
        self.on_own_change: list[Callable[[int], Awaitable[None]]] = []
        # the Home tab of a user, published again with a line on top (bot.home.tab)
        self.home_refresh: Callable[[str, str], Awaitable[Any]] | None = None

    async def _name(self, user_id: str) -> str:
        person = await self.people.get(user_id)
        return person.name if person else user_id

    async def refusal(self, where: TaskMessage, actor: str) -> str | None:
        """Why ``actor`` may not change this task from Slack (TASK_BUTTONS_FOR), or None."""
        if self.buttons_for == "requester" and actor != where.requester:
            return (
                f"Only the person who created task #{where.task_id} can change it from Slack "
                "here. Open it in B2C Service instead."
            )
        if self.buttons_for == "assignee":
            try:
                account, _ = await self.staff.account_for_user(actor)
                task = await self.b2c.get_task(where.task_id)
            except IdentityError as error:
                return f"Only the task's assignee can change it from Slack here. {error}"
            except B2CError as error:
                return f"Could not check who task #{where.task_id} is assigned to: {error.reason}"
            assignee = task.assigned_to_account.ref_id if task.assigned_to_account else None
            if assignee != account:
                return (
                    f"Only the assignee of task #{where.task_id} can change it from Slack here. "
                    "Open it in B2C Service instead."
                )
        return None

    async def refused(self, where: TaskMessage, actor: str) -> bool:
        """Tell ``actor`` privately when they may not change this task; True if refused."""
        why = await self.refusal(where, actor)
        if why is None:
            return False
        message = render.refusal_message(why)
        if where.home and self.home_refresh is not None:
            await self.home_refresh(actor, message["blocks"][0]["text"]["text"])
            return True
        await self.poster.whisper(
            where.channel, actor, {"text": message["text"], "blocks": message["blocks"]}
        )
        return True

    async def _say(self, where: TaskMessage, text: str, actor: str = "") -> None:
        if where.home and self.home_refresh is not None and actor:
            await self.home_refresh(actor, text)
        if not where.channel:  # a task with no message in Slack (the Home tab)
            return
        try:
            await self.poster.post(
                channel=where.channel, thread_ts=where.thread_ts, **render.task_event(text)
            )
        except SlackUnavailable:
            log.warning("could not confirm a change to task %s in Slack", where.task_id)

    async def _change(
        self, where: TaskMessage, actor: str, changes: dict[str, Any], done: str, what: str
    ) -> bool:
        if self.sync is not None:  # a synced thread must not report this as made in B2C
            await self.sync.own_change(where.task_id)
        for listener in self.on_own_change:
            await listener(where.task_id)
        try:
            if set(changes) == {"notes"}:  # a note alone: appended by its own POST
                for note in changes["notes"]:
                    await self.b2c.add_note(where.task_id, note["text"])
            else:  # (a status change carries its note: one PATCH)
                await self.b2c.update_task(where.task_id, changes)
            task = await self.b2c.get_task(where.task_id)
        except B2CError as error:
            if self.sync is not None:
                await self.sync.own_change_done(where.task_id, 0)
            headline, reason, _hint = explain(error)
            await self._say(
                where,
                f":x: <@{actor}> could not {what}: {escape(headline)}.\n>{escape(reason, 1500)}",
                actor,
            )
            return False
        shown = None
        if self.sync is not None:
            shown = await self.sync.own_change_done(where.task_id, len(changes.get("notes", [])))
        statuses = (await self.catalog.get()).get("status")
        # (a subscription's card has no requester: its feed redraws it at the next round)
        if where.channel and where.message_ts and where.requester:
            await self.poster.update(
                where.channel,
                where.message_ts,
                render.created_parent(
                    where.requester or actor, task, self.link(task.id), statuses, shown=shown
                ),
            )
        await self._say(
            where, f"<@{actor}> {done} Status is now *{escape(task.status_name)}*.", actor
        )
        return True

    async def set_status(self, where: TaskMessage, actor: str, status_id: int) -> bool:
        if await self.refused(where, actor):
            return False
        names = {s.id: s.name for s in (await self.catalog.get()).get("status", [])}
        label = names.get(status_id, str(status_id))
        # Oracle only sees the bot's account: the note says who did it
        note = f"Status set to {label} by {await self._name(actor)} in Slack"
        return await self._change(
            where,
            actor,
            {"statusWithType": {"status": {"id": status_id}}, "notes": [{"text": note}]},
            f"changed the status of task #{where.task_id} to *{escape(label)}*.",
            f"change the status of task #{where.task_id}",
        )

    async def complete(self, where: TaskMessage, actor: str) -> bool:
        if await self.refused(where, actor):
            return False
        status = await self.catalog.status_named(self.completed_status)
        reference = {"id": status.id} if status else {"lookupName": self.completed_status}
        note = f"Marked complete by {await self._name(actor)} in Slack"
        return await self._change(
            where,
            actor,
            {"statusWithType": {"status": reference}, "notes": [{"text": note}]},
            f"marked task #{where.task_id} complete.",
            f"mark task #{where.task_id} complete",
        )

    async def add_note(self, where: TaskMessage, actor: str, text: str) -> bool:
        if await self.refused(where, actor):
            return False
        note = f"{await self._name(actor)} in Slack: {text}"
        return await self._change(
            where,
            actor,
            {"notes": [{"text": note}]},
            f"added a note to task #{where.task_id}:\n>{escape(text, 2500)}\n",
            f"add a note to task #{where.task_id}",
        )
