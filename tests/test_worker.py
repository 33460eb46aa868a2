"""The worker's own promises, driven as Slack drives the bot: a bug inside the bot keeps the
request and says so; a lost lease stops work quietly; the acks of a burst go first, for a
bounded time; background failures are logged once, with their request."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from bot.flows import procedure as procedure_module
from bot.flows import worker
from bot.journal import LeaseLost
from bot.standins.sandbox import B2CSandbox
from bot.standins.slack_fake import SlackFake
from tests.conftest import Bot, make_settings, serving
from tests.test_home import reaction

KEPT = (
    "Something went wrong inside the task bot; your request is kept and will be tried again. "
    "If this repeats, tell the admin who installed it."
)


def records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.flows.worker" and r.levelno == level]


def break_once(bot: Bot, monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """The create procedure fails with ``error`` once, then works again."""
    procedure = bot.runtime.creator.procedure
    real = procedure.settle
    calls: list[int] = []

    async def settle(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise error
        return await real(*args)

    monkeypatch.setattr(procedure, "settle", settle)


async def a_kept_request(bot: Bot, slack: SlackFake, monkeypatch: pytest.MonkeyPatch) -> str:
    """A request journaled and left for the sweep: an emoji task whose message Slack would not
    show. Its id."""
    monkeypatch.setattr(procedure_module, "SLACK_AWAY_WAIT", 0.0)
    message = slack.post_user_message("C1", "Call Carlos back", user="U4")
    slack.fail("conversations.history", "service_unavailable")
    await bot.event(reaction(message.ts))
    await bot.finished()
    [entry] = await bot.runtime.journal.all()
    assert entry.state == "pending"
    return entry.id


# ------------------------------------------------------------------ a bug inside the bot
async def test_a_bug_keeps_the_request_tells_the_user_and_logs_it_once(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, monkeypatch, caplog
) -> None:
    break_once(bot, monkeypatch, RuntimeError("a bug"))
    with caplog.at_level(logging.INFO, logger="bot.flows.worker"):
        await bot.command("Return customer call @contact 83")
        await bot.finished()
    assert sandbox.requests_to("POST", "/tasks") == []
    assert [(r["key"], r.get("text")) for r in slack.responses] == [("r1", KEPT)]
    [entry] = await bot.runtime.journal.all()
    correlation = entry.request["correlation_id"]
    [failure] = records(caplog, logging.ERROR)
    assert failure.getMessage() == f"[{correlation}] unexpected failure"
    assert isinstance(failure.exc_info[1], RuntimeError)  # the traceback, for the operator
    assert entry.state == "pending"  # kept
    # its lease is given back and this process no longer counts it as running: the sweep
    # takes it up, and the task is created once
    assert await bot.runtime.creator.resume() == 1
    await bot.finished()
    assert len(sandbox.tasks) == 1
    [reply] = [m for m in slack.messages.values() if m.thread_ts]
    assert "Task #100 created" in reply.text


async def test_a_lost_lease_stops_the_request_with_one_warning_and_nothing_said(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, monkeypatch, caplog
) -> None:
    break_once(bot, monkeypatch, LeaseLost("another process holds it now"))
    with caplog.at_level(logging.INFO, logger="bot.flows.worker"):
        await bot.command("Return customer call @contact 83")
        await bot.finished()
    [entry] = await bot.runtime.journal.all()
    correlation = entry.request["correlation_id"]
    [warning] = records(caplog, logging.WARNING)
    assert warning.getMessage() == (
        f"[{correlation}] stopped working on request {entry.id}: another process holds it now"
    )
    assert records(caplog, logging.ERROR) == []
    assert slack.responses == []  # the process that has it will tell
    assert not any(getattr(r, "event", None) == "task_request" for r in caplog.records)
    assert await bot.runtime.creator.resume() == 1  # not left marked as running here
    await bot.finished()
    assert len(sandbox.tasks) == 1


@pytest.mark.parametrize("how", ["refused", "database away"])
async def test_a_request_this_process_could_not_claim_can_be_claimed_later(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, monkeypatch, how: str
) -> None:
    entry_id = await a_kept_request(bot, slack, monkeypatch)
    journal = bot.runtime.journal
    real = journal.claim

    async def claim_once(entry_id: str) -> Any:
        monkeypatch.setattr(journal, "claim", real)
        if how == "database away":
            raise ConnectionResetError("cut")
        return None  # another process holds it

    monkeypatch.setattr(journal, "claim", claim_once)
    if how == "database away":
        with pytest.raises(ConnectionResetError):
            await bot.runtime.creator.run(entry_id)
    else:
        assert await bot.runtime.creator.run(entry_id) is None
    assert await bot.runtime.creator.resume() == 1
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["name"] == "Call Carlos back"


async def test_a_task_created_without_the_thread_sync_logs_no_error(
    sandbox: B2CSandbox, slack: SlackFake, database_url: str, caplog
) -> None:
    settings = make_settings(sandbox, slack, database_url=database_url, b2c_sync_interval=0)
    async with serving(settings, slack) as bot:
        with caplog.at_level(logging.INFO):
            await bot.command("Return customer call @contact 83")
            await bot.finished()
    assert len(sandbox.tasks) == 1
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


# ------------------------------------------------------------------ the outcome line
async def test_the_outcome_line_gives_run_and_age_in_milliseconds(bot: Bot, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="bot.flows.worker"):
        await bot.command("Return customer call @contact 83")
        await bot.finished()
    [outcome] = [r for r in caplog.records if getattr(r, "event", None) == "task_request"]
    [entry] = await bot.runtime.journal.all()
    correlation = entry.request["correlation_id"]
    assert outcome.getMessage() == f"request {correlation}: created, delivery thread"
    assert (outcome.state, outcome.delivery, outcome.task_id) == ("created", "thread", 100)  # type: ignore[attr-defined]
    run_ms, age_ms = outcome.run_ms, outcome.age_ms  # type: ignore[attr-defined]
    assert isinstance(run_ms, float) and isinstance(age_ms, float)
    assert round(run_ms, 1) == run_ms and round(age_ms, 1) == age_ms  # tenths of a millisecond
    # a POST to the sandbox takes well over a tenth of a millisecond and under a minute; the
    # request was journaled before its run started
    assert 0 < run_ms <= age_ms < 60_000


# ------------------------------------------------------------------ acks first, bounded
async def test_background_work_waits_for_every_ack_in_progress(bot: Bot, monkeypatch) -> None:
    monkeypatch.setattr(worker, "ACK_PRIORITY_WAIT", 30.0)
    creator = bot.runtime.creator
    await creator.after_acks()  # nothing being acknowledged: no wait
    creator.ack_started()
    creator.ack_started()
    creator.ack_finished()
    waiting = asyncio.ensure_future(creator.after_acks())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # one ack is still going out
    creator.ack_finished()
    await asyncio.wait_for(waiting, 5)


async def test_background_work_waits_for_acks_for_a_bounded_time(bot: Bot, monkeypatch) -> None:
    monkeypatch.setattr(worker, "ACK_PRIORITY_WAIT", 0.05)
    creator = bot.runtime.creator
    creator.ack_started()  # a steady stream of acks that never ends
    try:
        await asyncio.wait_for(creator.after_acks(), 5)
    finally:
        creator.ack_finished()


async def test_a_sweep_that_meets_a_run_in_progress_keeps_track_of_it(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, monkeypatch, caplog
) -> None:
    """Starting a request that runs already gives the run in progress (no second job), so the
    database going away still stops it, and no callback fails when it ends."""
    entry_id = await a_kept_request(bot, slack, monkeypatch)
    creator = bot.runtime.creator
    sandbox.slow["POST /tasks"] = 5.0
    first = creator.start(entry_id)
    await sandbox.wait_for(lambda: sandbox.requests_to("POST", "/tasks"))  # in flight
    again = creator.start(entry_id)
    assert again is first
    with caplog.at_level(logging.ERROR):
        for lost in bot.runtime.journal.holder.on_lost:  # what the heartbeat's watch calls
            lost()
        with pytest.raises(asyncio.CancelledError):
            await first
        await asyncio.sleep(0)  # done callbacks
    assert first.cancelled()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert creator.start(entry_id) is not first  # once ended, a request can run again


# ------------------------------------------------------------------ background failures
async def test_a_background_failure_is_logged_with_its_request(
    bot: Bot, monkeypatch, caplog
) -> None:
    creator = bot.runtime.creator
    seen: list[Any] = []

    async def broken(entry: Any, hooks: Any = None) -> None:
        seen.append(entry)
        raise ValueError("a bug outside run's own guard")

    monkeypatch.setattr(creator, "run", broken)
    with caplog.at_level(logging.INFO, logger="bot.flows.worker"):
        await bot.command("Return customer call @contact 83")
        await bot.finished()
    [entry] = seen
    [failure] = records(caplog, logging.ERROR)
    assert failure.getMessage() == f"background work request-{entry.id[:8]} failed: ValueError"
    assert isinstance(failure.exc_info[1], ValueError)
    assert failure.correlation_id == entry.request["correlation_id"]  # type: ignore[attr-defined]
    assert failure.event == "background_failure"  # type: ignore[attr-defined]
