"""Serving the app: HTTP mode (aiohttp: ``POST /slack/events``, ``GET /healthz``,
``GET /metrics``), Socket Mode (``/healthz`` and ``/metrics`` on a port of their own)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import (
    run_async_bolt_app,
    send_async_response,
)
from slack_bolt.response import BoltResponse
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient as SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.app import Runtime
from bot.slack import deliveries

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
DIGEST_INTERVAL = 60.0  # seconds between looks for users whose morning it is
METRICS_DATABASE_WAIT = 2.0  # seconds a scrape waits for the journal's figures


class CollectorHold:
    """No garbage collection while Slack waits for acks: under a burst a collection traverses
    every request in flight (a pause of 100-150 ms measured in the benchmark), and each ack
    behind it waits that long. What the collector would have done waits until the acks have
    gone, or ``max_hold`` seconds at most (a steady stream of requests, a listener that hangs).
    Only if the collector was enabled in the first place."""

    def __init__(self, max_hold: float = 1.0) -> None:
        self.max_hold = max_hold
        self.acking = 0
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        if self.acking == 0 and gc.isenabled():
            gc.disable()
            self._timer = asyncio.get_running_loop().call_later(self.max_hold, self._release)
        self.acking += 1

    def stop(self) -> None:
        self.acking -= 1
        if self.acking == 0:
            self._release()

    def _release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            gc.enable()


def web_app(runtime: Runtime) -> web.Application:
    """The aiohttp application for HTTP mode."""

    creator = runtime.creator
    commands = runtime.commands
    hold = CollectorHold()

    async def events(request: web.Request) -> web.Response:
        creator.ack_started()
        hold.start()
        started = time.monotonic()
        try:
            body = await request.text()
            answer = await commands.answer(body, request.headers) if commands else None
            if answer is None:  # (aiohttp keeps the body read above)
                answer = await runtime.app.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(answer)
        finally:
            hold.stop()
            creator.ack_finished()
            runtime.metrics.acked("http", time.monotonic() - started)

    app = health_app(runtime)
    app.router.add_post(EVENTS_PATH, events)
    return app


def bound_port(site: web.TCPSite) -> int:
    """The port a started site listens on (``port=0`` picks a free one)."""
    return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


def health_app(runtime: Runtime) -> web.Application:
    """``GET /healthz``: liveness (the answer itself) and, apart, whether the database and
    Oracle answer; ``GET /metrics``: what a monitoring system scrapes (``bot.metrics``).
    Served alone in Socket Mode, beside ``/slack/events`` in HTTP mode."""

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"live": True, **await runtime.health()})

    async def backlog() -> tuple[int, float | None]:
        async with asyncio.timeout(METRICS_DATABASE_WAIT):
            return await runtime.journal.backlog()

    async def metrics(request: web.Request) -> web.Response:
        body, content_type = await runtime.metrics.exposition(
            request.headers.get("Accept"), backlog
        )
        return web.Response(body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


def start_background(runtime: Runtime) -> asyncio.Future[list[None]]:
    """Resume journaled requests now, and keep looking for ones no live process holds; forget
    settled ones past their retention; meanwhile load the site's named IDs and its task name
    limit, so that no request waits for them."""
    runtime.creator.spawn(runtime.creator.catalog.get(), "catalog")
    runtime.creator.spawn(runtime.creator.limits.learn(runtime.b2c), "site limits")
    creator = runtime.creator
    home = runtime.home
    forgetters = [runtime.notes.forget_settled] if runtime.notes is not None else []
    if home is not None:
        forgetters.append(home.store.forget_digests)
    if runtime.step is not None:
        forgetters.append(runtime.step.runs.forget_settled)
    repeat = functools.partial(every, failing=runtime.metrics.round_failing)
    loops = [
        repeat(runtime.sweep_interval, creator.resume, "resuming journaled requests"),
        runtime.journal.forget_forever(runtime.retention_days, also=forgetters),
    ]
    if home is not None and home.digests is not None:  # the 09:00 digests, looked for a minute
        loops.append(repeat(DIGEST_INTERVAL, home.digests.run_once, "morning digests"))
    if runtime.sync is not None:  # synced threads: what changed in Oracle, told in Slack
        poll = runtime.sync.poll_once
        loops.append(repeat(runtime.sync_interval, poll, "thread sync: polling Oracle"))
    notes = runtime.notes
    if notes is not None:  # and replies journaled but not yet saved as notes
        resume_notes = functools.partial(notes.resume, creator.spawn)
        loops.append(repeat(runtime.sweep_interval, resume_notes, "resuming thread notes"))
    return asyncio.gather(*loops)


async def every(
    interval: float,
    one_round: Callable[[], Awaitable[Any]],
    what: str,
    *,
    failing: Callable[[str, bool], None] | None = None,
) -> None:
    """Run ``one_round`` every ``interval`` seconds (start to start) for as long as the bot
    runs. Rounds that fail (Slack, Oracle or the database away) are told in one line when they
    start failing, with the error in words, and one when they work again; each failure's
    traceback is logged at DEBUG only (a minute-by-minute traceback tells an operator nothing
    new). ``failing``: told after each round whether it failed (``bot.metrics``)."""
    failing_now = False
    while True:
        started = time.monotonic()
        try:
            await one_round()
        except Exception as error:
            log.debug("%s failed", what, exc_info=True)
            if not failing_now:
                failing_now = True
                log.error(
                    "%s failed: %s (tried again every %g s; one line when it works again)",
                    what,
                    in_words(error),
                    interval,
                    extra={"event": "background_failing", "round": what},
                )
        else:
            if failing_now:
                failing_now = False
                log.info(
                    "%s works again", what, extra={"event": "background_recovered", "round": what}
                )
        if failing is not None:
            failing(what, failing_now)
        # from one round's start to the next's (a round that took longer: the next at once)
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


def in_words(error: BaseException) -> str:
    """An error as one short line: its kind and the first line of what it says."""
    said = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    return f"{type(error).__name__}: {said}" if said else type(error).__name__


async def stop_background(background: asyncio.Future[list[None]]) -> None:
    background.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await background


async def start_http(runtime: Runtime, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner and the port actually bound (``port=0`` picks one)."""
    runner = web.AppRunner(web_app(runtime), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = bound_port(site)
    return runner, bound


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def serve_http(runtime: Runtime, host: str, port: int) -> None:
    runner, bound = await start_http(runtime, host, port)
    sweeper = start_background(runtime)
    log.info(
        "serving Slack requests on http://%s:%d%s (health: /healthz)", host, bound, EVENTS_PATH
    )
    try:
        await _until_signalled()
    finally:
        log.info(
            "shutting down: no new requests; finishing what can finish in %g s",
            runtime.shutdown_grace,
        )
        await stop_background(sweeper)
        await runner.cleanup()
        await runtime.close()
        log.info("stopped")


async def start_health(runtime: Runtime, host: str, port: int) -> web.AppRunner | None:
    """Socket Mode's ``/healthz`` on ``port``; None (and a warning) if the port is taken."""
    runner = web.AppRunner(health_app(runtime), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as error:
        log.warning("health checks not served: port %d is not free (%s)", port, error.strerror)
        await runner.cleanup()
        return None
    bound = bound_port(site)
    log.info("health checks on http://%s:%d/healthz", host, bound)
    return runner


class CheckedSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler, with each envelope's payload checked first: one without the
    shape its listener reads is acked (so Slack does not send it again) and logged in one
    WARNING line, never dispatched (``bot.slack.deliveries``)."""

    def __init__(
        self, app: Any, app_token: str, acked: Callable[[str, float], None] | None = None
    ) -> None:
        super().__init__(app, app_token)
        self.acked = acked  # told of each ack: the mode and its seconds (bot.metrics)
        # slack_sdk turns an envelope into a request before any listener sees it, and logs a
        # traceback for a payload that is not an object: such an envelope is answered first
        parse_and_run = self.client.run_message_listeners

        async def run_message_listeners(message: dict[str, Any], raw_message: str) -> None:
            payload = message.get("payload", {})
            if message.get("envelope_id") and not isinstance(payload, dict):
                log.warning(
                    "refused a malformed delivery from Slack (%s): the payload is not an object",
                    message.get("type"),
                )
                await self.client.send_socket_mode_response(
                    SocketModeResponse(envelope_id=message["envelope_id"])
                )
                return
            await parse_and_run(message, raw_message)

        self.client.run_message_listeners = run_message_listeners  # type: ignore[method-assign]

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.monotonic()
        problem = deliveries.problem(req.payload)
        if problem is not None:
            log.warning("refused a malformed delivery from Slack (%s): %s", req.type, problem)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        else:
            answer = await run_async_bolt_app(self.app, req)
            if answer.status != 200:  # (Bolt said why: "Unhandled request"): acked all the
                answer = BoltResponse(status=200, body="")  # same, or Slack sends it again
            await send_async_response(client, req, answer, started)
        if self.acked is not None:
            self.acked("socket", time.monotonic() - started)


async def serve_socket(runtime: Runtime, app_token: str, host: str, port: int) -> None:
    handler = CheckedSocketModeHandler(runtime.app, app_token, runtime.metrics.acked)
    await handler.connect_async()
    log.info("connected to Slack in Socket Mode")
    health = await start_health(runtime, host, port)
    sweeper = start_background(runtime)
    try:
        await _until_signalled()
    finally:
        log.info(
            "shutting down: no new requests; finishing what can finish in %g s",
            runtime.shutdown_grace,
        )
        await stop_background(sweeper)
        await handler.close_async()
        await runtime.close()
        if health is not None:
            await health.cleanup()
        log.info("stopped")
