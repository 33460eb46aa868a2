"""What a monitoring system scrapes at ``GET /metrics`` (Prometheus' text format, from the
``prometheus-client`` library): the bot's instruments, on a registry of its own per running
bot, fed by the hooks the flows and adapters offer (``bot.app`` connects them). Every label
takes a few known values only (a Slack error code outside Slack's pattern is "other"), so no
user text and no secret can reach a label."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics import disable_created_metrics

PREFIX = "taskbot"
OUTCOMES = ("created", "refused", "failed", "unknown_outcome", "handed_over")
_SLACK_ERROR = re.compile(r"[a-z_]{1,60}")
_WORD = re.compile(r"[A-Za-z_.]{1,40}")

# seconds: Slack drops a request not acked in 3
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
ORACLE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)
ROUND_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
LAG_BUCKETS = (1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
# no "…_created" series beside each counter and histogram (when each was first used): a
# series per label set that no alert or graph of ours reads
disable_created_metrics()


class Metrics:
    """The instruments of one running bot and the hooks that feed them."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=registry)  # CPU seconds, memory, open files (Linux)
        PlatformCollector(registry=registry)  # the Python version
        self.requests = Counter(
            f"{PREFIX}_requests",
            "Journaled task requests by kind (command, form, reaction, workflow) and how a run "
            "of them ended: created, refused (Oracle or the site refused the content), failed "
            "(Oracle away past the retry budget), unknown_outcome (Oracle could not say whether "
            "an unanswered create went through), handed_over (left in the journal for a later "
            "run: shutdown, a lost lease, Slack away)",
            ["kind", "outcome"],
            registry=registry,
        )
        self.acks = Histogram(
            f"{PREFIX}_ack_seconds",
            "From a Slack delivery's arrival to its acknowledgement (Slack waits 3 s)",
            ["mode"],
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        self.oracle_calls = Counter(
            f"{PREFIX}_oracle_calls",
            "Calls to Oracle B2C Service by operation and HTTP status (timeout, connection: "
            "no answer)",
            ["operation", "status"],
            registry=registry,
        )
        self.oracle_seconds = Histogram(
            f"{PREFIX}_oracle_call_seconds",
            "How long Oracle B2C Service took to answer, by operation",
            ["operation"],
            buckets=ORACLE_BUCKETS,
            registry=registry,
        )
        self.slack_calls = Counter(
            f"{PREFIX}_slack_calls",
            "Calls to Slack by Web API method (response_url: an answer to a request) and "
            'error ("" when it worked; Slack\'s error code, an HTTP status, or connection)',
            ["method", "error"],
            registry=registry,
        )
        self.backlog = Gauge(
            f"{PREFIX}_journal_backlog",
            "Requests in the journal still to settle or to deliver (shared by every process "
            "of one journal)",
            registry=registry,
        )
        self.oldest = Gauge(
            f"{PREFIX}_journal_oldest_open_seconds",
            "Age of the oldest request still to settle or to deliver (0: none)",
            registry=registry,
        )
        self.journal_up = Gauge(
            f"{PREFIX}_journal_up",
            "Whether the journal's database answered the last scrape (1) or not (0: the two "
            "journal figures above are those of the last scrape it answered)",
            registry=registry,
        )
        self.rounds = Histogram(
            f"{PREFIX}_sync_round_seconds",
            "How long a round of the thread sync took (this process held the poller)",
            buckets=ROUND_BUCKETS,
            registry=registry,
        )
        self.lag = Histogram(
            f"{PREFIX}_sync_lag_seconds",
            "From a change in Oracle (its updatedTime, by Oracle's clock) to its line in the "
            "task's thread",
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.failing = Gauge(
            f"{PREFIX}_background_failing",
            "Whether a background round is failing now (1) or not (0)",
            ["round"],
            registry=registry,
        )

    # ------------------------------------------------------------------ the hooks
    def request_ended(self, kind: str, outcome: str) -> None:
        self.requests.labels(_word(kind), outcome if outcome in OUTCOMES else "other").inc()

    def acked(self, mode: str, seconds: float) -> None:
        self.acks.labels(mode).observe(seconds)

    def oracle_call(self, operation: str, status: str, seconds: float) -> None:
        self.oracle_calls.labels(operation, status).inc()
        self.oracle_seconds.labels(operation).observe(seconds)

    def slack_call(self, method: str, error: str) -> None:
        if error and not _SLACK_ERROR.fullmatch(error) and not error.isdigit():
            error = "other"
        self.slack_calls.labels(_word(method), error).inc()

    def sync_round(self, seconds: float) -> None:
        self.rounds.observe(seconds)

    def sync_told(self, lag: float) -> None:
        self.lag.observe(max(lag, 0.0))

    def round_failing(self, what: str, failing: bool) -> None:
        self.failing.labels(what).set(1 if failing else 0)

    # ------------------------------------------------------------------ a scrape
    async def exposition(
        self,
        accept: str | None,
        backlog: Callable[[], Awaitable[tuple[int, float | None]]],
        *,
        now: Callable[[], float] = time.time,
    ) -> tuple[bytes, str]:
        """The metrics as the scraper asked for them (``Accept``: Prometheus' text format or
        OpenMetrics), and their content type. ``backlog``: the journal's count of requests
        still open and the oldest one's creation time, read for this scrape."""
        try:
            count, oldest = await backlog()
        except Exception:  # the database is away: say so, keep the last figures
            self.journal_up.set(0)
        else:
            self.journal_up.set(1)
            self.backlog.set(count)
            self.oldest.set(max(now() - oldest, 0.0) if oldest is not None else 0.0)
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


def _word(value: str) -> str:
    """A label value from our own names (a kind, a method), bounded all the same."""
    return value if _WORD.fullmatch(value) else "other"
