"""Whole bot processes: killed mid-request and restarted; two instances sharing one database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.journal import Journal
from bot.standins.sandbox import PASSWORD, USERNAME, B2CSandbox
from bot.standins.slack_fake import SlackFake
from tests.processes import bot_env, start_bot

SECRET = "process-test-signing-secret"


def settings_env(sandbox: B2CSandbox, slack: SlackFake, database_url: str) -> dict[str, str]:
    return bot_env(
        SLACK_BOT_TOKEN="xoxb-process-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
        B2C_SITE_URL=sandbox.base_url,
        B2C_USERNAME=USERNAME,
        B2C_PASSWORD=PASSWORD,
        B2C_TIMEOUT="1",
        DATABASE_URL=database_url,
        LOG_LEVEL="INFO",
    )


def thread_replies(slack: SlackFake) -> list:
    return [m for m in slack.messages.values() if m.thread_ts]


async def test_two_processes_share_the_work_without_duplicates(
    tmp_path: Path, sandbox: B2CSandbox, slack: SlackFake, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes share a PostgreSQL journal")
    count = 30
    journal = await Journal.open(database_url)
    try:
        for number in range(count):
            entry = await journal.add(
                dedupe_key=f"seeded:{number}",
                kind="command",
                request={
                    "user_id": "U1",
                    "channel_id": "C9",
                    "channel_name": "support",
                    "team_id": "T1",
                    "text": f"Task {number}",
                },
                draft={"name": f"Task {number}"},
            )
            assert entry is not None
            await journal.finish(entry)  # as if the process that took them had died
    finally:
        await journal.close()
    sandbox.latency = 0.05
    env = settings_env(sandbox, slack, database_url)
    bots = await asyncio.gather(start_bot(cwd=tmp_path, env=env), start_bot(cwd=tmp_path, env=env))
    try:
        await slack.wait_for(lambda: len(thread_replies(slack)) >= count, 60)
    finally:
        await asyncio.gather(*(bot.stop() for bot in bots))
    names = sorted(task["name"] for task in sandbox.tasks.values())
    assert names == sorted(f"Task {n}" for n in range(count))
    assert len(sandbox.requests_to("POST", "/tasks")) == count
    assert len(thread_replies(slack)) == count
    assert len(slack.top_messages("C9")) == count
    worked = [
        bot.log.count("'event': 'task_request'") + bot.log.count(": created, delivery")
        for bot in bots
    ]
    assert sum(worked) == count


async def test_a_second_process_on_a_sqlite_journal_is_refused_in_one_line(
    tmp_path: Path, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    from tests.test_cli import run

    env = settings_env(sandbox, slack, f"sqlite:///{tmp_path / 'journal.sqlite3'}")
    first = await start_bot(cwd=tmp_path, env=env)
    try:
        code, _out, err = await run("serve", "--port", "0", cwd=tmp_path, env=env)
        doctor_code, doctor_out, _ = await run("doctor", cwd=tmp_path, env=env)
    finally:
        await first.stop()
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith(
        f"error: Journal (JOURNAL_PATH): {tmp_path / 'journal.sqlite3'} is in use by another bot "
        f"process (pid {first.process.pid} on "
    )
    assert "set DATABASE_URL to a PostgreSQL database" in line
    # the doctor, run beside the bot, finds the journal in use by it: as it should be
    assert f"is in use by another bot process (pid {first.process.pid}" in doctor_out
    assert "✗ Journal" not in doctor_out
    assert doctor_code in (0, 1)  # (Slack and Oracle checks decide the rest)
