"""Creating tasks for acknowledged Slack requests, durably.

A handler journals the request before it acks (``accept``), then starts it (``start``). Running a
request means: claim its lease, post the task message (slash commands), compose the Oracle body
once, POST it with bounded retries (exponential backoff with jitter, honouring Retry-After), and
record the outcome; then deliver the result to Slack, which is tracked apart so that a Slack
failure never leads to a second task. A POST whose outcome is unknown is never re-sent blindly:
Oracle is first asked whether the task exists. On start-up, and periodically, requests nobody
holds are resumed (a crash, a deploy, another instance that died).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_before_delay,
    wait_random_exponential,
)

from bot.domain import slack_text
from bot.domain.defaults import merge as merge_defaults
from bot.domain.drafts import SlackUser, TaskDraft, draft_from_dict, draft_to_dict
from bot.domain.requests import TaskRequest
from bot.domain.tasks import Task
from bot.flows.announce import Announcement, ResultDelivery
from bot.flows.compose import Origin, compose_task, task_name
from bot.flows.failures import Failure, OutcomeUnknown, RetriesExhausted, explain, kind_of
from bot.journal import Entry, Journal, LeaseLost
from bot.oracle import roql
from bot.oracle.catalog import Catalog
from bot.oracle.client import B2CClient
from bot.oracle.errors import B2CConnectionError, B2CError
from bot.oracle.lookups import Names
from bot.oracle.site import SiteLimits
from bot.oracle.staff import IdentityError, Staff
from bot.slack.delivery import SlackPoster, SlackUnavailable, respond_via_url
from bot.slack.people import People

log = logging.getLogger(__name__)
Responder = Callable[[str, dict[str, Any]], Awaitable[bool]]
# (kind, request, draft) -> the draft completed from Slack, and the thread to answer in
Preparer = Callable[[str, TaskRequest, TaskDraft], Awaitable[tuple[TaskDraft, str | None]]]
DEFAULTS_APPLY_TO = ("command", "reaction")  # the form shows them pre-filled instead
CLOCK_SKEW = 300.0
ACK_PRIORITY_WAIT = 1.0  # seconds background work may wait for a burst's acks
IN_FLIGHT_MARGIN = 1.0  # seconds past B2C_TIMEOUT an abandoned POST is given to land
IN_FLIGHT_LOOK = 1.0  # seconds between looks for the task of such a POST
SLACK_AWAY_WAIT = 5.0  # seconds a request waits when Slack will not show its message


@dataclass
class Hooks:
    """In-process listeners of one request (the form that is waiting for it)."""

    on_rejected: Callable[[Failure], Awaitable[bool]] | None = None  # True: the form showed it
    on_created: Callable[[Task, str], Awaitable[None]] | None = None


@dataclass(frozen=True)
class RetryPolicy:
    budget: float = 120.0  # seconds of retrying before the request is reported as failed
    min_wait: float = 0.5
    max_wait: float = 10.0


@dataclass
class Progress:
    """When one run of a request started, for its log line."""

    started: float = field(default_factory=time.monotonic)


def _retryable(error: BaseException) -> bool:
    return isinstance(error, B2CError) and error.retryable


class TaskCreator:
    def __init__(
        self,
        *,
        b2c: B2CClient,
        slack: AsyncWebClient,
        people: People,
        journal: Journal,
        task_url: str,
        staff: Staff | None = None,
        catalog: Catalog | None = None,
        respond: Responder = respond_via_url,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        retry: RetryPolicy = RetryPolicy(),
        announce_after: float = 2.0,
        request_id_field: str | None = None,
        limits: SiteLimits | None = None,
    ) -> None:
        self.b2c = b2c
        self.slack = slack
        self.poster = SlackPoster(slack)
        self.people = people
        self.journal = journal
        self.staff = staff or Staff(b2c, people)
        self.catalog = catalog or Catalog(b2c)
        self.task_url = task_url
        self.respond = respond
        self.names = Names(b2c)
        self.results = ResultDelivery(
            poster=self.poster,
            respond=respond,
            catalog=self.catalog,
            link=self.link,
            names=self.names,
            clock=clock,
        )
        self.clock = clock
        self.retry_policy = retry
        # a task custom field that receives each request's id: an exact no-duplicate check
        self.request_id_field = request_id_field
        self.limits = limits or SiteLimits()
        # seconds Oracle may take over a POST before a "creating…" message is posted
        self.announce_after = announce_after
        self._running: set[asyncio.Task[Any]] = set()
        self._requests: dict[str, asyncio.Task[Any]] = {}  # request id -> its run here
        self._active: set[str] = set()
        self._acking = 0  # Slack requests being acknowledged right now
        self._quiet = asyncio.Event()
        self._quiet.set()
        self.stopping = False
        journal.holder.on_lost.append(self._leases_lost)
        # called with (entry, request) once a created task is in its thread (bot.sync), and
        # to tell its assignee (bot.home.notify)
        self.tracker: Callable[[Entry, TaskRequest], Awaitable[None]] | None = None
        self.on_delivered: list[Callable[[Entry, TaskRequest], Awaitable[None]]] = []
        # what a request's draft still needs from Slack (an emoji's message, a whole thread)
        # and its channel's defaults (bot.home), applied when the task is composed
        self.prepare: Preparer | None = None
        self.channel_defaults: Callable[[str], Awaitable[dict[str, Any]]] | None = None

    # ------------------------------------------------------------------ acks before work
    def ack_started(self) -> None:
        self._acking += 1
        self._quiet.clear()

    def ack_finished(self) -> None:
        self._acking = max(0, self._acking - 1)
        if self._acking == 0:
            # not at once: requests that arrived with this one have handlers already scheduled
            # but not yet started; let them count themselves in first
            asyncio.get_running_loop().call_soon(self._quiet_if_idle)

    def _quiet_if_idle(self) -> None:
        if self._acking == 0:
            self._quiet.set()

    async def after_acks(self) -> None:
        """Let the acks of a burst go first: Slack drops a request not acked in 3 s, while
        background work can wait. Bounded, so a steady stream cannot starve the work."""
        if not self._quiet.is_set():
            try:  # (asyncio.timeout: wait_for on 3.11 can swallow a cancellation)
                async with asyncio.timeout(ACK_PRIORITY_WAIT):
                    await self._quiet.wait()
            except TimeoutError:
                pass

    # ------------------------------------------------------------------ plumbing
    def link(self, task_id: int) -> str:
        return self.task_url.format(site=self.b2c.site_url, id=task_id)

    def spawn(
        self, work: Awaitable[Any], name: str, correlation_id: str | None = None
    ) -> asyncio.Task[Any]:
        """Run ``work`` in the background, tracked so shutdown and tests can wait for it; a
        failure is logged once, with the correlation id (asyncio would otherwise print "Task
        exception was never retrieved" at some later garbage collection)."""
        job = asyncio.ensure_future(work)
        job.set_name(name)
        self._running.add(job)

        def finished(done: asyncio.Future[Any]) -> None:
            self._running.discard(done)  # type: ignore[arg-type]
            if done.cancelled() or done.exception() is None:
                return
            error = done.exception()
            log.error(
                "background work %s failed: %s",
                name,
                type(error).__name__,
                exc_info=error,
                extra={"event": "background_failure", "correlation_id": correlation_id},
            )

        job.add_done_callback(finished)
        return job

    async def wait_idle(self) -> None:
        """Wait for every background job to finish (for shutdown, the demo and tests)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    # ------------------------------------------------------------------ taking requests
    async def accept(
        self, request: TaskRequest, draft: TaskDraft, *, kind: str, dedupe_key: str
    ) -> Entry | None:
        """Journal a request (before the ack). None when it was already journaled."""
        return await self.journal.add(
            dedupe_key=dedupe_key,
            kind=kind,
            request=dict(vars(request)),  # flat fields: cheaper than asdict
            draft=draft_to_dict(draft),
        )

    def start(self, entry: Entry | str, hooks: Hooks | None = None) -> asyncio.Task[Any]:
        """Run a request in the background: one this process journaled (it holds the lease
        already) or, by id, one to claim first."""
        entry_id = entry if isinstance(entry, str) else entry.id
        correlation = None if isinstance(entry, str) else entry.request.get("correlation_id")
        job = self.spawn(self.run(entry, hooks), f"request-{entry_id[:8]}", correlation)
        self._requests[entry_id] = job
        job.add_done_callback(lambda _: self._requests.pop(entry_id, None))
        return job

    def _leases_lost(self) -> None:
        """The journal's database is away (our heartbeat is overdue): other processes may take
        our requests any moment, so stop working on them now (nothing is lost: each stays in
        the journal, and an unanswered POST is looked for before any other is sent)."""
        for job in list(self._requests.values()):
            job.cancel()

    async def stop(self, grace: float) -> None:
        """SIGTERM: take no new work, let what can finish within ``grace`` seconds finish, and
        stop the rest, whose leases go back at once (``run`` releases each as it stops)."""
        self.stopping = True
        jobs = list(self._running)
        if not jobs:
            return
        _done, pending = await asyncio.wait(jobs, timeout=grace)
        for job in pending:
            job.cancel()
        released = sum(1 for job in pending if job in self._requests.values())
        if released:
            log.info(
                "stopping: %d request(s) handed back to the journal for another process",
                released,
                extra={"event": "requests_released", "count": released},
            )
        if pending:
            await asyncio.wait(pending, timeout=5)

    async def resume(self) -> int:
        """Start every request that no live process holds and that still needs work."""
        if self.stopping or not self.journal.alive():
            return 0
        started = 0
        for entry_id in await self.journal.unsettled():
            if entry_id not in self._active:
                self.start(entry_id)
                started += 1
        if started:
            log.info("resuming %d journaled request(s)", started)
        return started

    async def retry(self, entry_id: str) -> bool:
        """The Retry button: a failed request runs again (once, however often it is pressed)."""
        if not await self.journal.reopen(entry_id):
            return False
        self.start(entry_id)
        return True

    # ------------------------------------------------------------------ running one
    async def run(self, entry: Entry | str, hooks: Hooks | None = None) -> Entry | None:
        entry_id = entry if isinstance(entry, str) else entry.id
        if entry_id in self._active:  # this process runs it already
            return None
        self._active.add(entry_id)  # before any await: two runs here must not both claim
        if isinstance(entry, str):
            try:
                claimed = await self.journal.claim(entry_id)
            except BaseException:
                self._active.discard(entry_id)
                raise
            if claimed is None:
                self._active.discard(entry_id)
                return None  # another process holds it, or it is settled
            entry = claimed
        await self.after_acks()
        progress = Progress()
        request = TaskRequest(**entry.request)
        delivery = None
        try:
            if entry.state == "pending":
                entry = await self._settle(entry, request, hooks or Hooks(), progress)
            if entry.delivery == "pending":
                self.journal.holder.check()  # a process that lost its lease must not post too
                thread = (entry.composed or {}).get("thread_ts")
                if thread and request.thread_ts != thread:  # an emoji on a reply: its thread
                    request = replace(request, thread_ts=thread)
                entry, delivery = await self.results.deliver(entry, request)
                await self.results.confirm_privately(entry, request)
                if delivery == "thread" and self.tracker is not None:
                    try:  # the thread follows the task from now on (bot.sync)
                        await self.tracker(entry, request)
                    except Exception:
                        log.exception("[%s] could not follow the task", request.correlation_id)
                if delivery is not None and entry.task_id is not None:
                    for listener in self.on_delivered:
                        try:  # its assignee is told (bot.home.notify)
                            await listener(entry, request)
                        except Exception:
                            log.exception("[%s] after delivery", request.correlation_id)
            else:
                delivery = entry.delivery
        except LeaseLost as lost:  # another process has it, or will: leave it to them
            log.warning(
                "[%s] stopped working on request %s: %s", request.correlation_id, entry.id, lost
            )
            self._active.discard(entry_id)
            return None
        except Exception:  # a bug must not vanish silently: keep the request, say so, log it
            log.exception("[%s] unexpected failure", request.correlation_id)
            await self.respond(
                request.response_url,
                {
                    "text": "Something went wrong inside the task bot; your request is kept and "
                    "will be tried again. If this repeats, tell the admin who installed it."
                },
            )
        finally:
            self._active.discard(entry_id)
            if self.journal.alive():  # else the database is away: the lease expires by itself
                entry = await self.journal.finish(entry, delivery)
        self._log_outcome(entry, request, progress)
        return entry

    def _log_outcome(self, entry: Entry, request: TaskRequest, progress: Progress) -> None:
        log.info(
            "request %s: %s, delivery %s",
            request.correlation_id,
            entry.state,
            entry.delivery,
            extra={
                "event": "task_request",
                "correlation_id": request.correlation_id,
                "request_id": entry.id,
                "team_id": request.team_id,
                "channel_id": request.channel_id,
                "user_id": request.user_id,
                "kind": entry.kind,
                "state": entry.state,
                "delivery": entry.delivery,
                "task_id": entry.task_id,
                "attempts": entry.attempts,
                "run_ms": round((time.monotonic() - progress.started) * 1000, 1),
                "age_ms": round((time.time() - entry.created_at) * 1000, 1),
                "reason_kind": entry.reason_kind,
            },
        )

    async def _names(self, draft: TaskDraft) -> dict[str, str]:
        ids = slack_text.unnamed_user_ids(draft.name + " " + (draft.note or ""))
        names: dict[str, str] = {}
        for user_id in dict.fromkeys(ids):
            person = await self.people.get(user_id)
            if person is not None:
                names[user_id] = person.name
        return names

    async def _compose(self, entry: Entry, request: TaskRequest) -> dict[str, Any]:
        draft = draft_from_dict(entry.draft)
        thread = None
        if self.prepare is not None:
            draft, thread = await self.prepare(entry.kind, request, draft)
        if self.channel_defaults is not None and entry.kind in DEFAULTS_APPLY_TO:
            draft = merge_defaults(draft, await self.channel_defaults(request.channel_id))
        person = await self.people.get(request.user_id)
        names = await self._names(draft)
        assignee = label = None
        if draft.assignee is not None:
            assignee, label = await self.staff.resolve(draft.assignee)
        origin = Origin(
            person.name if person else request.user_name or request.user_id, request.channel_name
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
        name = task_name(draft, names)
        problem = self.limits.name_problem(name)
        if problem is not None:  # mentions in the name made it longer than it was typed
            raise ValueError(problem)
        payload = body.body()
        # for the private confirmation once the task exists: its dates in the requester's zone
        confirm = {
            "due": body.due_time.isoformat() if body.due_time else None,
            "start": body.start_time.isoformat() if body.start_time else None,
            "tz": person.tz if person else None,
            "asked": self.clock().isoformat(),
        }
        if self.request_id_field:
            payload["customFields"] = {"c": {self.request_id_field: entry.id}}
        # what the thread shows by Oracle's name: detail label -> (table, id), each name looked
        # up now, beside the create rather than before it
        refs: dict[str, tuple[str, int]] = {}
        if draft.contact is not None:
            refs["Contact"] = ("contacts", draft.contact)
        if draft.organization is not None and draft.organization.id is not None:
            refs["Organization"] = ("organizations", draft.organization.id)
        if (
            assignee is not None
            and assignee.id is not None
            and not isinstance(draft.assignee, SlackUser)
        ):  # a Slack user is shown by their Slack name
            refs["Assigned to"] = ("accounts", assignee.id)
        for table, record_id in refs.values():
            self.names.prefetch(table, record_id)
        composed = {
            "name": name,
            "body": payload,
            "details": details,
            "refs": refs,
            "confirm": confirm,
        }
        if thread is not None:
            composed["thread_ts"] = thread
        return composed

    async def _settle(
        self, entry: Entry, request: TaskRequest, hooks: Hooks, progress: Progress
    ) -> Entry:
        composed = entry.composed
        if composed is None:
            try:
                composed = await self._compose(entry, request)
            except (IdentityError, ValueError) as error:
                return await self._unsettle(entry, error, hooks)
            except SlackUnavailable as error:  # the message it is made from, unreadable now
                log.warning(
                    "[%s] Slack is not answering (%s): the request is kept and tried again",
                    request.correlation_id,
                    error,
                )
                await asyncio.sleep(SLACK_AWAY_WAIT)  # (the sweep takes it up after this)
                return entry
        entry = replace(entry, composed=composed)
        announce = Announcement(self.poster, self.journal, entry, request, composed["name"])
        sending = _Sending()
        creation = asyncio.ensure_future(
            self._create_with_retries(entry, composed, request, announce, progress, sending)
        )
        if entry.kind == "command" and announce.ts is None:
            await self._announce_if_slow(creation, sending, announce)
        try:
            entry, task = await creation
        except (B2CError, RetriesExhausted, OutcomeUnknown) as error:
            return await self._unsettle(replace(entry, parent_ts=announce.ts), error, hooks)
        entry = await self.journal.mark_created(
            replace(entry, parent_ts=announce.ts),
            task.id,
            task.model_dump(mode="json", by_alias=True),
        )
        if hooks.on_created is not None:
            await hooks.on_created(task, self.link(task.id))
        return entry

    async def _announce_if_slow(
        self, creation: asyncio.Future[Any], sending: _Sending, announce: Announcement
    ) -> None:
        """Oracle usually answers quickly: then the task message is posted once, complete. If
        Oracle is slow (``announce_after`` seconds), the channel sees meanwhile that the task is
        on its way. A request queued for a slot (a burst behind B2C_MAX_CONCURRENCY) while
        Oracle answers quickly gets no such message until its own POST has been out that long:
        a message each would only compete with the results for the channel's rate limit (about
        one a second), and cost the bot a Slack call and an update each."""
        done, _ = await asyncio.wait({creation}, timeout=self.announce_after)
        if done:
            return
        if sending.at is not None:  # our POST is out: Oracle's time counts from when it left
            remaining = sending.at + self.announce_after - time.monotonic()
        elif self.b2c.slowest_call() >= self.announce_after:  # queued behind slow calls
            remaining = 0.0
        else:  # queued behind calls Oracle answers quickly
            leaving = asyncio.ensure_future(sending.event.wait())
            try:
                await asyncio.wait({creation, leaving}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                leaving.cancel()
            remaining = self.announce_after
        if creation.done():
            return
        if remaining > 0:
            done, _ = await asyncio.wait({creation}, timeout=remaining)
            if done:
                return
        await announce.pending()

    async def _unsettle(
        self, entry: Entry, error: Failure | RetriesExhausted | OutcomeUnknown, hooks: Hooks
    ) -> Entry:
        kind = kind_of(error)
        entry = await self.journal.mark_unsettled(
            entry, kind, json.dumps(explain(error)), type(error).__name__
        )
        if (
            kind == "rejected"
            and hooks.on_rejected is not None
            and isinstance(error, B2CError | IdentityError | ValueError)
            and await hooks.on_rejected(error)
        ):
            entry = await self.journal.finish(entry, "form")
        return entry

    def _wait(self, state: RetryCallState) -> float:
        policy = self.retry_policy
        backoff = wait_random_exponential(multiplier=policy.min_wait, max=policy.max_wait)(state)
        error = state.outcome.exception() if state.outcome else None
        hinted = getattr(error, "retry_after", None) or 0.0
        return max(backoff, min(hinted, policy.budget))

    async def _create_with_retries(
        self,
        entry: Entry,
        composed: dict[str, Any],
        request: TaskRequest,
        announce: Announcement,
        progress: Progress,
        on_send: Callable[[], None] | None = None,
    ) -> tuple[Entry, Task]:
        since = entry.first_attempt_at
        if entry.attempts > 0 and since is not None:  # an earlier run may have created it
            existing = await self._find_existing(composed, since)
            if existing is None and entry.post_age is not None:
                # a process died (or stopped) with a POST in flight: Oracle may still be working
                # on it, up to B2C_TIMEOUT after it left. Keep looking (every second: Oracle
                # usually finishes in one or two) until that has passed, rather than send a
                # second POST that could make a second task
                closes = time.monotonic() + self.b2c.timeout + IN_FLIGHT_MARGIN - entry.post_age
                if closes > time.monotonic():
                    log.info(
                        "[%s] an earlier POST may still be in flight: looking for its task "
                        "for up to %.1f s before sending again",
                        request.correlation_id,
                        closes - time.monotonic(),
                    )
                while existing is None and time.monotonic() < closes:
                    await asyncio.sleep(min(IN_FLIGHT_LOOK, closes - time.monotonic()))
                    existing = await self._find_existing(composed, since)
            if existing is not None:
                return entry, existing
        told = False

        async def before_sleep(state: RetryCallState) -> None:
            nonlocal told
            if not told and entry.kind == "command":
                told = True
                await announce.retrying()

        retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable),
            wait=self._wait,
            stop=stop_before_delay(self.retry_policy.budget),
            before_sleep=before_sleep,
            reraise=True,
        )
        unknown = False  # did an earlier attempt of this run end without an answer?
        try:
            async for attempt in retrying:
                with attempt:
                    if unknown:  # it may have gone through meanwhile: look before re-sending
                        existing = await self._find_existing(composed, since or time.time())
                        if existing is not None:
                            return entry, existing

                    async def leaving() -> None:
                        # recorded once a slot is free and just before the POST leaves, so that
                        # a POST marked in flight in the journal is one Oracle may really have
                        nonlocal entry, since
                        entry = await self.journal.record_attempt(entry, composed=composed)
                        since = entry.first_attempt_at
                        if on_send is not None:
                            on_send()

                    try:
                        task = await self.b2c.create_task(composed["body"], on_send=leaving)
                        return entry, task
                    except B2CConnectionError as error:
                        unknown = unknown or error.sent
                        if not error.sent:
                            raise
                        existing = await self._find_existing(composed, since or time.time())
                        if existing is not None:
                            return entry, existing
                        raise
        except B2CError as error:
            if error.retryable:
                raise RetriesExhausted(error, entry.attempts) from None
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _find_existing(self, composed: dict[str, Any], since: float) -> Task | None:
        """The task an earlier attempt created, if any: the check that makes an unknown outcome
        safe to retry. With B2C_REQUEST_ID_FIELD, the task holding this request's id (exact);
        otherwise a task with this name (and contact) created since the first attempt. Limit of
        the latter: a same-named task created by someone else in that window would be taken for
        ours (see README)."""
        body = composed["body"]
        request_id = ((body.get("customFields") or {}).get("c") or {}).get(self.request_id_field)
        if self.request_id_field and request_id:  # exact, whoever else creates tasks
            query = roql.task_by_request_id(self.request_id_field, request_id)
        else:
            moment = datetime.fromtimestamp(since - CLOCK_SKEW, UTC)
            contact = (body.get("contact") or {}).get("id")
            query = roql.task_by_name_since(
                body["name"], moment, int(contact) if contact is not None else None
            )
        try:
            ids = await self.b2c.query_one_column(query)
        except B2CError as error:
            if error.retryable:
                raise
            raise OutcomeUnknown(error) from None
        if not ids:
            return None
        log.info("found the task an earlier attempt created: %s", max(ids, key=int))
        return await self.b2c.get_task(int(max(ids, key=int)))


class _Sending:
    """Called when a request's POST leaves (after waiting for a slot): when, and an event."""

    def __init__(self) -> None:
        self.at: float | None = None
        self.event = asyncio.Event()

    def __call__(self) -> None:
        if self.at is None:
            self.at = time.monotonic()
        self.event.set()
