"""The app factory: settings in, a wired Bolt app (and the clients it owns) out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field

import aiohttp
import httpx
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot import logs
from bot.command_route import CommandRoute
from bot.flows.forms import TaskForms
from bot.flows.lookup import TaskLookup
from bot.flows.note_form import NoteForm
from bot.flows.procedure import RetryPolicy
from bot.flows.site_values import SiteValues
from bot.flows.task_work import TaskWork
from bot.flows.worker import Responder, TaskCreator
from bot.home.defaults import ChannelDefaults
from bot.home.digest import DIGEST_BUCKET, Digests
from bot.home.features import Home
from bot.home.notify import Assignments
from bot.home.pace import SlackPace
from bot.home.reactions import ReactionTasks
from bot.home.scopes import features_off, granted
from bot.home.sources import MessageSource
from bot.home.store import HomeStore
from bot.home.tab import HomeTab
from bot.home.tools import Tools
from bot.home.unfurl import Unfurls, link_pattern
from bot.journal import Journal
from bot.metrics import Metrics
from bot.oracle.catalog import Catalog
from bot.oracle.client import B2CClient, TokenAuth
from bot.oracle.staff import Staff
from bot.settings import Mode, Settings
from bot.slack.access import Gate
from bot.slack.connect import Organizations, SharedChannels, SlackConnect
from bot.slack.delivery import ResponseUrl
from bot.slack.people import People
from bot.slack.watch import CallWatcher
from bot.standins import sandbox as sandbox_module
from bot.standins.sandbox import B2CSandbox
from bot.subscriptions.commands import SubscriptionCommands
from bot.subscriptions.feed import SubscriptionFeed
from bot.subscriptions.store import SubscriptionStore
from bot.sync.poller import SyncPoller
from bot.sync.replies import ThreadNotes
from bot.sync.store import SyncStore
from bot.workflow.finish import StepFinisher
from bot.workflow.step import KIND, WorkflowStep
from bot.workflow.store import StepRuns


class _TokenFromClient(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself and, since the bot hands it a
    client built with that very token, warns at every start that the token "will be unused".
    The token is used (by the client); the warning only alarms admins."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.AsyncApp").addFilter(_TokenFromClient())
logs.mask_token_forms()  # a workflow token in a library's debug line (bot.logs)


@dataclass
class Runtime:
    """Everything a running bot owns; ``close()`` releases it."""

    app: AsyncApp
    creator: TaskCreator
    b2c: B2CClient
    journal: Journal
    sweep_interval: float = 1.0
    retention_days: float = 30.0
    shutdown_grace: float = 5.0
    sandbox: B2CSandbox | None = None
    sync: SyncPoller | None = None  # synced threads (B2C_SYNC_INTERVAL > 0)
    notes: ThreadNotes | None = None  # replies in those threads, as notes
    sync_interval: float = 15.0
    commands: CommandRoute | None = None  # HTTP mode: slash commands without Bolt's dispatch
    home: Home | None = None  # the Home tab, direct messages, previews, defaults, emoji tasks
    step: WorkflowStep | None = None  # the Workflow Builder step
    metrics: Metrics = field(default_factory=Metrics)  # GET /metrics

    async def health(self) -> dict[str, object]:
        """Whether the journal's database and Oracle answer (each at most 3 seconds)."""

        async def probe(check: Awaitable[object]) -> dict[str, object]:
            try:
                async with asyncio.timeout(3.0):
                    await check
            except Exception as error:  # any failure is the answer here
                return {"ok": False, "error": type(error).__name__}
            return {"ok": True}

        database, oracle = await asyncio.gather(
            probe(self.journal.ping()), probe(self.b2c.named_ids("priority"))
        )
        return {"database": database, "oracle": oracle}

    async def close(self) -> None:
        """Stop: what finishes within ``shutdown_grace`` seconds finishes, the rest goes back
        to the journal for another process; then everything is released."""
        await self.creator.stop(self.shutdown_grace)
        await self.creator.wait_idle()
        await self.b2c.aclose()
        if self.creator.slack.session is not None:
            await self.creator.slack.session.close()
        await self.journal.close()
        if self.sandbox is not None:
            await self.sandbox.stop()


def b2c_auth(settings: Settings) -> httpx.Auth:
    if settings.b2c_oauth_token is not None:
        return TokenAuth("Bearer", settings.b2c_oauth_token.get_secret_value())
    if settings.b2c_session_token is not None:
        return TokenAuth("Session", settings.b2c_session_token.get_secret_value())
    assert settings.b2c_username and settings.b2c_password
    return httpx.BasicAuth(settings.b2c_username, settings.b2c_password.get_secret_value())


def slack_client(settings: Settings, watch: CallWatcher | None = None) -> AsyncWebClient:
    """One client over one shared aiohttp session: slack_sdk otherwise opens a new session
    (and connection) for every call. ``watch``: told of every call (``bot.slack.watch``)."""
    assert settings.slack_bot_token is not None
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        session=aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)),
        retry_handlers=[
            *([watch] if watch is not None else []),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


async def build_runtime(
    settings: Settings,
    mode: Mode,
    *,
    use_sandbox: bool = False,
    respond: Responder | None = None,
    scopes: set[str] | None = None,
) -> Runtime:
    """Wire the app. With ``use_sandbox`` an embedded B2C sandbox is started and used;
    ``respond``: how to answer a ``response_url`` (Slack's, counted, unless given);
    ``scopes``: the bot token's, when the caller has asked Slack already (else asked here)."""
    metrics = Metrics()
    respond = respond or ResponseUrl(metrics.slack_call)
    sandbox = None
    if use_sandbox:
        sandbox = B2CSandbox()
        sandbox.seed_tasks()  # so that /task show 12 and /task mine have something to show
        site = await sandbox.start()
        auth: httpx.Auth = httpx.BasicAuth(sandbox_module.USERNAME, sandbox_module.PASSWORD)
    else:
        assert settings.b2c_site_url
        site, auth = settings.b2c_site_url, b2c_auth(settings)
    b2c = B2CClient(
        site,
        auth=auth,
        app_context=settings.b2c_app_context,
        timeout=settings.b2c_timeout,
        max_concurrency=settings.b2c_max_concurrency,
    )
    b2c.observe = metrics.oracle_call
    journal = await Journal.open(settings.journal_url, heartbeat=settings.journal_heartbeat)
    client = slack_client(settings, CallWatcher(metrics.slack_call))
    secret = settings.slack_signing_secret
    app = AsyncApp(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        request_verification_enabled=mode is not Mode.SOCKET,
        # the Events API (replies in task threads): Slack checks the URL with a challenge
        url_verification_enabled=True,
        ignoring_self_events_enabled=False,
        # listeners ack and hand slow work to background tasks themselves; this sends the ack
        # as soon as the listener returns, instead of Bolt polling for it every 10 ms
        process_before_response=True,
    )
    people = People(client)
    orgs = Organizations(client)
    await orgs.learn()  # which organization installed the bot (auth.test, once)
    connect = SlackConnect(
        orgs, SharedChannels(client, opened=settings.open_shared_channels), people
    )
    staff = Staff(b2c, people)
    catalog = Catalog(b2c)
    creator = TaskCreator(
        b2c=b2c,
        slack=client,
        people=people,
        staff=staff,
        catalog=catalog,
        journal=journal,
        task_url=settings.b2c_task_url,
        respond=respond,
        retry=RetryPolicy(budget=settings.b2c_retry_budget),
        request_id_field=settings.b2c_request_id_field,
    )
    creator.on_outcome = metrics.request_ended
    work = TaskWork(
        b2c=b2c,
        poster=creator.poster,
        catalog=catalog,
        staff=staff,
        link=creator.link,
        people=people,
        completed_status=settings.b2c_completed_status,
        buttons_for=settings.task_buttons_for,
    )
    sync = notes = None
    if settings.b2c_sync_interval > 0:
        store = SyncStore(journal)
        await store.create()
        sync = SyncPoller(
            b2c=b2c, store=store, poster=creator.poster, catalog=catalog, link=creator.link
        )
        creator.tracker = sync.track_created
        sync.on_round, sync.on_told = metrics.sync_round, metrics.sync_told
        work.sync = sync
        notes = ThreadNotes(
            journal=journal, store=store, sync=sync, b2c=b2c, poster=creator.poster, people=people
        )
        await notes.create()
    lookup = TaskLookup(b2c=b2c, staff=staff, link=creator.link)
    forms = TaskForms(slack=client, creator=creator)
    note_form = NoteForm(slack=client, work=work, spawn=creator.spawn)
    channels, users, usergroups = settings.access
    gate = Gate(client, channels=channels, users=users, usergroups=usergroups)
    if scopes is None:
        scopes = await granted(client)
    home = await build_home(settings, client, creator, work, sync, gate, people, staff, scopes)
    forms.whole_thread = "whole_thread" not in home.off
    creator.results.restricted = connect.restricted
    if sync is not None:
        sync.restricted = connect.restricted
    if home.unfurls is not None:
        home.unfurls.restricted = connect.restricted
    subscriptions = None
    if sync is not None and settings.task_subscriptions:  # they ride on the sync's poll
        subscriptions = await build_subscriptions(creator, work, sync, gate, home, staff, connect)
    step = await build_step(settings, creator, gate)
    listener, fast_events = handlers.register(
        app,
        creator,
        forms,
        note_form,
        work,
        lookup,
        gate,
        notes,
        home,
        connect,
        subscriptions,
        step,
    )
    return Runtime(
        app=app,
        creator=creator,
        b2c=b2c,
        journal=journal,
        sandbox=sandbox,
        sweep_interval=settings.journal_sweep_interval,
        retention_days=settings.journal_retention_days,
        shutdown_grace=settings.shutdown_grace,
        sync=sync,
        notes=notes,
        sync_interval=settings.b2c_sync_interval,
        commands=CommandRoute(secret.get_secret_value(), listener, gate, fast_events)
        if mode is Mode.HTTP and secret is not None
        else None,
        home=home,
        metrics=metrics,
        step=step,
    )


async def build_step(settings: Settings, creator: TaskCreator, gate: Gate) -> WorkflowStep:
    """The Workflow Builder step (``bot.workflow``): its runs are requests of their own kind,
    whose results are told by finishing the step. Off (TASK_WORKFLOW_STEP), it refuses runs."""
    runs = StepRuns(creator.journal)
    await runs.create()
    finisher = StepFinisher(
        slack=creator.slack,
        runs=runs,
        results=creator.results,
        link=creator.link,
        budget=settings.b2c_retry_budget,
    )
    creator.deliverers[KIND] = finisher.deliver
    return WorkflowStep(
        creator=creator,
        runs=runs,
        finisher=finisher,
        gate=gate,
        enabled=settings.task_workflow_step,
    )


async def build_subscriptions(
    creator: TaskCreator,
    work: TaskWork,
    sync: SyncPoller,
    gate: Gate,
    home: Home,
    staff: Staff,
    connect: SlackConnect,
) -> SubscriptionCommands:
    """Channel subscriptions (``bot.subscriptions``): a follower of the sync's poll."""
    store = SubscriptionStore(creator.journal)
    await store.create()
    feed = SubscriptionFeed(
        store=store,
        b2c=creator.b2c,
        poster=creator.poster,
        catalog=creator.catalog,
        link=creator.link,
        tracked=sync.store.tracked,
        allowed=gate.channel_allowed,
    )
    if home.assignments is not None:
        feed.slack_user = home.assignments.slack_user
    feed.restricted = connect.restricted
    sync.followers.append(feed.round)
    work.on_own_change.append(feed.own_change)
    values = SiteValues(creator.b2c, creator.catalog, staff)
    commands = SubscriptionCommands(store, values, creator.poster)
    commands.restricted = connect.restricted
    home.tab.extras.append(commands.home_blocks)
    return commands


async def build_home(
    settings: Settings,
    client: AsyncWebClient,
    creator: TaskCreator,
    work: TaskWork,
    sync: SyncPoller | None,
    gate: Gate,
    people: People,
    staff: Staff,
    scopes: set[str] | None,
) -> Home:
    """The Home features (``bot.home``), each on unless its scopes are missing (one log line
    at start for each feature that is off)."""
    store = HomeStore(creator.journal)
    await store.create()
    pace = SlackPace({DIGEST_BUCKET: settings.digest_per_minute})
    wanted = {"home", "assigned", "digest", "reaction", "whole_thread", "connect"}
    if settings.task_unfurl:
        wanted.add("unfurl")
    off = features_off(scopes, wanted)
    b2c, catalog, link = creator.b2c, creator.catalog, creator.link
    tools = Tools(slack=client, b2c=b2c, catalog=catalog, store=store, link=link, pace=pace)
    defaults = ChannelDefaults(tools, staff)
    sources = MessageSource(tools, people)
    assignments = Assignments(tools)
    tab = HomeTab(tools, staff)
    home = Home(
        slack=client,
        people=people,
        store=store,
        defaults=defaults,
        tab=tab,
        assignments=assignments,
        sources=sources,
        sync=sync.store if sync is not None else None,
        off=off,
    )
    creator.procedure.channel_defaults = defaults.for_channel
    creator.procedure.prepare = sources.prepare
    work.home_refresh = lambda user, text: tab.publish(user, banner=text)
    creator.on_delivered.append(tab.after_created)
    if "assigned" not in off:
        creator.on_delivered.append(assignments.after_created)
        if sync is not None:
            sync.on_change.append(assignments.after_sync)
    if "digest" not in off:
        home.digests = Digests(tools)
    if "unfurl" in wanted and "unfurl" not in off:
        pattern = link_pattern(settings.b2c_task_url, b2c.site_url)
        home.unfurls = Unfurls(tools, pattern)
    if "reaction" not in off:
        home.reactions = ReactionTasks(creator=creator, gate=gate, reaction=settings.task_reaction)
    return home
