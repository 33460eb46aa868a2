"""``GET /metrics``: scraped while requests run, in both modes, and held against what the
stand-ins received (every Oracle call by operation and status, every Slack call by method and
error, every request by outcome); the labels and outcomes table by table."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.http_retry.response import HttpResponse

from bot.demo import slash_form
from bot.flows.worker import outcome_of
from bot.metrics import Metrics
from bot.oracle.client import operation
from bot.server import EVENTS_PATH, start_health
from bot.slack.watch import ended
from bot.standins.sandbox import B2CSandbox, Fault
from bot.standins.slack_fake import SlackFake
from tests.conftest import KNOWN_SECRETS, Bot, socket_mode_bot
from tests.test_announce import entry

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(http: httpx.AsyncClient, url: str) -> Samples:
    """The scraped samples, as Prometheus reads them (its own parser)."""
    answer = await http.get(url)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert not any(secret in answer.text for secret in KNOWN_SECRETS)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def by(samples: Samples, name: str, *labels: str) -> Counter[tuple[str, ...]]:
    """A counter's samples by the values of ``labels`` (zeros left out)."""
    counts: Counter[tuple[str, ...]] = Counter()
    for (sample, pairs), count in samples.items():
        if sample == name and count:
            given = dict(pairs)
            counts[tuple(given[label] for label in labels)] += int(count)
    return counts


def oracle_received(sandbox: B2CSandbox, unanswered: str = "") -> Counter[tuple[str, ...]]:
    """The calls the sandbox received, by operation and the status it answered with
    (``unanswered``: what the bot saw of a call whose answer never reached it)."""
    return Counter(
        (operation(r.method, r.path), str(r.status) if r.status is not None else unanswered)
        for r in sandbox.requests
    )


def slack_received(slack: SlackFake) -> Counter[tuple[str, ...]]:
    """The Web API calls the fake received, by method and the error it answered (Socket
    Mode's apps.connections.open too: it goes through the bot's client), and the response_url
    posts."""
    calls = Counter((c.method, c.error) for c in slack.calls)
    return calls + Counter({("response_url", ""): len(slack.responses)})


def metrics_url(bot: Bot) -> str:
    return bot.url.replace(EVENTS_PATH, "/metrics")


async def test_a_scrape_while_requests_run_and_after_counts_what_the_stand_ins_received(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sandbox.slow["POST /tasks"] = 0.5  # the creates in flight while the first scrape runs
    sent = asyncio.gather(*(bot.command(f"Call back {n} @contact 83") for n in range(5)))
    await sandbox.wait_for(lambda: sandbox.requests_to("POST", "/tasks"))
    during = await scrape(bot.http, metrics_url(bot))
    assert value(during, "taskbot_journal_backlog") >= 1  # journaled, not yet settled
    assert value(during, "taskbot_journal_oldest_open_seconds") > 0
    assert value(during, "taskbot_journal_up") == 1
    await sent
    await bot.finished()
    await bot.command("help")  # a command answered at once: an ack, no request
    after = await scrape(bot.http, metrics_url(bot))

    assert by(after, "taskbot_requests_total", "kind", "outcome") == {("command", "created"): 5}
    assert len(sandbox.tasks) == 5
    assert value(after, "taskbot_journal_backlog") == 0
    assert value(after, "taskbot_journal_oldest_open_seconds") == 0
    assert value(after, "taskbot_ack_seconds_count", mode="http") == 6
    oracle = by(after, "taskbot_oracle_calls_total", "operation", "status")
    assert oracle == oracle_received(sandbox)
    assert oracle[("create_task", "201")] == 5
    took = by(after, "taskbot_oracle_call_seconds_count", "operation")
    assert took == Counter((operation(r.method, r.path),) for r in sandbox.requests)
    assert value(after, "taskbot_oracle_call_seconds_sum", operation="create_task") >= 5 * 0.5
    told = by(after, "taskbot_slack_calls_total", "method", "error")
    assert told == slack_received(slack)
    assert told[("chat.postMessage", "")] == 10  # the task message and the thread reply of each
    assert value(after, "process_resident_memory_bytes") > 0


async def test_oracle_refusing_and_answering_late_are_counted_as_oracle_answered(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sandbox.inject(Fault(method="POST", path="/tasks", status=503))  # then it works
    await bot.command("Call back @contact 83")
    await bot.finished()
    sandbox.inject(Fault(method="POST", path="/tasks", status=400))  # refused
    await bot.command("Call back again @contact 83")
    await bot.finished()
    # sent, unanswered, and Oracle refuses the query that would tell whether it went through
    bot.runtime.b2c._http.timeout = httpx.Timeout(0.5)
    sandbox.inject(Fault(method="POST", path="/tasks", status=201, delay=2, after_create=True))
    sandbox.inject(Fault(method="GET", path="/queryResults", status=403, times=5))
    await bot.command("Call back once more @contact 83")
    await bot.finished()
    samples = await scrape(bot.http, metrics_url(bot))

    assert by(samples, "taskbot_requests_total", "kind", "outcome") == {
        ("command", "created"): 1,
        ("command", "refused"): 1,
        ("command", "unknown_outcome"): 1,
    }
    oracle = by(samples, "taskbot_oracle_calls_total", "operation", "status")
    assert oracle == oracle_received(sandbox, unanswered="timeout")
    assert oracle[("create_task", "503")] == 1 and oracle[("create_task", "400")] == 1
    assert oracle[("create_task", "timeout")] == 1 and oracle[("query", "403")] >= 1
    assert by(samples, "taskbot_slack_calls_total", "method", "error") == slack_received(slack)


async def test_slack_errors_are_counted_by_method_and_slacks_own_code(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    slack.fail("chat.postMessage", "channel_not_found")  # the task message: not in C1
    await bot.command("Call back @contact 83")
    await bot.finished()
    samples = await scrape(bot.http, metrics_url(bot))
    counted = by(samples, "taskbot_slack_calls_total", "method", "error")
    assert counted == slack_received(slack)
    assert counted[("chat.postMessage", "channel_not_found")] == 1
    assert by(samples, "taskbot_requests_total", "kind", "outcome") == {("command", "created"): 1}


async def test_a_synced_change_is_timed_from_oracle_to_its_line(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sync = bot.runtime.sync
    assert sync is not None
    await bot.command("Call back @contact 83")
    await bot.finished()
    await sync.poll_once()
    sandbox.agent_edit(100, {"statusWithType": {"status": {"id": 17}}})
    assert await sync.poll_once() == 1
    samples = await scrape(bot.http, metrics_url(bot))
    assert value(samples, "taskbot_sync_round_seconds_count") == 2
    assert value(samples, "taskbot_sync_lag_seconds_count") == 1  # one change told
    assert 0 <= value(samples, "taskbot_sync_lag_seconds_sum") < 60


async def test_socket_mode_serves_metrics_beside_healthz(
    sandbox: B2CSandbox, slack: SlackFake
) -> None:
    async with socket_mode_bot(sandbox, slack) as runtime:
        health = await start_health(runtime, "127.0.0.1", 0)
        assert health is not None
        host, port = health.addresses[0][:2]
        try:
            payload = slash_form("/task Call back @contact 83", response_url=slack.response_url())
            await slack.send_envelope("slash_commands", payload)
            await slack.send_envelope("slash_commands", {**payload, "text": "help"})
            await runtime.creator.wait_idle()
            async with httpx.AsyncClient() as http:
                assert (await http.get(f"http://{host}:{port}/healthz")).status_code == 200
                samples = await scrape(http, f"http://{host}:{port}/metrics")
        finally:
            await health.cleanup()
    assert value(samples, "taskbot_ack_seconds_count", mode="socket") == 2
    assert by(samples, "taskbot_requests_total", "kind", "outcome") == {("command", "created"): 1}
    assert by(samples, "taskbot_oracle_calls_total", "operation", "status") == oracle_received(
        sandbox
    )
    assert by(samples, "taskbot_slack_calls_total", "method", "error") == slack_received(slack)


async def test_openmetrics_when_the_scraper_asks_for_it(bot: Bot) -> None:
    answer = await bot.http.get(
        metrics_url(bot), headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert answer.headers["Content-Type"].startswith("application/openmetrics-text")
    assert answer.text.rstrip().endswith("# EOF")


# ------------------------------------------------------------------ table by table
@pytest.mark.parametrize(
    ("method", "path", "named"),
    [
        ("POST", "tasks", "create_task"),
        ("GET", "tasks", "list_tasks"),
        ("GET", "tasks/12", "get_task"),
        ("PATCH", "tasks/12", "update_task"),
        ("DELETE", "tasks/12", "delete_task"),
        ("POST", "tasks/12/notes", "add_note"),
        ("GET", "tasks/12/notes", "read_notes"),
        ("GET", "queryResults", "query"),
        ("GET", "/queryResults", "query"),
        ("GET", "namedIDs/tasks/priority", "named_ids"),
        ("GET", "metadata-catalog/tasks", "metadata"),
        ("GET", "contacts/83", "other"),
        ("PUT", "tasks/12", "tasks"),
        ("PUT", "tasks", "tasks"),
    ],
)
def test_each_oracle_call_has_an_operation_without_ids(method: str, path: str, named: str) -> None:
    assert operation(method, path) == named


def _answer(status: int, body: dict[str, Any] | None) -> HttpResponse:
    return HttpResponse(status_code=status, headers={}, body=body)


@pytest.mark.parametrize(
    ("response", "error", "said"),
    [
        (_answer(200, {"ok": True}), None, ""),
        (_answer(200, {"ok": False, "error": "channel_not_found"}), None, "channel_not_found"),
        (_answer(429, {"ok": False, "error": "ratelimited"}), None, "ratelimited"),
        (_answer(200, {"ok": False}), None, "200"),
        (_answer(503, None), None, "503"),
        (_answer(302, None), None, ""),
        (None, TimeoutError(), "timeout"),
        (None, ConnectionResetError(), "connection"),
        (None, ValueError("not JSON"), "other"),
    ],
)
def test_each_slack_call_ends_in_a_word(
    response: HttpResponse | None, error: Exception | None, said: str
) -> None:
    assert ended(response, error) == said


@pytest.mark.parametrize(
    ("state", "reason_kind", "outcome"),
    [
        ("created", None, "created"),
        ("rejected", "B2CValidationError", "refused"),
        ("failed", "RetriesExhausted", "failed"),
        ("failed", "OutcomeUnknown", "unknown_outcome"),
        ("pending", None, "handed_over"),
    ],
)
def test_each_run_ends_in_one_outcome(state: str, reason_kind: str | None, outcome: str) -> None:
    assert outcome_of(entry(state=state, reason_kind=reason_kind)) == outcome


def _text(metrics: Metrics) -> str:
    from prometheus_client import generate_latest

    return generate_latest(metrics.registry).decode()


def test_no_label_takes_text_from_outside() -> None:
    metrics = Metrics()
    metrics.slack_call("chat.postMessage", 'invalid "blocks"\n{}')  # not a Slack error code
    metrics.slack_call("chat.postMessage", "x" * 500)
    metrics.slack_call("https://hooks.slack.com/commands/T1/123/abc", "")
    metrics.request_ended("command; DROP", "created")
    metrics.request_ended("command", "exploded")
    text = _text(metrics)
    assert 'taskbot_slack_calls_total{error="other",method="chat.postMessage"} 2.0' in text
    assert 'taskbot_slack_calls_total{error="",method="other"} 1.0' in text
    assert 'taskbot_requests_total{kind="other",outcome="created"} 1.0' in text
    assert 'taskbot_requests_total{kind="command",outcome="other"} 1.0' in text


async def test_a_scrape_with_the_journal_away_says_so_and_keeps_the_last_figures() -> None:
    metrics = Metrics()

    async def backlog() -> tuple[int, float | None]:
        return 3, 100.0

    async def away() -> tuple[int, float | None]:
        raise ConnectionRefusedError

    body, _type = await metrics.exposition(None, backlog, now=lambda: 160.0)
    assert b"taskbot_journal_backlog 3.0" in body
    assert b"taskbot_journal_oldest_open_seconds 60.0" in body
    body, _type = await metrics.exposition(None, away, now=lambda: 200.0)
    assert b"taskbot_journal_up 0.0" in body
    assert b"taskbot_journal_backlog 3.0" in body


def test_the_readme_lists_every_metric_and_its_alerts_use_only_those() -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("### Monitoring: `GET /metrics`")[1].split("\n## ")[0]
    table = [line for line in section.splitlines() if line.startswith("| `")]
    listed = {name for line in table for name in re.findall(r"`(taskbot_[a-z_]+)", line)}
    ours = {
        family.name
        for family in text_string_to_metric_families(_text(Metrics()))
        if family.name.startswith("taskbot_")
    }
    # a counter's family is named without _total, as Prometheus' parser reads it
    assert {name.removesuffix("_total") for name in listed} == ours
    rules = section.split("```yaml")[1].split("```")[0]
    used = set(re.findall(r"\b(taskbot_[a-z_]+)", rules))
    assert used and {name.removesuffix("_total") for name in used} <= ours


def test_the_exposition_is_pinned(snapshot: Any) -> None:
    """Names, help, types, labels and buckets are what dashboards and alerts are built on: a
    change to any of them is a change to review (the process's own series left out)."""
    metrics = Metrics()
    metrics.request_ended("command", "created")
    metrics.acked("http", 0.02)
    metrics.oracle_call("create_task", "201", 0.3)
    metrics.slack_call("chat.postMessage", "")
    metrics.sync_round(0.4)
    metrics.sync_told(7.0)
    metrics.round_failing("thread sync: polling Oracle", False)
    text = _text(metrics)
    pinned = [
        line for line in text.splitlines() if "process_" not in line and "python_" not in line
    ]
    assert "\n".join(pinned) == snapshot


def test_hooks_that_clamp_and_flag() -> None:
    metrics = Metrics()
    metrics.round_failing("morning digests", True)
    assert 'taskbot_background_failing{round="morning digests"} 1.0' in _text(metrics)
    metrics.round_failing("morning digests", False)
    assert 'taskbot_background_failing{round="morning digests"} 0.0' in _text(metrics)
    metrics.sync_told(-3.0)  # Oracle's clock a little ahead of ours: no negative lag
    assert "taskbot_sync_lag_seconds_sum 0.0" in _text(metrics)


async def test_the_oldest_open_request_just_made_is_zero_seconds_old() -> None:
    metrics = Metrics()

    async def backlog() -> tuple[int, float | None]:
        return 1, 100.0

    body, content_type = await metrics.exposition(None, backlog, now=lambda: 100.0)
    assert b"taskbot_journal_oldest_open_seconds 0.0" in body
    assert content_type.startswith("text/plain; version=0.0.4")


async def test_the_slack_watcher_names_each_call_and_never_retries() -> None:
    from slack_sdk.http_retry.request import HttpRequest
    from slack_sdk.http_retry.state import RetryState

    from bot.slack.watch import CallWatcher

    seen: list[tuple[str, str]] = []
    watcher = CallWatcher(lambda method, error: seen.append((method, error)))
    hook = CallWatcher(lambda method, error: seen.append((method, error)), "response_url")
    request = HttpRequest(method="POST", url="https://slack.com/api/chat.postMessage/", headers={})
    state = RetryState()
    assert not await watcher.can_retry_async(
        state=state, request=request, response=_answer(200, {"ok": True})
    )
    assert not await watcher.can_retry_async(state=state, request=request, error=TimeoutError())
    assert not await hook.can_retry_async(state=state, request=request, response=_answer(400, None))
    assert seen == [
        ("chat.postMessage", ""),
        ("chat.postMessage", "timeout"),
        ("response_url", "400"),
    ]
