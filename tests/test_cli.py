"""The command line as an operator uses it: ``python -m bot serve|demo`` in its own process."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.demo import signed_headers, slash_form
from bot.standins.slack_fake import SlackFake
from tests.processes import bot_env, start_bot

SECRET = "cli-test-signing-secret"


async def run(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_demo_prints_the_whole_path(tmp_path: Path) -> None:
    code, out, err = await run(
        "demo", "/task Return customer call @contact 83", cwd=tmp_path, env=bot_env()
    )
    assert code == 0, err
    assert "POST /services/rest/connect/v1.4/tasks" in out
    assert '"id": 83' in out
    assert "Task #100 created" in out and "Not Started" in out
    assert "/AgentWeb/Bookmark/Task/100" in out

    code, out, _ = await run(
        "demo", "--json", "/task Call @contact 209", cwd=tmp_path, env=bot_env()
    )
    report = json.loads(out)
    assert code == 1 and report["tasks_created"] == []
    assert report["slack"] == []  # the channel sees nothing: only the requester is told
    assert "No contact in B2C Service has the ID 209." in json.dumps(report["response_url"])
    assert not any(tmp_path.iterdir())  # noqa: ASYNC240 - the demo leaves nothing behind


async def test_the_demo_shows_oracles_answers_and_dates_as_the_user_sees_them() -> None:
    from io import StringIO

    from bot.demo import run_demo

    out = StringIO()
    assert await run_demo("/task Call back @due 2026-12-24 17:00 @contact 83", out=out) == 0
    shown = out.getvalue()
    # every request's answer, the POST's too (its JSON, without the links)
    assert 'Oracle → bot: 201 {"id": 100, "lookupName": "Call back"' in shown
    assert '"links"' not in shown.split("Oracle → bot: 201", 1)[1].split("\n", 1)[0]
    # the thread's date as Jane (America/New_York) reads it in Slack, not the UTC fallback
    assert "*Due*: Thu 24 Dec 2026 17:00" in shown and "22:00 UTC" not in shown


async def test_the_demo_sends_nothing_for_a_command_that_is_not_the_apps() -> None:
    from io import StringIO

    from bot.demo import DEMO_COMMAND, run_demo

    manifest = (Path(__file__).resolve().parents[1] / "manifest.yaml").read_text()  # noqa: ASYNC240
    assert f"- command: {DEMO_COMMAND}\n" in manifest
    out = StringIO()
    assert await run_demo("/ticket Return customer call", out=out) == 1
    assert out.getvalue().startswith("Slack → bot: nothing. /ticket is not this app's command")
    assert "Try /task Return customer call" in out.getvalue()


async def test_missing_settings_stop_start_up_one_line_each(tmp_path: Path) -> None:
    code, _out, err = await run("serve", cwd=tmp_path, env=bot_env(SLACK_BOT_TOKEN="xoxb-1"))
    assert code == 2
    assert err.strip().splitlines() == [
        "error: Missing setting SLACK_SIGNING_SECRET",
        "error: Missing setting B2C_SITE_URL",
        "error: Missing setting B2C_USERNAME/B2C_PASSWORD: set both (or B2C_SESSION_TOKEN or "
        "B2C_OAUTH_TOKEN) for Oracle B2C Service",
        "error: → set it in the environment or in .env in the folder the bot starts in "
        "(see .env.example)",
    ]
    (tmp_path / ".env").write_text("B2C_SITE_URL=mysite\nTASK_UNFURL=maybe\n")
    code, _, err = await run("serve", cwd=tmp_path, env=bot_env(SLACK_BOT_TOKEN=""))
    assert code == 2  # every one at once, each once
    assert [line.split(":")[1].strip() for line in err.strip().splitlines()[:-1]] == [
        "Malformed setting B2C_SITE_URL",
        "Malformed setting TASK_UNFURL",
        "Missing setting SLACK_BOT_TOKEN",
        "Missing setting SLACK_SIGNING_SECRET",
        "Missing setting B2C_USERNAME/B2C_PASSWORD",
    ]


async def test_serve_with_sandbox_from_another_folder(tmp_path: Path) -> None:
    slack = SlackFake()
    await slack.start()
    (tmp_path / ".env").write_text(
        f"SLACK_BOT_TOKEN=xoxb-cli-secret-token\nSLACK_SIGNING_SECRET={SECRET}\n"
        f"SLACK_API_URL={slack.api_url}\nLOG_FORMAT=json\n"
    )
    bot = await start_bot("--sandbox", cwd=tmp_path, env=bot_env())
    try:
        async with httpx.AsyncClient() as http:
            health = await http.get(f"http://127.0.0.1:{bot.port}/healthz")
            assert health.status_code == 200
            assert health.json()["oracle"] == {"ok": True}
            body = urlencode(
                slash_form(
                    "/task Return customer call @contact 83", response_url=slack.response_url()
                )
            )
            ack = await http.post(
                f"http://127.0.0.1:{bot.port}/slack/events",
                content=body,
                headers=signed_headers(SECRET, body),
            )
            assert ack.status_code == 200
        await slack.wait_for(lambda: [m for m in slack.messages.values() if m.thread_ts], 20)
        [reply] = [m for m in slack.messages.values() if m.thread_ts]
        assert "Task #100 created" in reply.text
    finally:
        await bot.stop()
        await slack.stop()
    assert (tmp_path / "task-journal.sqlite3").exists()  # the journal, in the working folder
    assert "xoxb-cli-secret-token" not in bot.log and SECRET not in bot.log
    records = [json.loads(line) for line in bot.log.splitlines() if line.startswith("{")]
    assert any("using the embedded B2C sandbox" in r["message"] for r in records)
    [outcome] = [r for r in records if r.get("event") == "task_request"]
    assert outcome["state"] == "created" and outcome["task_id"] == 100
    assert outcome["channel_id"] == "C0DEMO" and outcome["user_id"] == "U1"
    assert outcome["attempts"] == 1 and outcome["delivery"] == "thread"
    assert {"correlation_id", "team_id", "run_ms", "age_ms"} <= set(outcome)
    # the site's task name limit is read at start-up, in the background
    assert any("task names: at most 240 characters (metadata)" in r["message"] for r in records)


async def test_start_up_failures_are_one_line_naming_the_setting(tmp_path: Path) -> None:
    slack = SlackFake()
    await slack.start()
    slack.refused_tokens.add("xoxb-revoked-token")
    base = {"SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": slack.api_url}
    cases = {
        "JOURNAL_PATH": (
            {"SLACK_BOT_TOKEN": "xoxb-1", "JOURNAL_PATH": str(tmp_path / "no" / "j.sqlite3")},
            f"error: Journal (JOURNAL_PATH): the folder {tmp_path / 'no'} does not exist",
        ),
        "DATABASE_URL": (
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "DATABASE_URL": "postgresql://bot:pg-secret-pw@127.0.0.1:9/tasks",
            },
            "error: Journal (DATABASE_URL): could not connect to bot@127.0.0.1:9/tasks",
        ),
        "SLACK_BOT_TOKEN": (
            {"SLACK_BOT_TOKEN": "xoxb-revoked-token"},
            "error: Slack refused SLACK_BOT_TOKEN (token_revoked)",
        ),
    }
    try:
        for name, (settings, expected) in cases.items():
            code, out, err = await run(
                "serve", "--sandbox", cwd=tmp_path, env=bot_env(**base, **settings)
            )
            assert code == 2, (name, err)
            assert len(err.strip().splitlines()) == 1, (name, err)
            line = err.strip()
            assert line.startswith(expected), (name, line)
            assert "pg-secret-pw" not in out + err and "Traceback" not in err
    finally:
        await slack.stop()


def test_a_refused_database_password_is_named_without_it() -> None:
    from bot.journal import _unavailable

    class InvalidPasswordError(Exception):
        pass

    error = _unavailable(
        "postgresql", "postgresql://bot:pg-secret-pw@db.example:5432/tasks", InvalidPasswordError()
    )
    assert str(error) == (
        "Journal (DATABASE_URL): the server refused the user or password for "
        "bot@db.example:5432/tasks"
    )


def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    import gc

    from bot.cli import GC_YOUNG_THRESHOLD, settle_heap

    before = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


async def test_no_garbage_collection_while_acks_are_in_flight() -> None:
    import asyncio
    import gc

    from bot.server import CollectorHold

    hold = CollectorHold(max_hold=0.05)
    assert gc.isenabled()
    try:
        hold.start()
        hold.start()  # a burst: acks overlap
        assert not gc.isenabled()
        hold.stop()
        assert not gc.isenabled()
        hold.stop()
        assert gc.isenabled()  # the last ack has gone
        hold.start()
        await asyncio.sleep(0.1)
        assert gc.isenabled()  # held no longer than max_hold, whatever is still in flight
        hold.stop()
        assert gc.isenabled()
        gc.disable()  # an operator's choice is left alone
        hold.start()
        hold.stop()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_bolts_token_will_be_unused_warning_is_gone(caplog: Any) -> None:
    import logging

    import bot.app  # noqa: F401 - installs the filter

    caplog.set_level(logging.WARNING)
    logging.getLogger("slack_bolt.AsyncApp").warning(
        "As you gave `client` as well, `token` will be unused."
    )
    logging.getLogger("slack_bolt.AsyncApp").warning("something else")
    assert "will be unused" not in caplog.text and "something else" in caplog.text


def test_the_journal_file_is_ignored_by_git() -> None:
    ignored = (Path(__file__).resolve().parents[1] / ".gitignore").read_text().splitlines()
    assert "task-journal.sqlite3" in ignored


async def test_socket_mode_serves_healthz_too(tmp_path: Path) -> None:
    slack = SlackFake()
    await slack.start()
    (tmp_path / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-cli-secret-token\nSLACK_APP_TOKEN=xapp-cli-app-token\n"
        f"SLACK_API_URL={slack.api_url}\n"
    )
    bot = await start_bot("--socket", "--sandbox", cwd=tmp_path, env=bot_env())
    try:
        async with httpx.AsyncClient() as http:
            health = await http.get(f"http://127.0.0.1:{bot.port}/healthz")
        assert health.status_code == 200
        assert health.json() == {"live": True, "database": {"ok": True}, "oracle": {"ok": True}}
        assert slack.calls_to("apps.connections.open")
    finally:
        await bot.stop()
        await slack.stop()


async def test_demo_round_trip_shows_both_ways_of_a_synced_thread(tmp_path: Path) -> None:
    code, out, err = await run(
        "demo",
        "--round-trip",
        "/task Return customer call @contact 83",
        cwd=tmp_path,
        env=bot_env(),
    )
    assert code == 0, err
    agent, reply = out.split("— In B2C Service, an agent")[1].split("— In Slack, Sam replies")
    assert "where updatedTime > '" in agent  # the poller's question to Oracle
    assert "Status: Not Started → In Progress · changed in B2C Service" in agent
    assert "Note added in B2C Service" in agent and "Called the customer" in agent
    assert "chat.update" in agent  # the task message, updated in place
    assert '"text": "Sam Agent in Slack: They called back: the invoice is paid."' in reply
    assert "reactions.add" in reply and ":memo:" in reply
    assert "changed in B2C Service" not in reply  # the bot's own note is not told back
