"""Whole bot processes: killed mid-request and restarted; two instances sharing one database."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from bot.demo import signed_headers, slash_form
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
        JOURNAL_LEASE="2",
        JOURNAL_SWEEP_INTERVAL="0.5",
        LOG_LEVEL="INFO",
    )


def thread_replies(slack: SlackFake) -> list:
    return [m for m in slack.messages.values() if m.thread_ts]


async def test_killed_mid_request_and_restarted(
    tmp_path: Path, sandbox: B2CSandbox, slack: SlackFake, database_url: str
) -> None:
    env = settings_env(sandbox, slack, database_url)
    first = await start_bot(cwd=tmp_path, env=env)
    sandbox.latency = 1.5  # Oracle is slow: the bot dies while its POST is in flight
    body = urlencode(
        slash_form("/task Return customer call @contact 83", response_url=slack.response_url())
    )
    async with httpx.AsyncClient() as http:
        ack = await http.post(
            f"http://127.0.0.1:{first.port}/slack/events",
            content=body,
            headers=signed_headers(SECRET, body),
        )
    assert ack.status_code == 200
    await sandbox.wait_for(lambda: sandbox.requests_to("POST", "/tasks"))
    await first.stop(signal.SIGKILL)
    await sandbox.wait_for(lambda: sandbox.tasks)  # Oracle finished the work all the same
    assert thread_replies(slack) == []
    sandbox.latency = 0

    second = await start_bot(cwd=tmp_path, env=env)
    try:
        await slack.wait_for(lambda: thread_replies(slack), 30)
    finally:
        await second.stop()
    assert len(sandbox.tasks) == 1
    assert len(sandbox.requests_to("POST", "/tasks")) == 1  # found, not re-sent
    [parent] = slack.top_messages("C0DEMO")  # the message the first process had posted
    [reply] = thread_replies(slack)
    assert reply.thread_ts == parent.ts and "Task #100 created" in reply.text
    assert "#100" in parent.text
    journal = await Journal.open(database_url)
    try:
        [entry] = await journal.all()
    finally:
        await journal.close()
    assert (entry.state, entry.delivery, entry.task_id) == ("created", "thread", 100)


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
