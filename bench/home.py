"""The Home features' benchmark.

    python bench/home.py                  # writes docs/home-benchmarks.md (the digest: ~45 min)
    python bench/home.py --tasks 20 --users 30 --reactions 20 --smoke   # it still works

The bot is built exactly as ``python -m bot serve`` builds it (``bot.app.build_runtime``, HTTP
mode, SQLite journal) and served on a local port; the B2C sandbox and the Slack fake run in
the same process, with latencies (Oracle 150 ms, Slack 30 ms a call). CPU figures are this
process's, stand-ins included: an upper bound for the bot's own.

1. The Home tab with ``--tasks`` (200) open tasks: from the signed ``app_home_opened`` event
   to ``views.publish`` reaching Slack, the Oracle calls it took, and the CPU it cost.
2. The morning digest for ``--users`` (5,000) people, all in one time zone (the worst case),
   each with tasks due: Slack calls a second and a minute (``chat.postMessage``, and
   ``users.list``) against ``DIGEST_PER_MINUTE`` and Tier 2, the total time, the CPU.
3. ``--reactions`` (200) :ticket: reactions at once on as many messages, each delivered twice,
   against a burst of as many slash commands in the same run: the ack latencies, the tasks
   made, none twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import build_runtime  # noqa: E402
from bot.demo import signed_headers, slash_form  # noqa: E402
from bot.home.digest import Digests  # noqa: E402
from bot.server import EVENTS_PATH, start_http  # noqa: E402
from bot.settings import Mode, Settings  # noqa: E402
from bot.standins.sandbox import PASSWORD, USERNAME, B2CSandbox  # noqa: E402
from bot.standins.slack_fake import SlackFake  # noqa: E402

ZONE = "America/New_York"
MORNING = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)  # 09:05 in New York


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Stage:
    """The sandbox, the Slack fake and the bot, served locally."""

    def __init__(self, workdir: str, oracle: float, slack: float, **settings: object) -> None:
        self.workdir = workdir
        self.oracle_latency = oracle
        self.slack_latency = slack
        self.extra = settings

    async def __aenter__(self) -> Stage:
        self.sandbox = B2CSandbox()
        await self.sandbox.start()
        self.slack = SlackFake()
        await self.slack.start()
        self.secret = "bench-secret-0123456789"
        self.settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token="xoxb-bench",
            slack_signing_secret=self.secret,
            slack_api_url=self.slack.api_url,
            b2c_site_url=self.sandbox.base_url,
            b2c_username=USERNAME,
            b2c_password=PASSWORD,
            journal_path=self.workdir + "-journal.sqlite3",
            b2c_sync_interval=0,
            **self.extra,
        )
        self.runtime = await build_runtime(self.settings, Mode.HTTP)
        self.runner, port = await start_http(self.runtime, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
        self.http = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=1000))
        self.sandbox.latency = self.oracle_latency
        self.slack.latency = self.slack_latency
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()
        await self.runner.cleanup()
        await self.runtime.close()
        await self.slack.stop()
        await self.sandbox.stop()

    async def event(self, event: dict, event_id: str) -> float:
        """Post a signed Events API event; the ack's latency in seconds."""
        body = json.dumps(
            {"type": "event_callback", "team_id": "T1", "event_id": event_id, "event": event}
        )
        headers = {**signed_headers(self.secret, body), "Content-Type": "application/json"}
        started = time.perf_counter()
        answer = await self.http.post(self.url, content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        return time.perf_counter() - started

    async def command(self, text: str, n: int) -> float:
        form = slash_form(f"/task {text}", response_url=self.slack.response_url("b"))
        form["trigger_id"] = f"bench.{n}"
        body = urlencode(form)
        started = time.perf_counter()
        answer = await self.http.post(
            self.url, content=body, headers=signed_headers(self.secret, body)
        )
        assert answer.status_code == 200
        return time.perf_counter() - started


# ------------------------------------------------------------------ 1. the Home tab
async def home_run(args: argparse.Namespace, workdir: str) -> dict:
    async with Stage(workdir, args.oracle, args.slack) as stage:
        now = datetime.now(UTC)
        stage.sandbox.bulk_tasks(5000, args.tasks)
        for n in range(args.tasks):
            task = stage.sandbox.tasks[5000 + n]
            task["assignedToAccount"] = {"id": 2}
            due = now + timedelta(hours=n - args.tasks // 4)  # a quarter overdue
            task["dueTime"] = due.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        await stage.runtime.creator.catalog.get()
        figures = []
        for attempt in range(args.repeat):
            calls = len(stage.sandbox.requests)
            publishes = len(stage.slack.calls_to("views.publish"))
            cpu = time.process_time()
            started = time.perf_counter()
            event = {"type": "app_home_opened", "user": "U1", "tab": "home", "event_ts": "1.1"}
            await stage.event(event, f"EvH{attempt}")
            await stage.slack.wait_for(
                lambda n=publishes: len(stage.slack.calls_to("views.publish")) > n, 60
            )
            figures.append(
                {
                    "seconds": time.perf_counter() - started,
                    "cpu_ms": (time.process_time() - cpu) * 1000,
                    "oracle_calls": len(stage.sandbox.requests) - calls,
                }
            )
            await stage.runtime.creator.wait_idle()
        view = stage.slack.home_views["U1"]
    return {
        "tasks": args.tasks,
        "runs": figures,
        "blocks": len(view["blocks"]),
    }


# ------------------------------------------------------------------ 2. the morning digest
async def digest_run(args: argparse.Namespace, workdir: str) -> dict:
    async with Stage(workdir, args.oracle, args.slack, digest_per_minute=args.per_minute) as stage:
        users = {
            f"UB{n:05d}": {
                "name": f"user{n}",
                "real_name": f"User {n}",
                "tz": ZONE,
                "email": f"user{n}@bench.example",
            }
            for n in range(args.users)
        }
        stage.slack.users = users
        accounts = stage.sandbox.data["accounts"]
        stage.sandbox.bulk_tasks(100_000, args.users * 2)
        for n in range(args.users):
            accounts[10_000 + n] = {
                "name": f"User {n}",
                "login": f"user{n}",
                "email": f"user{n}@bench.example",
            }
            for k, hours in enumerate((-30, 3)):  # one overdue, one due this afternoon
                task = stage.sandbox.tasks[100_000 + 2 * n + k]
                task["assignedToAccount"] = {"id": 10_000 + n}
                task["dueTime"] = (MORNING + timedelta(hours=hours)).strftime(
                    "%Y-%m-%dT%H:%M:%S.000Z"
                )
        home = stage.runtime.home
        assert home is not None and home.digests is not None
        digests = Digests(replace(home.digests.tools, clock=lambda: MORNING))
        stage.slack.arrived_at.clear()
        cpu = time.process_time()
        started = time.perf_counter()
        sent = await digests.run_once()
        seconds = time.perf_counter() - started
        cpu_s = time.process_time() - cpu
        again = await digests.run_once()  # the next minute: nothing twice
        arrivals = list(stage.slack.arrived_at)
    rates = {}
    for method in ("chat.postMessage", "users.list"):
        times = sorted(t for t, m in arrivals if m == method)
        per_second = max_in_window(times, 1.0)
        per_minute = max_in_window(times, 60.0)
        rates[method] = {"calls": len(times), "max_1s": per_second, "max_60s": per_minute}
    return {
        "users": args.users,
        "per_minute": args.per_minute,
        "sent": sent,
        "sent_again": again,
        "seconds": seconds,
        "cpu_s": cpu_s,
        "rates": rates,
    }


def max_in_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


# ------------------------------------------------------------------ 3. reactions at once
async def reactions_run(args: argparse.Namespace, workdir: str) -> dict:
    async with Stage(workdir, args.oracle, args.slack) as stage:
        count = args.reactions
        messages = [
            stage.slack.post_user_message("CBENCH", f"Customer {n} needs a call back", user="U4")
            for n in range(count)
        ]
        await stage.runtime.creator.catalog.get()
        commands = await asyncio.gather(
            *(stage.command(f"Bench command {n}", n) for n in range(count))
        )
        await stage.runtime.creator.wait_idle()
        before = len(stage.sandbox.tasks)

        def reaction(n: int, user: str) -> dict:
            return {
                "type": "reaction_added",
                "user": user,
                "reaction": "ticket",
                "item": {"type": "message", "channel": "CBENCH", "ts": messages[n].ts},
                "event_ts": f"7.{n}",
            }

        acks = await asyncio.gather(
            *(stage.event(reaction(n, "U1"), f"EvR{n}") for n in range(count)),
            *(stage.event(reaction(n, "U2"), f"EvR2{n}") for n in range(count)),
        )
        await stage.runtime.creator.wait_idle()
        made = [t for t in stage.sandbox.tasks.values() if t["name"].startswith("Customer ")]
        names = [t["name"] for t in made]
    return {
        "reactions": count,
        "reaction_ack_p50": pct(list(acks), 50),
        "reaction_ack_p99": pct(list(acks), 99),
        "command_ack_p50": pct(list(commands), 50),
        "command_ack_p99": pct(list(commands), 99),
        "tasks": len(stage.sandbox.tasks) - before,
        "distinct": len(set(names)),
    }


# ------------------------------------------------------------------ report
def write_report(out: Path, home: dict, digest: dict, reactions: dict, args) -> None:
    runs = home["runs"]
    lines = [
        "# Home features benchmarks",
        "",
        f"`python bench/home.py` on {platform.node() or 'this machine'} "
        f"({platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}), "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Oracle {args.oracle * 1000:.0f} ms and "
        f"Slack {args.slack * 1000:.0f} ms a call; the stand-ins run in the bot's process, so "
        "CPU figures include theirs (an upper bound for the bot's own).",
        "",
        f"## The Home tab with {home['tasks']} open tasks",
        "",
        "| run | event → views.publish | CPU | Oracle calls |",
        "|---|---|---|---|",
    ]
    for n, run in enumerate(runs, 1):
        lines.append(
            f"| {n} | {run['seconds'] * 1000:.0f} ms | {run['cpu_ms']:.0f} ms | "
            f"{run['oracle_calls']} |"
        )
    lines += [
        "",
        f"The view holds {home['blocks']} blocks (Slack's limit: 100): the 40 nearest due, then "
        "Show more. The first run reads the staff account by e-mail; later ones have it cached.",
        "",
        f"## The morning digest for {digest['users']:,} people",
        "",
        f"All in one time zone at 09:05, each with one task overdue and one due that afternoon; "
        f"`DIGEST_PER_MINUTE={digest['per_minute']:g}`.",
        "",
        f"- digests sent: {digest['sent']:,}; a second round the next minute sent "
        f"{digest['sent_again']}",
        f"- total time: {digest['seconds'] / 60:.1f} min; CPU: {digest['cpu_s']:.1f} s "
        f"({digest['cpu_s'] / max(digest['sent'], 1) * 1000:.1f} ms a digest)",
        "",
        "| Slack method | calls | most in any 1 s | most in any 60 s | limit a minute |",
        "|---|---|---|---|---|",
    ]
    limits = {
        "chat.postMessage": f"{digest['per_minute']:g} (DIGEST_PER_MINUTE)",
        "users.list": "20 (Tier 2)",
    }
    for method, rate in digest["rates"].items():
        lines.append(
            f"| `{method}` | {rate['calls']:,} | {rate['max_1s']} | {rate['max_60s']} | "
            f"{limits[method]} |"
        )
    lines += [
        "",
        f"## {reactions['reactions']} reactions at once on {reactions['reactions']} messages",
        "",
        "Each reaction delivered twice (two people), against a burst of as many slash commands "
        "in the same run:",
        "",
        "| burst | ack p50 | ack p99 |",
        "|---|---|---|",
        f"| {reactions['reactions']} commands | {reactions['command_ack_p50'] * 1000:.0f} ms | "
        f"{reactions['command_ack_p99'] * 1000:.0f} ms |",
        f"| {2 * reactions['reactions']} reactions | {reactions['reaction_ack_p50'] * 1000:.0f} ms"
        f" | {reactions['reaction_ack_p99'] * 1000:.0f} ms |",
        "",
        f"Tasks made: {reactions['tasks']} ({reactions['distinct']} distinct messages), one a "
        "message.",
        "",
    ]
    out.write_text("\n".join(lines))


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as workdir:
        home = await home_run(args, os.path.join(workdir, "home"))
        print(json.dumps(home))
        reactions = await reactions_run(args, os.path.join(workdir, "reactions"))
        print(json.dumps(reactions))
        digest = await digest_run(args, os.path.join(workdir, "digest"))
        print(json.dumps(digest))
    ok = (
        reactions["tasks"] == args.reactions
        and reactions["distinct"] == args.reactions
        and digest["sent"] == args.users
        and digest["sent_again"] == 0
        and digest["rates"]["chat.postMessage"]["max_60s"] <= args.per_minute
        and digest["rates"]["users.list"]["max_60s"] <= 20
        and all(run["oracle_calls"] <= 3 for run in home["runs"])
    )
    if not args.smoke:
        write_report(args.out, home, digest, reactions, args)
        print(f"written to {args.out}")
    print("✓" if ok else "✗", "every target met" if ok else "a target missed")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--per-minute", type=float, default=120.0)
    parser.add_argument("--reactions", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--oracle", type=float, default=0.15)
    parser.add_argument("--slack", type=float, default=0.03)
    parser.add_argument("--smoke", action="store_true", help="check only; write no report")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "home-benchmarks.md")
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
