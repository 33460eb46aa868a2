"""Creating a task for a Slack request: the path after the ack.

Post a parent message in the channel (the thread every later update lives in), create the task
in Oracle, reply in the thread with id, status and link, and update the parent. When the bot
cannot post in the conversation, the result goes to the command's ``response_url`` instead; a
result is never silently dropped. Slack, Oracle and the clock are passed in.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import render, slack_text
from bot.b2c import B2CClient
from bot.b2c_errors import (
    B2CAuthError,
    B2CConnectionError,
    B2CError,
    B2CRateLimitError,
    B2CServerError,
    B2CTimeoutError,
    B2CValidationError,
)
from bot.compose import Origin, compose_task, task_name
from bot.drafts import TaskDraft
from bot.people import People
from bot.staff import AssigneeError, resolve_assignee
from bot.tasks import Task

log = logging.getLogger(__name__)
Responder = Callable[[str, dict[str, Any]], Awaitable[bool]]


@dataclass(frozen=True)
class CommandRequest:
    """A slash command as the bot keeps it: who, where, what they typed."""

    command: str
    text: str
    user_id: str
    user_name: str
    channel_id: str
    channel_name: str
    team_id: str
    response_url: str
    correlation_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> CommandRequest:
        return cls(
            command=payload.get("command") or "/task",
            text=payload.get("text") or "",
            user_id=payload.get("user_id") or "",
            user_name=payload.get("user_name") or "",
            channel_id=payload.get("channel_id") or "",
            channel_name=payload.get("channel_name") or "",
            team_id=payload.get("team_id") or "",
            response_url=payload.get("response_url") or "",
        )


@dataclass(frozen=True)
class Outcome:
    task: Task | None
    delivered: str  # "thread" | "response_url" | "lost"
    error: str | None = None


async def respond_via_url(url: str, message: dict[str, Any]) -> bool:
    """Post an ephemeral message to a command's ``response_url``; False if that failed."""
    if not url:
        return False
    try:
        response = await AsyncWebhookClient(url, timeout=10).send_dict(
            {"response_type": "ephemeral", "replace_original": False, **message}
        )
    except Exception as error:  # any network failure: the caller logs and moves on
        log.warning("response_url failed: %s", type(error).__name__)
        return False
    return response.status_code == 200


def explain(error: B2CError | AssigneeError | ValueError) -> tuple[str, str, str]:
    """(headline, reason, what to do) for a failure, in words for a support agent."""
    if isinstance(error, AssigneeError):
        return (
            "The task was not created: the assignee was not found",
            str(error),
            "Nothing was sent to Oracle. Fix @assign and send the command again.",
        )
    if isinstance(error, ValueError):
        return ("The task was not created", str(error), "Fix the command and send it again.")
    if isinstance(error, B2CAuthError):
        return (
            "The bot could not sign in to Oracle B2C Service",
            error.reason,
            "This is a set-up problem, not yours: ask the admin who installed the bot to "
            "check its Oracle B2C Service account.",
        )
    if isinstance(error, B2CTimeoutError):
        return (
            "Oracle B2C Service did not answer in time",
            error.reason,
            "The task may or may not have been created: check in B2C Service before "
            "sending the command again.",
        )
    if isinstance(error, B2CConnectionError):
        return (
            "Oracle B2C Service could not be reached",
            error.reason,
            "Nothing was created. Try again in a few minutes.",
        )
    if isinstance(error, B2CRateLimitError | B2CServerError):
        return (
            f"Oracle B2C Service is busy or failing (HTTP {error.status})",
            error.reason,
            "Nothing was created. Try again in a few minutes.",
        )
    if isinstance(error, B2CValidationError):
        return (
            "Oracle B2C Service refused the task",
            error.reason,
            "Check the values in your command and send it again.",
        )
    return (
        "Oracle B2C Service did not create the task",
        error.reason,
        "Try again; if it keeps failing, tell the admin who installed the bot.",
    )


class TaskCreator:
    """Runs task creation for acknowledged requests, in the background of the event loop."""

    def __init__(
        self,
        *,
        b2c: B2CClient,
        slack: AsyncWebClient,
        people: People,
        task_url: str,
        respond: Responder = respond_via_url,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.b2c = b2c
        self.slack = slack
        self.people = people
        self.task_url = task_url
        self.respond = respond
        self.clock = clock
        self._running: set[asyncio.Task[Outcome]] = set()

    def link(self, task_id: int) -> str:
        return self.task_url.format(site=self.b2c.site_url, id=task_id)

    def submit(self, request: CommandRequest, draft: TaskDraft) -> asyncio.Task[Outcome]:
        """Start creating the task; returns at once (the ack must not wait for Oracle)."""
        job = asyncio.create_task(
            self.create(request, draft), name=f"task-{request.correlation_id}"
        )
        self._running.add(job)
        job.add_done_callback(self._running.discard)
        return job

    async def wait_idle(self) -> None:
        """Wait for every submitted request to finish (for shutdown, the demo and tests)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def _names(self, draft: TaskDraft) -> dict[str, str]:
        ids = slack_text.unnamed_user_ids(draft.name + " " + (draft.note or ""))
        names: dict[str, str] = {}
        for user_id in dict.fromkeys(ids):
            person = await self.people.get(user_id)
            if person is not None:
                names[user_id] = person.name
        return names

    async def _post(self, **kwargs: Any) -> str | None:
        """chat.postMessage; the message ts, or None when the bot cannot post there."""
        try:
            response = await self.slack.chat_postMessage(**kwargs)
        except SlackApiError as error:
            log.info(
                "chat.postMessage failed in %s: %s",
                kwargs.get("channel"),
                error.response.get("error"),
            )
            return None
        return response.get("ts")

    async def _update(self, channel: str, ts: str, message: dict[str, Any]) -> None:
        try:
            await self.slack.chat_update(channel=channel, ts=ts, **message)
        except SlackApiError as error:
            log.info("chat.update failed: %s", error.response.get("error"))

    async def create(self, request: CommandRequest, draft: TaskDraft) -> Outcome:
        started = time.monotonic()
        try:
            return await self._create(request, draft, started)
        except Exception:  # a bug must not vanish silently: tell the user, log the trace
            log.exception("[%s] unexpected failure", request.correlation_id)
            await self.respond(
                request.response_url,
                {
                    "text": "Something went wrong inside the task bot; your task may not have been "
                    "created. Please tell the admin who installed it.",
                },
            )
            return Outcome(None, "response_url", "internal error")

    async def _create(self, request: CommandRequest, draft: TaskDraft, started: float) -> Outcome:
        cid = request.correlation_id
        person = await self.people.get(request.user_id)
        names = await self._names(draft)
        name = task_name(draft, names)
        parent_ts = await self._post(
            channel=request.channel_id, **render.pending_parent(request.user_id, name)
        )
        task: Task | None = None
        failure: B2CError | AssigneeError | ValueError | None = None
        details: list[tuple[str, str]] = []
        try:
            assignee = label = None
            if draft.assignee is not None:
                assignee, label = await resolve_assignee(
                    draft.assignee, b2c=self.b2c, people=self.people
                )
            origin = Origin(
                person.name if person else request.user_name or request.user_id,
                request.channel_name,
            )
            body, details = compose_task(
                draft,
                origin=origin,
                tz=person.tz if person else None,
                now=self.clock(),
                names=names,
                assignee=assignee,
                assignee_label=label,
            )
            task = await self.b2c.create_task(body)
        except (B2CError, AssigneeError, ValueError) as error:
            failure = error

        if task is not None:
            link = self.link(task.id)
            reply = render.created_reply(task, link, details)
            parent = render.created_parent(request.user_id, task, link)
        else:
            assert failure is not None
            headline, reason, hint = explain(failure)
            reply = render.failed_reply(headline, reason, hint, request.command, request.text)
            parent = render.failed_parent(request.user_id, name)

        delivered = "lost"
        if parent_ts and await self._post(channel=request.channel_id, thread_ts=parent_ts, **reply):
            delivered = "thread"
            await self._update(request.channel_id, parent_ts, parent)
        else:
            if parent_ts:
                await self._update(request.channel_id, parent_ts, parent)
            fallback = dict(reply)
            if not parent_ts:
                fallback["blocks"] = [*reply["blocks"], render.not_in_channel_hint()]
            if await self.respond(request.response_url, fallback):
                delivered = "response_url"
        log.info(
            "[%s] outcome=%s task=%s delivered=%s team=%s channel=%s user=%s ms=%d",
            cid,
            "created" if task else "failed",
            task.id if task else "-",
            delivered,
            request.team_id,
            request.channel_id,
            request.user_id,
            (time.monotonic() - started) * 1000,
        )
        if delivered == "lost":
            log.error("[%s] the result could not be delivered to Slack", cid)
        return Outcome(task, delivered, None if task else str(failure))
