"""Shared harness: the B2C sandbox, the Slack fake and the bot served over real HTTP."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import secrets
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
import pytest

from bot.app import Runtime, build_runtime
from bot.demo import as_slack_sends, signed_headers, slash_form
from bot.server import EVENTS_PATH, CheckedSocketModeHandler, start_http
from bot.settings import Mode, Settings
from bot.standins.sandbox import API, PASSWORD, USERNAME, B2CSandbox
from bot.standins.slack_fake import SlackFake


@pytest.fixture
async def sandbox() -> AsyncIterator[B2CSandbox]:
    box = B2CSandbox()
    await box.start()
    yield box
    await box.stop()


@pytest.fixture
async def http(sandbox: B2CSandbox) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client for the sandbox's API, as any Oracle client would call it."""
    async with httpx.AsyncClient(
        base_url=sandbox.base_url + API,
        auth=httpx.BasicAuth(USERNAME, PASSWORD),
        headers={"OSvC-CREST-Application-Context": "tests"},
    ) as client:
        yield client


@pytest.fixture
async def slack() -> AsyncIterator[SlackFake]:
    fake = SlackFake()
    await fake.start()
    yield fake
    await fake.stop()
    # every test that posts checks the rendering too: Slack shows nothing it refuses
    assert not fake.refused_blocks, f"Slack would refuse these (Block Kit): {fake.refused_blocks}"


SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
_STARTED: dict[str, str] = {}  # the PostgreSQL server this run started: its data directory
_POSTGRES: list[str] = []  # the server's URL ("" for none), once the first test asked for it


def postgres_url() -> str:
    """The PostgreSQL server of this run, started the first time a test needs one."""
    if not _POSTGRES:
        _POSTGRES.append(_start_postgres())
        if _POSTGRES[0]:  # the benchmarks' smoke tests run in processes of their own
            os.environ["TEST_DATABASE_URL"] = _POSTGRES[0]
    return _POSTGRES[0]


def _start_postgres() -> str:
    """A developer's run is CI's run: with no TEST_DATABASE_URL, the run starts its own
    PostgreSQL server where PostgreSQL is installed (``scripts/start-postgres --no-install``;
    CI's .ci/run installs it first), and stops it at the end. ``TEST_DATABASE_URL=skip``
    leaves the PostgreSQL runs out."""
    given = os.environ.get("TEST_DATABASE_URL", "")
    if given:
        return "" if given == "skip" else given
    data = tempfile.mkdtemp(prefix="pgdata.", dir="/tmp")
    try:
        started = subprocess.run(
            [str(SCRIPTS / "start-postgres"), "--no-install", data],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        started = None
    if started is None or started.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        return ""
    _STARTED["data"] = data
    return started.stdout.strip()


def _secret() -> str:
    value = "sign-" + secrets.token_hex(16)
    KNOWN_SECRETS.add(value)
    return value


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty journal database on each engine (PostgreSQL: this run's server, see
    ``postgres_url``; without one those runs are skipped)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'journal.sqlite3'}"
        return
    url = postgres_url()
    if not url:
        pytest.skip(
            "no PostgreSQL: not installed here and TEST_DATABASE_URL is not set "
            "(TEST_DATABASE_URL=$(scripts/start-postgres) installs and starts one)"
        )
    name = "t_" + uuid.uuid4().hex[:12]
    server = await asyncpg.connect(url)
    await server.execute(f"CREATE DATABASE {name}")
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        await server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await server.close()


def make_settings(sandbox: B2CSandbox, slack: SlackFake, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "journal_path": os.path.join(tempfile.mkdtemp(), "journal.sqlite3"),
        "slack_bot_token": "xoxb-test-token-0123456789",
        "slack_signing_secret": _secret(),
        "slack_app_token": "xapp-test-app-token-0123456789",
        "slack_api_url": slack.api_url,
        "b2c_site_url": sandbox.base_url,
        "b2c_username": USERNAME,
        "b2c_password": PASSWORD,
        "b2c_timeout": 10,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Bot:
    """The bot served on a free local port, and a way to talk to it as Slack does."""

    runtime: Runtime
    settings: Settings
    url: str
    slack: SlackFake
    http: httpx.AsyncClient

    async def command(
        self,
        text: str,
        *,
        user: str = "U1",
        channel: str = "C1",
        channel_name: str = "support",
        secret: str | None = None,
        raw: bool = False,
        timestamp: int | None = None,
    ) -> httpx.Response:
        """POST ``/task text`` signed exactly as Slack signs it. ``raw``: text is already in
        Slack's wire form; otherwise it is escaped as Slack escapes typed text."""
        form = slash_form(
            f"/task {text}",
            response_url=self.slack.response_url("r1"),
            user=user,
            channel=channel,
            channel_name=channel_name,
        )
        form["text"] = text if raw else as_slack_sends(text)
        body = urlencode(form)
        key = secret or self.settings.slack_signing_secret.get_secret_value()  # type: ignore[union-attr]
        return await self.http.post(
            self.url, content=body, headers=signed_headers(key, body, timestamp)
        )

    async def interact(self, payload: dict[str, Any]) -> httpx.Response:
        """POST an interactive payload (buttons, forms, shortcuts, options) as Slack does."""
        body = urlencode({"payload": json.dumps(payload)})
        key = self.settings.slack_signing_secret.get_secret_value()  # type: ignore[union-attr]
        return await self.http.post(self.url, content=body, headers=signed_headers(key, body))

    async def event(
        self, event: dict[str, Any], *, retry: int = 0, team: str = "T1", **envelope: Any
    ) -> int:
        """Deliver an Events API event as Slack does (signed JSON; a retry carries its
        number and the same event id); the status of the answer. ``envelope``: more of the
        outer payload (``is_ext_shared_channel=True`` in a Slack Connect channel)."""
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": team,
                "api_app_id": "A1",
                "event_id": "Ev" + str(abs(hash(json.dumps(event, sort_keys=True))))[:12],
                "event_time": 1,
                "event": event,
                **envelope,
            }
        )
        key = self.settings.slack_signing_secret.get_secret_value()  # type: ignore[union-attr]
        headers = {**signed_headers(key, body), "Content-Type": "application/json"}
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        response = await self.http.post(self.url, content=body, headers=headers)
        return response.status_code

    async def finished(self) -> None:
        await self.runtime.creator.wait_idle()


def block_action(
    action: dict[str, Any],
    *,
    user: str = "U1",
    channel: str = "C1",
    message_ts: str = "1.1",
    thread_ts: str | None = None,
    text: str = "",
    trigger_id: str = "7.7",
) -> dict[str, Any]:
    """A block_actions payload for a click on ``action`` in a message, as Slack sends it."""
    message = {"ts": message_ts, "text": text}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user},
        "api_app_id": "A1",
        "trigger_id": trigger_id,
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel, "message_ts": message_ts},
        "message": message,
        "response_url": "http://127.0.0.1:9/unused",
        "actions": [{"action_ts": "1", "block_id": "actions", **action}],
    }


@contextlib.asynccontextmanager
async def serving(settings: Settings, slack: SlackFake) -> AsyncIterator[Bot]:
    """The bot built from ``settings``, served over HTTP on a free local port."""
    runtime = await build_runtime(settings, Mode.HTTP)
    runner, port = await start_http(runtime, "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            yield Bot(runtime, settings, f"http://127.0.0.1:{port}{EVENTS_PATH}", slack, http)
    finally:
        await runner.cleanup()
        await runtime.close()


@contextlib.asynccontextmanager
async def socket_mode_bot(sandbox: B2CSandbox, slack: SlackFake) -> AsyncIterator[Runtime]:
    """The bot connected to the Slack fake in Socket Mode."""
    settings = make_settings(sandbox, slack, slack_signing_secret=None)
    runtime = await build_runtime(settings, Mode.SOCKET)
    handler = CheckedSocketModeHandler(
        runtime.app, settings.slack_app_token.get_secret_value(), runtime.metrics.acked
    )
    await handler.connect_async()
    try:
        yield runtime
    finally:
        await handler.close_async()
        await runtime.close()


@pytest.fixture
async def bot(sandbox: B2CSandbox, slack: SlackFake, database_url: str) -> AsyncIterator[Bot]:
    settings = make_settings(sandbox, slack, database_url=database_url, b2c_retry_budget=5)
    async with serving(settings, slack) as served:
        yield served


# ------------------------------------------------------------------ secrets never logged
# Every log record of the whole test run, at DEBUG, from every library, is kept; at the end the
# run fails if any configured secret appears in it (tokens, signing secrets, passwords).
KNOWN_SECRETS = {
    "xoxb-test-token-0123456789",
    "xapp-test-app-token-0123456789",
    PASSWORD,
    "hunter2-secret",
    base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode(),
}
_RECORDS: list[str] = []


class _Keep(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            _RECORDS.append(self.format(record))
        except Exception:  # a record that cannot be formatted is not a secret leak
            _RECORDS.append(str(record.msg))


def pytest_configure(config: pytest.Config) -> None:
    handler = _Keep(level=logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)


def pytest_unconfigure(config: pytest.Config) -> None:
    if "data" in _STARTED:
        subprocess.run([str(SCRIPTS / "stop-postgres"), _STARTED.pop("data")], timeout=60)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.test_takeover import TAKEOVERS

    if _POSTGRES and _POSTGRES[0]:
        how = "started by this run" if "data" in _STARTED else "TEST_DATABASE_URL"
        terminalreporter.write_line(f"journal tests on SQLite and on PostgreSQL ({how})")
    elif _POSTGRES:
        terminalreporter.write_line("journal tests on SQLite only: no PostgreSQL server")

    if TAKEOVERS:
        terminalreporter.write_line("takeover after a process was stopped or killed:")
        for line in TAKEOVERS:
            terminalreporter.write_line("  " + line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = [line for line in _RECORDS if any(secret in line for secret in KNOWN_SECRETS)]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"secret check: {len(_RECORDS)} log records of this run searched "
            f"for {len(KNOWN_SECRETS)} configured secrets: {len(leaks)} found"
        )
    if leaks:
        for line in leaks[:5]:
            reporter.write_line("LEAK: " + line[:300])
        session.exitstatus = 1
