"""Creating a task for a Slack request: the path after the ack.

For a slash command (or the form opened by one) the bot posts a task message in the channel,
whose thread holds the result and every later update; for a message shortcut it answers in that
message's thread. The task message carries the buttons that work the task. When the bot cannot
post in the conversation, the result goes to the request's ``response_url`` instead: a result is
never silently dropped. Slack, Oracle and the clock are passed in.
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
from bot.catalog import Catalog
from bot.compose import Origin, compose_task, task_name
from bot.drafts import TaskDraft
from bot.people import People
from bot.staff import IdentityError, Staff
from bot.tasks import Task

log = logging.getLogger(__name__)
Responder = Callable[[str, dict[str, Any]], Awaitable[bool]]
Failure = B2CError | IdentityError | ValueError


@dataclass(frozen=True)
class TaskRequest:
    """Who asked for a task, where, and what they typed (to give it back if it fails)."""

    user_id: str
    channel_id: str
    channel_name: str = ""
    user_name: str = ""
    team_id: str = ""
    response_url: str = ""
    command: str = "/task"
    text: str = ""
    thread_ts: str | None = None  # answer inside this thread (message shortcut)
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


CommandRequest = TaskRequest


@dataclass(frozen=True)
class Outcome:
    task: Task | None
    delivered: str  # "thread" | "response_url" | "form" | "lost"
    error: Failure | None = None


async def respond_via_url(url: str, message: dict[str, Any]) -> bool:
    """Post an ephemeral message to a request's ``response_url``; False if that failed."""
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


def explain(error: Failure) -> tuple[str, str, str]:
    """(headline, reason, what to do) for a failure, in words for a support agent."""
    if isinstance(error, IdentityError):
        return (
            "The task was not created: the assignee was not found",
            str(error),
            "Nothing was sent to Oracle. Fix the assignee and send it again.",
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
            "Check the values and send it again.",
        )
    return (
        "Oracle B2C Service did not create the task",
        error.reason,
        "Try again; if it keeps failing, tell the admin who installed the bot.",
    )


class SlackPoster:
    """chat.postMessage / chat.update that report failure instead of raising."""

    def __init__(self, slack: AsyncWebClient) -> None:
        self.slack = slack

    async def post(self, **kwargs: Any) -> str | None:
        """The posted message's ts, or None when the bot cannot post there."""
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

    async def update(self, channel: str, ts: str, message: dict[str, Any]) -> bool:
        try:
            await self.slack.chat_update(channel=channel, ts=ts, **message)
        except SlackApiError as error:
            log.info("chat.update failed: %s", error.response.get("error"))
            return False
        return True


class TaskCreator:
    """Runs task creation for acknowledged requests, in the background of the event loop."""

    def __init__(
        self,
        *,
        b2c: B2CClient,
        slack: AsyncWebClient,
        people: People,
        task_url: str,
        staff: Staff | None = None,
        catalog: Catalog | None = None,
        respond: Responder = respond_via_url,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.b2c = b2c
        self.slack = slack
        self.poster = SlackPoster(slack)
        self.people = people
        self.staff = staff or Staff(b2c, people)
        self.catalog = catalog or Catalog(b2c)
        self.task_url = task_url
        self.respond = respond
        self.clock = clock
        self._running: set[asyncio.Task[Any]] = set()

    def link(self, task_id: int) -> str:
        return self.task_url.format(site=self.b2c.site_url, id=task_id)

    def spawn(self, work: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        """Run ``work`` in the background, tracked so shutdown and tests can wait for it."""
        job = asyncio.ensure_future(work)
        job.set_name(name)
        self._running.add(job)
        job.add_done_callback(self._running.discard)
        return job

    def submit(self, request: TaskRequest, draft: TaskDraft) -> asyncio.Task[Any]:
        """Start creating the task; returns at once (the ack must not wait for Oracle)."""
        return self.spawn(self.create(request, draft), f"task-{request.correlation_id}")

    async def wait_idle(self) -> None:
        """Wait for every background job to finish (for shutdown, the demo and tests)."""
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

    async def create(
        self,
        request: TaskRequest,
        draft: TaskDraft,
        *,
        announce_first: bool = True,
        on_failure: Callable[[Failure], Awaitable[bool]] | None = None,
        on_success: Callable[[Task, str], Awaitable[None]] | None = None,
    ) -> Outcome:
        """Create the task and deliver the result. ``on_failure`` may take a failure over
        (the form shows it) by returning True; ``on_success`` hears of the created task."""
        started = time.monotonic()
        try:
            outcome = await self._create(request, draft, announce_first, on_failure, on_success)
        except Exception:  # a bug must not vanish silently: tell the user, log the trace
            log.exception("[%s] unexpected failure", request.correlation_id)
            await self.respond(
                request.response_url,
                {
                    "text": "Something went wrong inside the task bot; your task may not have been "
                    "created. Please tell the admin who installed it.",
                },
            )
            return Outcome(None, "response_url")
        task = outcome.task
        log.info(
            "[%s] outcome=%s task=%s delivered=%s team=%s channel=%s user=%s ms=%d",
            request.correlation_id,
            "created" if task else "failed",
            task.id if task else "-",
            outcome.delivered,
            request.team_id,
            request.channel_id,
            request.user_id,
            (time.monotonic() - started) * 1000,
        )
        if outcome.delivered == "lost":
            log.error("[%s] the result could not be delivered to Slack", request.correlation_id)
        return outcome

    async def _create(
        self,
        request: TaskRequest,
        draft: TaskDraft,
        announce_first: bool,
        on_failure: Callable[[Failure], Awaitable[bool]] | None,
        on_success: Callable[[Task, str], Awaitable[None]] | None,
    ) -> Outcome:
        person = await self.people.get(request.user_id)
        names = await self._names(draft)
        name = task_name(draft, names)
        parent_ts = None
        if request.thread_ts is None and announce_first:
            parent_ts = await self.poster.post(
                channel=request.channel_id, **render.pending_parent(request.user_id, name)
            )
        task: Task | None = None
        failure: Failure | None = None
        details: list[tuple[str, str]] = []
        try:
            assignee = label = None
            if draft.assignee is not None:
                assignee, label = await self.staff.resolve(draft.assignee)
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
        except (B2CError, IdentityError, ValueError) as error:
            failure = error
        if failure is not None and parent_ts is None and on_failure is not None:
            if await on_failure(failure):
                return Outcome(None, "form", failure)
        if task is not None and on_success is not None:
            await on_success(task, self.link(task.id))
        delivered = await self._deliver(request, name, parent_ts, task, details, failure)
        return Outcome(task, delivered, failure)

    async def _deliver(
        self,
        request: TaskRequest,
        name: str,
        parent_ts: str | None,
        task: Task | None,
        details: list[tuple[str, str]],
        failure: Failure | None,
    ) -> str:
        if task is not None:
            link = self.link(task.id)
            statuses = (await self.catalog.get()).get("status")
            task_message = render.created_parent(request.user_id, task, link, statuses)
            reply = render.created_reply(
                task,
                link,
                details,
                task_message["blocks"][-1] if request.thread_ts is not None else None,
            )
        else:
            assert failure is not None
            headline, reason, hint = explain(failure)
            reply = render.failed_reply(headline, reason, hint, request.command, request.text)
            task_message = render.failed_parent(request.user_id, name)

        channel = request.channel_id
        if request.thread_ts is not None:  # a shortcut: the task message is the thread reply
            if await self.poster.post(channel=channel, thread_ts=request.thread_ts, **reply):
                return "thread"
            return await self._fallback(request, reply, in_channel=False)

        if parent_ts is None:
            parent_ts = await self.poster.post(channel=channel, **task_message)
            if parent_ts is None:
                return await self._fallback(request, reply, in_channel=False)
        else:
            await self.poster.update(channel, parent_ts, task_message)
        if await self.poster.post(channel=channel, thread_ts=parent_ts, **reply):
            return "thread"
        return await self._fallback(request, reply, in_channel=True)

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
