"""Fault injection: Oracle down, slow, throttling or answering late; Slack throttling or away;
duplicates. Each test counts the tasks in the sandbox and the messages in the Slack fake."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

from bot.standins.sandbox import B2CSandbox, Fault
from bot.standins.slack_fake import SlackFake
from tests.conftest import Bot, block_action, make_settings, serving


def replies(slack: SlackFake, channel: str = "C1") -> list[Any]:
    return [m for m in slack.messages.values() if m.channel == channel and m.thread_ts]


def shown(message: Any) -> str:
    return message.text + json.dumps(message.blocks)


def the_tasks_query(sandbox: B2CSandbox) -> Any:
    """The one no-duplicate check the bot sent (a ROQL query on tasks; not the synced
    thread's read of the created task, which selects updatedTime)."""
    [query] = [
        r
        for r in sandbox.requests_to("GET", "/queryResults")
        if "from tasks" in r.query["query"] and "updatedTime" not in r.query["query"]
    ]
    return query


def created_since(entry: Any) -> str:
    """The lower bound of the no-duplicate check: the first POST's moment, less the clock skew
    Oracle's clock is allowed, in Oracle's UTC text."""
    from datetime import UTC, datetime

    from bot.flows.procedure import CLOCK_SKEW
    from bot.oracle.roql import time_literal

    since = datetime.fromtimestamp(entry.first_attempt_at - CLOCK_SKEW, UTC)
    return f"createdTime >= {time_literal(since)}"


async def restart(sandbox: B2CSandbox) -> None:
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    await sandbox.start(port=port)


@pytest.mark.slow
async def test_oracle_down_20_seconds_then_back(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    bot.runtime.creator.procedure.retry_policy = type(bot.runtime.creator.procedure.retry_policy)(
        budget=60, min_wait=0.5, max_wait=4
    )
    await sandbox.stop()
    await bot.command("Return customer call @contact 83")
    await slack.wait_for(lambda: any("retrying" in shown(m) for m in slack.top_messages("C1")))
    await asyncio.sleep(20)  # the outage itself
    await restart(sandbox)
    await bot.finished()
    assert len(sandbox.tasks) == 1
    [parent] = slack.top_messages("C1")
    assert "Oracle is not answering, retrying" in json.dumps(parent.history)
    assert "Not Started" in shown(parent)
    [reply] = replies(slack)
    assert "Task #100 created" in reply.text
    [entry] = await bot.runtime.journal.all()
    assert (entry.state, entry.delivery, entry.task_id) == ("created", "thread", 100)
    assert entry.attempts >= 3


async def test_timeout_after_oracle_created_the_task(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, caplog
) -> None:
    bot.runtime.b2c._http.timeout = __import__("httpx").Timeout(1.0)
    sandbox.inject(Fault(method="POST", path="/tasks", status=201, delay=3, after_create=True))
    with caplog.at_level("INFO", logger="bot.flows.procedure"):
        await bot.command("Return customer call @contact 83")
        await bot.finished()
    said = [r.getMessage() for r in caplog.records if r.name == "bot.flows.procedure"]
    assert "found the task an earlier attempt created: 100" in said  # for the operator
    assert len(sandbox.tasks) == 1
    assert len(sandbox.requests_to("POST", "/tasks")) == 1  # never re-sent blindly
    query = the_tasks_query(sandbox)
    assert "name = 'Return customer call'" in query.query["query"]
    assert "contact.id = 83" in query.query["query"]
    [entry] = await bot.runtime.journal.all()
    assert created_since(entry) in query.query["query"]  # since the POST left, not since now
    [reply] = replies(slack)
    assert "Task #100 created" in reply.text
    # found at once: nobody was told Oracle is being retried, and nothing was sent again
    [parent] = slack.top_messages("C1")
    assert "retrying" not in json.dumps([*parent.history, parent.blocks])
    assert entry.attempts == 1


async def test_unknown_outcome_check_on_a_name_with_an_apostrophe(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    bot.runtime.b2c._http.timeout = __import__("httpx").Timeout(1.0)
    sandbox.inject(Fault(method="POST", path="/tasks", status=201, delay=3, after_create=True))
    await bot.command("Customer's callback @contact 83")
    await bot.finished()
    assert len(sandbox.tasks) == 1
    assert len(sandbox.requests_to("POST", "/tasks")) == 1
    query = the_tasks_query(sandbox)
    assert "name = 'Customer''s callback'" in query.query["query"]
    assert "createdTime >= '20" in query.query["query"]
    [reply] = replies(slack)
    assert "Task #100 created" in reply.text


async def test_request_id_field_makes_the_no_duplicate_check_exact(
    sandbox: B2CSandbox, slack: SlackFake, database_url: str
) -> None:
    settings = make_settings(
        sandbox,
        slack,
        database_url=database_url,
        b2c_retry_budget=5,
        b2c_request_id_field="slack_request_id",
    )
    async with serving(settings, slack) as bot:
        # someone else creates a task of the same name, for the same contact, meanwhile
        decoy = await bot.runtime.b2c.create_task(
            {"name": "Return customer call", "contact": {"id": 83}}
        )
        bot.runtime.b2c._http.timeout = __import__("httpx").Timeout(1.0)
        sandbox.inject(Fault(method="POST", path="/tasks", status=201, delay=3, after_create=True))
        await bot.command("Return customer call @contact 83")
        await bot.finished()
        [entry] = await bot.runtime.journal.all()
    [ours] = [
        t for t in sandbox.tasks.values() if t["customFields"]["c"]["slack_request_id"] == entry.id
    ]
    assert ours["id"] != decoy.id and len(sandbox.tasks) == 2
    assert len(sandbox.requests_to("POST", "/tasks")) == 2  # the decoy's and ours, never again
    query = the_tasks_query(sandbox)
    assert query.query["query"] == (
        f"select id from tasks where customFields.c.slack_request_id = '{entry.id}'"
    )
    [reply] = replies(slack)
    assert f"Task #{ours['id']} created" in reply.text


async def test_connection_lost_after_oracle_created_the_task(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sandbox.inject(Fault(method="POST", path="/tasks", status=201, after_create=True, drop=True))
    await bot.command("Return customer call @contact 83")
    await bot.finished()
    assert len(sandbox.tasks) == 1
    assert len(sandbox.requests_to("POST", "/tasks")) == 1  # checked, not re-sent
    [reply] = replies(slack)
    assert "Task #100 created" in reply.text


async def test_timeout_before_oracle_created_anything_is_retried(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    bot.runtime.b2c._http.timeout = __import__("httpx").Timeout(1.0)
    sandbox.inject(Fault(method="POST", path="/tasks", status=503, delay=2))
    await bot.command("Return customer call @contact 83")
    await bot.finished()
    assert len(sandbox.tasks) == 1
    assert len(sandbox.requests_to("POST", "/tasks")) == 2
    assert len(replies(slack)) == 1


async def test_a_task_oracle_finishes_after_the_timeout_is_looked_for_again_before_resending(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, monkeypatch
) -> None:
    """The POST times out while Oracle is still creating the task: the look right after finds
    nothing yet. Before the next attempt the run looks again, finds it, and sends no second
    POST."""
    procedure = bot.runtime.creator.procedure
    monkeypatch.setattr(procedure, "_wait", lambda state: 1.0)  # a fixed pause, not a random one
    bot.runtime.b2c._http.timeout = __import__("httpx").Timeout(0.5)
    sandbox.slow["POST /tasks"] = 1.0  # the task is created 1 s after the POST arrives
    await bot.command("Return customer call @contact 83")
    await bot.finished()
    assert len(sandbox.tasks) == 1 and len(sandbox.requests_to("POST", "/tasks")) == 1
    looks = [
        r.query["query"]
        for r in sandbox.requests_to("GET", "/queryResults")
        if "from tasks" in r.query["query"] and "updatedTime" not in r.query["query"]
    ]
    [entry] = await bot.runtime.journal.all()
    assert len(looks) == 2 and all(created_since(entry) in look for look in looks)
    assert (entry.state, entry.task_id) == ("created", 100)
    assert "Task #100 created" in replies(slack)[-1].text


async def test_429_with_retry_after_is_honoured(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sandbox.inject(Fault(method="POST", path="/tasks", status=429, headers={"Retry-After": "2"}))
    await bot.command("Return customer call @contact 83")
    await bot.finished()
    first, second = sandbox.requests_to("POST", "/tasks")
    assert second.at - first.at >= 2.0  # the wait Oracle asked for, at least
    assert len(sandbox.tasks) == 1
    assert len(replies(slack)) == 1


async def test_internal_server_error_is_not_retried_blindly(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await a_failed_request(bot, sandbox)
    assert len(sandbox.requests_to("POST", "/tasks")) == 1
    [reply] = replies(slack)
    assert "failed (HTTP 500)" in shown(reply) and "before pressing Retry" in shown(reply)
    assert "request_retry" in shown(reply)


async def a_failed_request(bot: Bot, sandbox: B2CSandbox) -> Any:
    """A request Oracle failed with a 500 (not retried blindly): the journal's entry."""
    sandbox.inject(Fault(method="POST", path="/tasks", status=500))
    await bot.command("Return customer call @contact 83")
    await bot.finished()
    [entry] = await bot.runtime.journal.all()
    assert entry.state == "failed"
    return entry


@pytest.mark.parametrize(
    "budget",
    [
        pytest.param(1.0, id="a short budget"),
        pytest.param(None, id="the default budget", marks=pytest.mark.slow),
    ],
)
async def test_budget_exhausted_keeps_the_request_and_offers_retry(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, budget: float | None
) -> None:
    from bot.flows.procedure import RetryPolicy

    if budget is not None:
        bot.runtime.creator.procedure.retry_policy = RetryPolicy(
            budget=budget, min_wait=0.05, max_wait=0.2
        )
    sandbox.inject(Fault(method="POST", path="/tasks", status=503, times=1000))
    await bot.command("Return customer call @contact 83")
    await bot.finished()
    assert sandbox.tasks == {}
    posts = len(sandbox.requests_to("POST", "/tasks"))
    assert posts >= 3  # retried, within the budget
    looks = [r for r in sandbox.requests_to("GET", "/queryResults") if "from tasks" in str(r.query)]
    assert looks == []  # each 503 was an answer: nothing to look for
    [reply] = replies(slack)
    assert f"gave up after {posts} attempts" in shown(reply)
    assert "Service Unavailable" in shown(reply) or "503" in shown(reply)  # Oracle's reason
    assert "Your request is kept" in shown(reply)
    # the channel was told once that Oracle is being retried, not at every attempt
    [parent] = slack.top_messages("C1")
    told = [v for v in parent.history if "Oracle is not answering, retrying" in json.dumps(v)]
    assert len(told) == 1
    button = next(b for b in reply.blocks if b["type"] == "actions")["elements"][0]
    assert button["action_id"] == "request_retry"
    [entry] = await bot.runtime.journal.all()
    assert entry.state == "failed"

    sandbox.faults.clear()  # Oracle is back; the user double-clicks Retry
    click = block_action(
        {**button},
        message_ts=reply.ts,
        thread_ts=reply.thread_ts,
        text=reply.text,
        trigger_id="1.1",
    )
    await asyncio.gather(bot.interact(click), bot.interact(click))
    await bot.finished()
    assert len(sandbox.tasks) == 1
    assert "Task #100 created" in replies(slack)[-1].text
    [parent] = slack.top_messages("C1")
    assert "#100" in shown(parent)


async def test_refused_content_offers_edit_and_retry(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await bot.command("Return customer call @contact 209 @priority High")
    await bot.finished()
    assert replies(slack) == []  # told privately
    reply = slack.responses[-1]
    button = next(b for b in reply["blocks"] if b["type"] == "actions")["elements"][0]
    assert button["action_id"] == "request_edit"
    click = block_action({**button}, message_ts="1.2", text=reply["text"], trigger_id="3.3")
    await bot.interact(click)
    await bot.finished()
    opened = slack.calls_to("views.open")[-1].args
    assert opened["trigger_id"] == "3.3"
    view = opened["view"]
    text = json.dumps(view)
    assert "No contact in B2C Service has the ID 209." in text
    fields = {b["block_id"]: b for b in view["blocks"] if "block_id" in b}
    assert fields["name"]["element"]["initial_value"] == "Return customer call"
    assert fields["contact"]["element"]["initial_option"]["value"] == "209"
    assert sandbox.tasks == {}


async def test_slack_rate_limits_are_retried(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    slack.fail("chat.postMessage", "ratelimited", "ratelimited")
    await bot.command("Return customer call @contact 83")
    await bot.finished()
    assert len(sandbox.tasks) == 1
    assert len(slack.top_messages("C1")) == 1
    assert len(replies(slack)) == 1


async def test_slack_away_after_the_task_exists_never_makes_a_second_task(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    slack.fail("chat.postMessage", *["service_unavailable"] * 4)
    await bot.command("Return customer call @contact 83")
    await bot.finished()
    assert len(sandbox.tasks) == 1
    assert slack.top_messages("C1") == []
    [entry] = await bot.runtime.journal.all()
    assert (entry.state, entry.delivery) == ("created", "pending")  # kept for later
    # Slack is back: the sweeper (here: one round of it) posts the kept result
    slack.errors.clear()
    assert await bot.runtime.creator.resume() == 1
    await bot.finished()
    assert len(sandbox.tasks) == 1
    assert len(sandbox.requests_to("POST", "/tasks")) == 1
    [parent] = slack.top_messages("C1")
    [reply] = replies(slack)
    assert "Task #100 created" in reply.text and "#100" in shown(parent)


async def test_concurrent_oracle_calls_are_bounded(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    bound = bot.settings.b2c_max_concurrency
    sandbox.latency = 0.2
    in_flight = peak = 0
    original = sandbox._create_task

    async def counting(request: Any) -> Any:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await original(request)
        finally:
            in_flight -= 1

    sandbox._create_task = counting  # type: ignore[method-assign]
    await asyncio.gather(*(bot.command(f"Task {i}") for i in range(3 * bound)))
    await bot.finished()
    assert len(sandbox.tasks) == 3 * bound
    assert peak <= bound


async def test_two_instances_never_run_the_same_request(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    from bot.app import build_runtime
    from bot.settings import Mode

    if not bot.settings.journal_url.startswith("postgresql"):
        pytest.skip("several processes share a PostgreSQL journal (SQLite refuses a second)")
    other = await build_runtime(bot.settings, Mode.HTTP)  # a second bot on the same database
    try:
        sandbox.inject(Fault(method="POST", path="/tasks", status=503, times=1000))
        await bot.command("Return customer call @contact 83")
        await bot.finished()
        [entry] = await bot.runtime.journal.all()
        assert entry.state == "failed"
        sandbox.faults.clear()
        sandbox.latency = 0.3
        results = await asyncio.gather(
            bot.runtime.creator.retry(entry.id),
            other.creator.retry(entry.id),
            bot.runtime.creator.run(entry.id),
            other.creator.run(entry.id),
        )
        await bot.finished()
        await other.creator.wait_idle()
        assert results[:2].count(True) == 1  # one Retry reopened it
        assert len(sandbox.tasks) == 1
        assert len(replies(slack)) == 2  # the failure, then the created task
    finally:
        await other.close()


async def test_redelivered_command_creates_one_task(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    from urllib.parse import urlencode

    from bot.demo import signed_headers, slash_form

    form = slash_form("/task Return customer call @contact 83", response_url=slack.response_url())
    body = urlencode(form)
    secret = bot.settings.slack_signing_secret.get_secret_value()
    retry_headers = {
        **signed_headers(secret, body),
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }
    await asyncio.gather(
        bot.http.post(bot.url, content=body, headers=signed_headers(secret, body)),
        bot.http.post(bot.url, content=body, headers=retry_headers),
    )
    await bot.finished()
    assert len(sandbox.tasks) == 1
    assert len(slack.top_messages("C0DEMO")) == 1


async def test_oversized_command_gets_a_clear_error(bot: Bot, sandbox: B2CSandbox) -> None:
    response = await bot.command("x" * 40_000)
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "too long (40,000 characters" in body["text"]
    assert sandbox.requests == []


async def test_healthz_reports_database_and_oracle(bot: Bot, sandbox: B2CSandbox) -> None:
    url = bot.url.replace("/slack/events", "/healthz")
    healthy = (await bot.http.get(url)).json()
    assert healthy == {"live": True, "database": {"ok": True}, "oracle": {"ok": True}}
    await sandbox.stop()
    response = await bot.http.get(url)
    assert response.status_code == 200
    assert response.json()["oracle"]["ok"] is False
    assert response.json()["database"] == {"ok": True}


async def test_a_failure_of_background_work_is_logged_once_with_its_correlation_id(
    bot: Bot, caplog: Any
) -> None:
    async def boom() -> None:
        raise RuntimeError("Slack unreachable")

    bot.runtime.creator.spawn(boom(), "show", "corr-123")
    await bot.finished()
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "background_failure"]
    assert record.correlation_id == "corr-123" and "show" in record.getMessage()
    assert "never retrieved" not in caplog.text


def test_text_logs_carry_the_same_fields_as_json() -> None:
    import logging

    from bot.logs import TextFormatter

    record = logging.makeLogRecord(
        {"msg": "request done", "correlation_id": "c1", "task_id": 100, "attempts": 2}
    )
    line = TextFormatter().format(record)
    assert line.endswith("request done [correlation_id=c1 task_id=100 attempts=2]")


# ------------------------------------------------------------------ stopping, resuming, Retry


async def test_sigterm_lets_a_quick_request_finish_and_hands_a_slow_one_back(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, caplog
) -> None:
    creator = bot.runtime.creator
    await creator.stop(grace=0.1)  # nothing running: nothing to say
    assert creator.stopping and "handed back" not in caplog.text
    creator.stopping = False
    sandbox.inject(Fault(method="POST", path="/tasks", status=201, delay=0.2, after_create=True))
    await bot.command("Quick one @contact 83")
    await creator.stop(grace=3)  # finishes within the grace
    assert len(sandbox.tasks) == 1 and "handed back" not in caplog.text
    [quick] = await bot.runtime.journal.all()
    assert quick.state == "created"

    creator.stopping = False
    sandbox.inject(Fault(method="POST", path="/tasks", delay=3, status=503))
    await bot.command("Slow one @contact 83")
    await asyncio.sleep(0.3)  # its run is waiting on Oracle
    with caplog.at_level("INFO", logger="bot.flows.worker"):
        await creator.stop(grace=0.2)
    [line] = [r for r in caplog.records if "handed back" in r.getMessage()]
    assert line.getMessage() == (
        "stopping: 1 request(s) handed back to the journal for another process"
    )
    assert (line.event, line.count) == ("requests_released", 1)  # type: ignore[attr-defined]
    slow = next(e for e in await bot.runtime.journal.all() if e.id != quick.id)
    assert slow.state == "pending"  # kept, for another process (or this one, restarted)
    assert await creator.resume() == 0  # a stopping process takes nothing new


async def test_resume_starts_each_unsettled_request_once_and_says_so(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, caplog
) -> None:
    slack.fail("chat.postMessage", *["service_unavailable"] * 8)
    await bot.command("First @contact 83")
    await bot.command("Second @contact 83")
    await bot.finished()
    slack.errors.clear()
    with caplog.at_level("INFO", logger="bot.flows.worker"):
        assert await bot.runtime.creator.resume() == 2
        assert await bot.runtime.creator.resume() == 0  # already running here
    await bot.finished()
    assert "resuming 2 journaled request(s)" in [r.getMessage() for r in caplog.records]
    assert len(sandbox.tasks) == 2 and len(slack.top_messages("C1")) == 2


async def test_retry_runs_a_failed_request_again_once(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    entry = await a_failed_request(bot, sandbox)
    assert await bot.runtime.creator.retry(entry.id) is True
    assert await bot.runtime.creator.retry(entry.id) is False  # pressed twice: one run
    await bot.finished()
    assert len(sandbox.tasks) == 1
    assert await bot.runtime.creator.retry(entry.id) is False  # created: nothing to retry
    assert await bot.runtime.creator.retry("no-such-request") is False


async def test_a_request_resumed_after_its_post_went_out_finds_the_task_not_a_second(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, caplog
) -> None:
    """A process stopped (or died) while its POST was out; Oracle created the task. The run
    that resumes the request looks for it first, and finds it: one task, one thread."""
    creator = bot.runtime.creator
    sandbox.inject(Fault(method="POST", path="/tasks", status=201, delay=0.5, after_create=True))
    await bot.command("Return customer call @contact 83")
    await sandbox.wait_for(lambda: sandbox.tasks)  # created; its answer is still held back
    await creator.stop(grace=0.0)  # the POST is out: its answer never reaches this run
    await asyncio.sleep(0.6)  # Oracle has answered by now (to no one)
    assert len(sandbox.tasks) == 1
    creator.stopping = False
    with caplog.at_level("INFO", logger="bot.flows.procedure"):
        assert await creator.resume() == 1
        await bot.finished()
    assert len(sandbox.tasks) == 1 and len(sandbox.requests_to("POST", "/tasks")) == 1
    assert the_tasks_query(sandbox)  # it looked, once, and found it at once: no waiting
    assert "may still be in flight" not in caplog.text
    [parent] = slack.top_messages("C1")
    assert "#100" in shown(parent)
    [entry] = await bot.runtime.journal.all()
    assert (entry.state, entry.task_id) == ("created", 100)


async def test_a_request_resumed_while_its_post_is_still_out_waits_for_it_not_a_second(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, caplog
) -> None:
    """The POST of a stopped run is still with Oracle (it creates the task a moment later):
    the run that resumes it looks for that task until the POST's timeout is over, instead of
    sending another."""
    creator = bot.runtime.creator
    sandbox.slow["POST /tasks"] = 1.5  # Oracle creates the task 1.5 s after the POST arrives
    await bot.command("Return customer call @contact 83")
    await sandbox.wait_for(lambda: sandbox.requests_to("POST", "/tasks"))
    await creator.stop(grace=0.0)
    await asyncio.sleep(0.5)  # the process restarts: the POST has been out half a second
    assert sandbox.tasks == {}  # still being created
    creator.stopping = False
    with caplog.at_level("INFO", logger="bot.flows.procedure"):
        assert await creator.resume() == 1
        await bot.finished()
    assert len(sandbox.tasks) == 1 and len(sandbox.requests_to("POST", "/tasks")) == 1
    # it looks until B2C_TIMEOUT (10 s here) and a second have passed since the POST left
    said = re.search(r"for its task for up to ([0-9.]+) s before sending again", caplog.text)
    assert said is not None and 9.0 < float(said.group(1)) <= 10.5
    assert len(sandbox.requests_to("GET", "/queryResults")) <= 5  # a look a second, until found
    [entry] = await bot.runtime.journal.all()
    assert (entry.state, entry.task_id) == ("created", 100)


@pytest.fixture
def chatham_machine(monkeypatch):
    """A server whose own clock is set 13:45 ahead of UTC: only UTC may reach Oracle."""
    import time as clock

    monkeypatch.setenv("TZ", "Pacific/Chatham")
    clock.tzset()
    yield
    monkeypatch.undo()
    clock.tzset()


@pytest.mark.parametrize("command", ["Return customer call @contact 83", "Return customer call"])
async def test_an_unknown_outcome_is_checked_in_utc_with_or_without_a_contact(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, chatham_machine: None, command: str
) -> None:
    bot.runtime.b2c._http.timeout = __import__("httpx").Timeout(0.5)
    sandbox.inject(Fault(method="POST", path="/tasks", status=201, delay=2, after_create=True))
    await bot.command(command)
    await bot.finished()
    assert len(sandbox.tasks) == 1 and len(sandbox.requests_to("POST", "/tasks")) == 1
    query = the_tasks_query(sandbox).query["query"]
    assert ("contact.id = 83" in query) is ("@contact" in command)
    assert "Task #100 created" in replies(slack)[-1].text


async def test_an_unknown_outcome_takes_the_newest_task_of_that_name(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, http: Any, caplog
) -> None:
    """Task 99 of the same name was made by someone else a moment before; ours is 100."""
    sandbox._next_id = 99
    made = await http.post("/tasks", json={"name": "Return customer call"})
    assert made.json()["id"] == 99
    bot.runtime.b2c._http.timeout = __import__("httpx").Timeout(0.5)
    sandbox.inject(Fault(method="POST", path="/tasks", status=201, delay=2, after_create=True))
    with caplog.at_level("INFO", logger="bot.flows.procedure"):
        await bot.command("Return customer call")
        await bot.finished()
    assert sorted(sandbox.tasks) == [99, 100]
    assert "Task #100 created" in replies(slack)[-1].text
    said = [r.getMessage() for r in caplog.records if r.name == "bot.flows.procedure"]
    assert "found the task an earlier attempt created: 100" in said  # 100, not "99" > "100"


async def test_an_unknown_outcome_whose_check_oracle_refuses_says_to_look_first(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    bot.runtime.b2c._http.timeout = __import__("httpx").Timeout(0.5)
    sandbox.inject(Fault(method="POST", path="/tasks", status=201, delay=2, after_create=True))
    sandbox.inject(Fault(method="GET", path="/queryResults", status=403, times=5))
    await bot.command("Return customer call @contact 83")
    await bot.finished()
    assert len(sandbox.requests_to("POST", "/tasks")) == 1  # never re-sent blindly
    [reply] = replies(slack)
    assert "The bot could not tell whether the task was created" in shown(reply)
    assert "Look for the task in B2C Service before pressing Retry" in shown(reply)


def _waits(bot: Bot, error: BaseException | None, attempt: int, samples: int = 30) -> list[float]:
    """What the create procedure waits before a retry, after ``attempt`` failed with
    ``error`` (tenacity's own state, as it hands it over)."""
    from tenacity import RetryCallState, Retrying

    procedure = bot.runtime.creator.procedure
    waits = []
    for _ in range(samples):
        state = RetryCallState(Retrying(), None, (), {})
        state.attempt_number = attempt
        if error is not None:
            state.set_exception((type(error), error, None))
        waits.append(procedure._wait(state))
    return waits


async def test_retry_waits_grow_from_the_policys_minimum_and_honour_oracles_pause(
    bot: Bot,
) -> None:
    from bot.flows.procedure import RetryPolicy
    from bot.oracle.errors import B2CRateLimitError, B2CServerError

    bot.runtime.creator.procedure.retry_policy = RetryPolicy(
        budget=30.0, min_wait=0.001, max_wait=4.0
    )
    down = B2CServerError("away", status=503)
    assert all(0 <= w <= 0.002 for w in _waits(bot, down, 1))  # the first: at most 2 × 0.001
    assert all(0 <= w <= 4.0 for w in _waits(bot, down, 30))  # never past the maximum
    assert max(_waits(bot, down, 30)) > 0.004  # growing past the first ones
    throttled = B2CRateLimitError("slow down", status=429, retry_after=2.5)
    assert all(w == 2.5 for w in _waits(bot, throttled, 1))  # Oracle's pause, at least
    long_pause = B2CRateLimitError("slow down", status=429, retry_after=300.0)
    assert all(w == 30.0 for w in _waits(bot, long_pause, 1))  # never past the budget
    assert all(w <= 0.002 for w in _waits(bot, None, 1))


async def test_a_process_that_loses_its_journal_stops_its_runs_at_once(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    """Other processes may take its requests any moment: it stops working on them (nothing is
    lost: each stays in the journal)."""
    sandbox.slow["POST /tasks"] = 2.0
    await bot.command("Return customer call @contact 83")
    await sandbox.wait_for(lambda: sandbox.requests_to("POST", "/tasks"))
    creator = bot.runtime.creator
    [job] = list(creator._requests.values())
    for lost in bot.runtime.journal.holder.on_lost:  # what the heartbeat's watch calls
        lost()
    await asyncio.sleep(0.1)
    assert job.done()  # stopped, not waiting 2 s for Oracle
    [entry] = await bot.runtime.journal.all()
    assert entry.state == "pending"


async def test_what_follows_a_delivery_is_told_once_and_its_failures_lose_nothing(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, caplog
) -> None:
    """After a result is delivered, the thread sync follows the task (a thread reply only) and
    the listeners (Home tab, assignee) hear of it (a created task only); a bug in either is
    logged with the request's id and stops nothing else."""
    creator = bot.runtime.creator
    followed: list[tuple[int | None, str | None]] = []
    heard: list[tuple[int | None, str]] = []

    async def follow(entry: Any, request: Any) -> None:
        followed.append((entry.task_id, request.thread_ts))
        raise RuntimeError("the sync's bug")

    async def broken(entry: Any, request: Any) -> None:
        raise RuntimeError("a listener's bug")

    async def listening(entry: Any, request: Any) -> None:
        heard.append((entry.task_id, request.user_id))

    creator.tracker = follow
    creator.on_delivered[:] = [broken, listening]
    with caplog.at_level("ERROR", logger="bot.flows.worker"):
        await bot.command("Return customer call @contact 83")
        await bot.finished()
    assert "Task #100 created" in replies(slack)[-1].text  # delivered all the same
    assert followed == [(100, None)] and heard == [(100, "U1")]
    [entry] = await bot.runtime.journal.all()
    cid = entry.request["correlation_id"]
    said = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert said == [f"[{cid}] could not follow the task", f"[{cid}] after delivery"]
    # not created: its thread is offered to the sync (which follows no task), nobody is told
    sandbox.inject(Fault(method="POST", path="/tasks", status=500))
    await bot.command("Second call @contact 83", user="U2")
    await bot.finished()
    assert followed == [(100, None), (None, None)] and heard == [(100, "U1")]
    # delivered elsewhere than in a thread (the bot may not post in the channel): told, not followed
    slack.fail("chat.postMessage", "not_in_channel")
    await bot.command("Third call @contact 83", user="U3", channel="C9")
    await bot.finished()
    assert followed == [(100, None), (None, None)]
    assert heard == [(100, "U1"), (101, "U3")]


async def test_one_request_run_twice_at_once_in_a_process_is_delivered_once(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    """The sweep and a Retry (or two sweeps) may start the same journaled request together:
    one run takes it, the other leaves it."""
    slack.fail("chat.postMessage", *["service_unavailable"] * 8)
    await bot.command("Return customer call @contact 83")
    await bot.finished()
    slack.errors.clear()
    [entry] = await bot.runtime.journal.all()
    assert entry.delivery == "pending"  # created, its result kept for Slack
    creator = bot.runtime.creator
    runs = await asyncio.gather(creator.run(entry.id), creator.run(entry.id))
    assert sorted(run is None for run in runs) == [False, True]
    await bot.finished()
    assert len(slack.top_messages("C1")) == 1 and len(replies(slack)) == 1
    assert len(sandbox.tasks) == 1
    assert await creator.run(entry.id) is None  # delivered: nothing left to run
