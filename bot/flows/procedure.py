"""Creating one request's task in Oracle: its body composed once (the draft completed from
Slack, the channel's defaults, the assignee resolved, mentions named), then POSTed with bounded
retries (exponential backoff with jitter, honouring Retry-After), and the outcome recorded in the
journal. A POST whose outcome is unknown is never re-sent blindly: Oracle is first asked whether
the task exists. The task message tells the channel meanwhile when Oracle is slow or retried
(``bot.flows.announce``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_before_delay,
    wait_random_exponential,
)

from bot.domain import slack_text
from bot.domain.defaults import hint as defaults_hint
from bot.domain.defaults import merge as merge_defaults
from bot.domain.drafts import SlackUser, TaskDraft, draft_from_dict
from bot.domain.requests import TaskRequest
from bot.domain.tasks import Task
from bot.flows.announce import Announcement
from bot.flows.compose import Origin, compose_task, task_name
from bot.flows.failures import Failure, OutcomeUnknown, RetriesExhausted, explain, kind_of
from bot.journal import Entry, Journal
from bot.oracle import lookups, roql
from bot.oracle.catalog import ATTRIBUTES, Catalog, resolve_named, unknown_field
from bot.oracle.client import B2CClient
from bot.oracle.errors import B2CConnectionError, B2CError
from bot.oracle.lookups import Names
from bot.oracle.site import SiteLimits
from bot.oracle.staff import IdentityError, Staff
from bot.slack.delivery import SlackPoster, SlackUnavailable
from bot.slack.people import People

log = logging.getLogger(__name__)
# (kind, request, draft) -> the draft completed from Slack, and the thread to answer in
Preparer = Callable[[str, TaskRequest, TaskDraft], Awaitable[tuple[TaskDraft, str | None]]]
# (the form shows them pre-filled instead; a workflow step takes its channel's)
DEFAULTS_APPLY_TO = ("command", "reaction", "workflow")
CLOCK_SKEW = 300.0
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


def _retryable(error: BaseException) -> bool:
    return isinstance(error, B2CError) and error.retryable


class CreateProcedure:
    def __init__(
        self,
        *,
        b2c: B2CClient,
        journal: Journal,
        poster: SlackPoster,
        people: People,
        staff: Staff,
        names: Names,
        limits: SiteLimits,
        link: Callable[[int], str],
        clock: Callable[[], datetime],
        retry: RetryPolicy,
        announce_after: float,
        request_id_field: str | None,
        catalog: Catalog | None = None,
    ) -> None:
        self.b2c = b2c
        self.catalog = catalog  # the site's named values: names checked and sent as ids
        self.journal = journal
        self.poster = poster
        self.people = people
        self.staff = staff
        self.names = names
        self.limits = limits
        self.link = link
        self.clock = clock
        self.retry_policy = retry
        # seconds Oracle may take over a POST before a "creating…" message is posted
        self.announce_after = announce_after
        # a task custom field that receives each request's id: an exact no-duplicate check
        self.request_id_field = request_id_field
        # what a request's draft still needs from Slack (an emoji's message, a whole thread)
        # and its channel's defaults (bot.home), applied when the task is composed
        self.prepare: Preparer | None = None
        self.channel_defaults: Callable[[str], Awaitable[dict[str, Any]]] | None = None

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
        typed = draft
        if self.channel_defaults is not None and entry.kind in DEFAULTS_APPLY_TO:
            draft = merge_defaults(draft, await self.channel_defaults(request.channel_id))
        from_defaults = sorted(
            f.name
            for f in fields(TaskDraft)
            if getattr(typed, f.name) is None and getattr(draft, f.name) is not None
        )
        draft = await self._named(draft, from_defaults, request.command)
        if draft.contact_email is not None:
            draft = await self._contact_by_email(draft, draft.contact_email)
        person = await self.people.get(request.user_id) if request.user_id else None
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
        if request.channel_id:  # (a workflow step's run may post nowhere: no thread to name)
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
        if from_defaults:  # for a refusal: the channel's defaults may be why
            composed["defaults"] = defaults_hint(from_defaults, request.command)
        return composed

    async def _named(self, draft: TaskDraft, from_defaults: list[str], command: str) -> TaskDraft:
        """The draft's named values (priority, status, type, template) checked against the
        site's, and sent as ids (Oracle matches a name exactly; people type ``high``). The site's
        values are loaded only for a draft that names one (cached for every later one)."""
        if self.catalog is None or all(
            getattr(draft, attribute) is None for attribute in ATTRIBUTES.values()
        ):
            return draft
        values = await self.catalog.get()
        unknown = unknown_field(draft, values)
        if unknown is not None:
            attribute, problem = unknown
            if attribute in from_defaults:
                problem += " " + defaults_hint([attribute], command)
            raise ValueError(problem)
        return resolve_named(draft, values)

    async def _contact_by_email(self, draft: TaskDraft, email: str) -> TaskDraft:
        """The draft with the contact given by e-mail as its id: the one contact with it."""
        found = await lookups.contact_by_email(self.b2c, email)
        if found is None:
            raise ValueError(
                f"No single contact in B2C Service has the e-mail {email} (none, or several): "
                "give the contact's ID instead."
            )
        return replace(draft, contact=int(found.value), contact_email=None)

    async def settle(self, entry: Entry, request: TaskRequest, hooks: Hooks) -> Entry:
        """Compose the request's body once, create its task, record the outcome."""
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
            self._create_with_retries(entry, composed, request, announce, sending)
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
        headline, reason, hint = explain(error)
        defaults = (entry.composed or {}).get("defaults")
        if kind == "rejected" and defaults and isinstance(error, B2CError):
            hint = f"{hint} {defaults}"  # Oracle refused what they filled in, perhaps
        entry = await self.journal.mark_unsettled(
            entry, kind, json.dumps((headline, reason, hint)), type(error).__name__
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
