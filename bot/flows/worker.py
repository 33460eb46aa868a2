"""The worker that runs acknowledged Slack requests, durably.

A handler journals the request before it acks (``accept``), then starts it (``start``). Running a
request means: claim its lease, let the acks of a burst go first, settle it (the create
procedure, ``bot.flows.procedure``), then deliver the result to Slack (``bot.flows.announce``),
which is tracked apart so that a Slack failure never leads to a second task. On start-up, and
periodically, requests nobody holds are resumed (a crash, a deploy, another instance that died);
SIGTERM hands unfinished ones back to the journal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.drafts import TaskDraft, draft_to_dict
from bot.domain.requests import TaskRequest
from bot.flows.announce import ResultDelivery
from bot.flows.failures import OutcomeUnknown
from bot.flows.procedure import CreateProcedure, Hooks, RetryPolicy
from bot.journal import Entry, Journal, LeaseLost
from bot.oracle.catalog import Catalog
from bot.oracle.client import B2CClient
from bot.oracle.lookups import Names
from bot.oracle.site import SiteLimits
from bot.oracle.staff import Staff
from bot.slack.delivery import SlackPoster, respond_via_url
from bot.slack.people import People

log = logging.getLogger(__name__)
Responder = Callable[[str, dict[str, Any]], Awaitable[bool]]
Deliverer = Callable[[Entry, TaskRequest], Awaitable[tuple[Entry, str | None]]]
ACK_PRIORITY_WAIT = 1.0  # seconds background work may wait for a burst's acks


@dataclass
class Progress:
    """When one run of a request started, for its log line."""

    started: float = field(default_factory=time.monotonic)


def outcome_of(entry: Entry) -> str:
    """How a run that settles a request ended: ``created``; ``refused`` (the content must
    change); ``failed`` (Oracle away past the retry budget); ``unknown_outcome`` (Oracle could
    not be asked whether an unanswered create went through); ``handed_over`` (still pending:
    left in the journal for a later run, after a shutdown, a lost lease or Slack away)."""
    if entry.state == "created":
        return "created"
    if entry.state == "rejected":
        return "refused"
    if entry.state == "failed":
        return "unknown_outcome" if entry.reason_kind == OutcomeUnknown.__name__ else "failed"
    return "handed_over"


class TaskCreator:
    def __init__(
        self,
        *,
        b2c: B2CClient,
        slack: AsyncWebClient,
        people: People,
        journal: Journal,
        task_url: str,
        staff: Staff,
        catalog: Catalog,
        respond: Responder = respond_via_url,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        retry: RetryPolicy,
        announce_after: float = 2.0,
        request_id_field: str | None = None,
        limits: SiteLimits | None = None,
    ) -> None:
        self.b2c = b2c
        self.slack = slack
        self.poster = SlackPoster(slack)
        self.people = people
        self.journal = journal
        self.catalog = catalog
        self.task_url = task_url
        self.respond = respond
        names = Names(b2c)  # Oracle's names for ids, shared by the procedure and the results
        self.results = ResultDelivery(
            poster=self.poster,
            respond=respond,
            catalog=self.catalog,
            link=self.link,
            names=names,
        )
        self.clock = clock
        self.limits = limits or SiteLimits()
        self.procedure = CreateProcedure(
            b2c=b2c,
            journal=journal,
            poster=self.poster,
            people=people,
            staff=staff,
            names=names,
            limits=self.limits,
            link=self.link,
            clock=clock,
            retry=retry,
            announce_after=announce_after,
            request_id_field=request_id_field,
            catalog=catalog,
        )
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
        # a kind of request whose result is told its own way (bot.workflow): (entry, request)
        # -> (the entry, how it reached Slack, or None while Slack is away)
        self.deliverers: dict[str, Deliverer] = {}
        # told how each run that settles a request ended: its kind and ``outcome_of`` it
        self.on_outcome: Callable[[str, str], None] | None = None

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
        running = self._requests.get(entry_id)
        if running is not None and not running.done():  # a sweep meets a run in progress
            return running
        correlation = None if isinstance(entry, str) else entry.request.get("correlation_id")
        job = self.spawn(self.run(entry, hooks), f"request-{entry_id[:8]}", correlation)
        self._requests[entry_id] = job

        def forget(done: asyncio.Task[Any]) -> None:
            if self._requests.get(entry_id) is done:  # (not a later run of the same request)
                del self._requests[entry_id]

        job.add_done_callback(forget)
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
            if entry_id not in self._active and entry_id not in self._requests:  # not here
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
        settling = entry.state == "pending"  # (not a delivery left over from an earlier run)
        await self.after_acks()
        progress = Progress()
        request = TaskRequest(**entry.request)
        delivery = None
        try:
            if entry.state == "pending":
                entry = await self.procedure.settle(entry, request, hooks or Hooks())
            # still pending: its message could not be read (Slack away), the sweep takes it
            # up again; there is no result to tell yet
            if entry.state != "pending" and entry.delivery == "pending":
                self.journal.holder.check()  # a process that lost its lease must not post too
                thread = (entry.composed or {}).get("thread_ts")
                if thread and request.thread_ts != thread:  # an emoji on a reply: its thread
                    request = replace(request, thread_ts=thread)
                deliver = self.deliverers.get(entry.kind, self.results.deliver)
                entry, delivery = await deliver(entry, request)
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
        except LeaseLost as lost:  # another process has it, or will: leave it to them
            log.warning(
                "[%s] stopped working on request %s: %s", request.correlation_id, entry.id, lost
            )
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
            if settling and self.on_outcome is not None:
                self.on_outcome(entry.kind, outcome_of(entry))
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
