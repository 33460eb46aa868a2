"""What Slack is told about a request: the task message while Oracle works on it (creating…,
retrying…), its result where the requester will see it (the task message and its thread, else
``response_url``, else a direct message), and the requester's private confirmation of its dates.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.domain import slack_text
from bot.domain.requests import TaskRequest
from bot.domain.slack_text import escape
from bot.domain.tasks import Task
from bot.flows.failures import explained
from bot.journal import Entry, Journal
from bot.oracle.catalog import Catalog
from bot.oracle.lookups import Names
from bot.slack import render
from bot.slack.delivery import SlackPoster, SlackUnavailable

log = logging.getLogger(__name__)


class ResultDelivery:
    """Posts a settled request's result where its requester will see it: the task message and
    its thread (or the thread of the message a shortcut was used on), else ``response_url``,
    else a direct message. Slack being away leaves the result for later, never half-lost."""

    def __init__(
        self,
        *,
        poster: SlackPoster,
        respond: Callable[[str, dict[str, Any]], Awaitable[bool]],
        catalog: Catalog,
        link: Callable[[int], str],
        names: Names,
    ) -> None:
        self.poster = poster
        self.respond = respond
        self.catalog = catalog
        self.link = link
        self.names = names
        # whether a channel gets only what its people may read (Slack Connect): the details
        # are then shown as typed, with no name read from Oracle (bot.slack.connect)
        self.restricted: Callable[[str], Awaitable[bool]] | None = None

    async def _named(self, composed: dict[str, Any]) -> list[tuple[str, str]]:
        """The details with Oracle's names for what was given by id or login (``refs``):
        "Mary Major (83)"; the value as typed when the name cannot be had."""
        refs = composed.get("refs") or {}
        named = []
        for label, value in composed.get("details", []):
            if label in refs:
                table, record_id = refs[label]
                name = await self.names.name(table, int(record_id))
                if name:
                    value = escape(name, 200) + (f" ({value})" if value.isdigit() else "")
            named.append((label, value))
        return named

    async def deliver(self, entry: Entry, request: TaskRequest) -> tuple[Entry, str | None]:
        """Post the result; (the entry, how it reached Slack), or None while Slack is away."""
        name = (entry.composed or {}).get("name") or slack_text.to_plain(
            entry.draft.get("name", "")
        )
        if entry.task is not None:
            task = Task.model_validate(entry.task)
            link = self.link(task.id)
            statuses = (await self.catalog.get()).get("status")
            task_message = render.created_parent(request.user_id, task, link, statuses)
            if self.restricted is not None and await self.restricted(request.channel_id):
                details = list((entry.composed or {}).get("details", []))
            else:
                details = await self._named(entry.composed or {})
            reply = render.created_reply(
                task,
                link,
                details,
                task_message["blocks"][-1] if request.thread_ts is not None else None,
            )
        else:
            headline, reason, hint = explained(entry.reason)
            button = (
                render.retry_button(entry.id)
                if entry.state == "failed"
                else render.edit_button(entry.id)
            )
            reply = render.failed_reply(
                headline, reason, hint, request.command, request.text, button
            )
            task_message = render.failed_parent(request.user_id, name)
        try:
            if entry.task is None and entry.state == "rejected":
                # the requester's mistake (or Oracle's refusal of the content) is theirs alone
                entry, delivered = await self._tell_privately(entry, request, reply, name)
            else:
                entry, delivered = await self._post_result(entry, request, task_message, reply)
        except (_Interrupted, SlackUnavailable) as error:
            if isinstance(error, _Interrupted):  # the task message is up, its reply is not
                entry = error.entry
            log.warning(
                "[%s] Slack is not taking messages (%s): the result is kept and will "
                "be posted later",
                request.correlation_id,
                error.__cause__ or error,
            )
            return entry, None
        if delivered == "lost":
            log.error("[%s] the result could not be delivered to Slack", request.correlation_id)
        return entry, delivered

    async def confirm_privately(self, entry: Entry, request: TaskRequest) -> None:
        """The requester's private confirmation (dates in their own zone, in words, and a
        warning for a due date in the past or a start after the due date), once the task
        exists: slash commands only, and only when the task has dates."""
        confirm = (entry.composed or {}).get("confirm")
        if entry.task_id is None or entry.kind != "command" or not confirm:
            return

        def moment(key: str) -> datetime | None:
            return datetime.fromisoformat(confirm[key]) if confirm.get(key) else None

        message = render.private_confirmation(
            entry.task_id,
            (entry.composed or {}).get("name", ""),
            moment("due"),
            moment("start"),
            confirm.get("tz"),
            datetime.fromisoformat(confirm["asked"]),  # the moment the dates were read
        )
        if message is not None:
            await self.respond(request.response_url, message)

    async def _post_result(
        self,
        entry: Entry,
        request: TaskRequest,
        task_message: dict[str, Any],
        reply: dict[str, Any],
    ) -> tuple[Entry, str]:
        channel = request.channel_id
        if request.thread_ts is not None:  # a shortcut: the task message is the thread reply
            posted = await self.poster.post(channel=channel, thread_ts=request.thread_ts, **reply)
            if posted:  # (kept as the task message's ts: its thread follows the task)
                return replace(entry, parent_ts=posted), "thread"
            return entry, await self._fallback(request, reply, in_channel=False)
        parent_ts = entry.parent_ts
        if parent_ts is None:
            parent_ts = await self.poster.post(channel=channel, **task_message)
            if parent_ts is None:
                return entry, await self._fallback(request, reply, in_channel=False)
            entry = replace(entry, parent_ts=parent_ts)  # written when the run finishes
        else:
            await self.poster.update(channel, parent_ts, task_message)
        try:
            posted = await self.poster.post(channel=channel, thread_ts=parent_ts, **reply)
        except SlackUnavailable as error:
            raise _Interrupted(entry) from error
        if posted:
            return entry, "thread"
        return entry, await self._fallback(request, reply, in_channel=True)

    async def _tell_privately(
        self, entry: Entry, request: TaskRequest, reply: dict[str, Any], name: str
    ) -> tuple[Entry, str]:
        """Only the requester sees why their task was not created (with Edit and retry): by
        ``response_url``, else an ephemeral message where they asked, else a direct message.
        A "creating…" message already public says briefly that it could not be created."""
        if entry.parent_ts is not None:
            await self.poster.update(
                request.channel_id,
                entry.parent_ts,
                render.not_created_parent(request.user_id, name),
            )
        if await self.respond(request.response_url, reply):
            return entry, "response_url"
        where = {"thread_ts": request.thread_ts} if request.thread_ts else {}
        if await self.poster.whisper(request.channel_id, request.user_id, {**reply, **where}):
            return entry, "ephemeral"
        if await self.poster.post(channel=request.user_id, **reply):
            return entry, "direct_message"
        return entry, "lost"

    async def _fallback(
        self, request: TaskRequest, message: dict[str, Any], in_channel: bool
    ) -> str:
        fallback = dict(message)
        if not in_channel:
            fallback["blocks"] = [*message["blocks"], render.not_in_channel_hint()]
        if await self.respond(request.response_url, fallback):
            return "response_url"
        # last resort: a direct message from the bot to the requester
        if await self.poster.post(channel=request.user_id, **message):
            return "direct_message"
        return "lost"


class _Interrupted(Exception):
    """Slack went away in the middle of a delivery; carries what was done."""

    def __init__(self, entry: Entry) -> None:
        super().__init__("delivery interrupted")
        self.entry = entry


class Announcement:
    """The task message of a slash command while its task is being created."""

    def __init__(
        self, poster: SlackPoster, journal: Journal, entry: Entry, request: TaskRequest, name: str
    ) -> None:
        self.poster = poster
        self.journal = journal
        self.entry = entry
        self.request = request
        self.name = name
        self.ts = entry.parent_ts

    async def _post(self, message: dict[str, Any]) -> None:
        try:
            ts = await self.poster.post(channel=self.request.channel_id, **message)
        except SlackUnavailable:
            return
        if ts:
            self.ts = ts
            await self.journal.set_parent(self.entry, ts)

    async def pending(self) -> None:
        if self.ts is None:
            await self._post(render.pending_parent(self.request.user_id, self.name))

    async def retrying(self) -> None:
        message = render.retrying_parent(self.request.user_id, self.name)
        if self.ts is None:
            await self._post(message)
        else:
            await self.poster.update(self.request.channel_id, self.ts, message)
