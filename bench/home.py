"""The Home features' benchmark.

    python bench/home.py                  # writes docs/home-benchmarks.md (the digest: ~45 min)
    python bench/home.py --tasks 20 --users 30 --per-minute 600 --reactions 20 --smoke

The bot runs as production runs it (``python -m bot serve``, HTTP mode, SQLite journal, thread
sync off), the B2C sandbox (150 ms a call) and the Slack fake (30 ms a call) in their own
processes; CPU is the bot process's.

1. The Home tab with ``--tasks`` (200) open tasks: from the signed ``app_home_opened`` event
   to ``views.publish`` reaching Slack, the Oracle calls it took, and the bot's CPU.
2. ``--reactions`` (200) :ticket: reactions at once on as many messages, after a burst of as
   many slash commands in the same run: the ack latencies, then the same messages reacted to
   by someone else at once; the tasks made (none twice), and the time until the last.
3. The morning digest for ``--users`` (5,000) people, all in one time zone whose morning it is
   now (the worst case), each with a task overdue and one due later today: Slack calls in any
   second and any minute (``chat.postMessage`` against ``DIGEST_PER_MINUTE``, ``users.list``
   against Tier 2), the total time and the bot's CPU; then a restart, which sends none again.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.journal import start_bot  # noqa: E402
from bench.run import (  # noqa: E402
    bot_settings,
    clean_env,
    cpu_seconds,
    pct,
    read_response,
    request_bytes,
    signed_request,
    start_stand_ins,
)

CHANNEL = "CBENCH"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def raw_burst(port: int, requests: list[bytes]) -> list[float]:
    """Write every request at once on its own open connection; each ack's latency (s)."""
    connections = await asyncio.gather(
        *(asyncio.open_connection("127.0.0.1", port) for _ in requests)
    )
    await asyncio.sleep(0.2)

    async def one(index: int, sent: float) -> float:
        status = await read_response(connections[index][0])
        assert status == 200, status
        return time.monotonic() - sent

    readers = []
    for index, (_reader, writer) in enumerate(connections):
        writer.write(requests[index])
        readers.append(one(index, time.monotonic()))
    acks = await asyncio.gather(*readers)
    for _reader, writer in connections:
        writer.close()
    return list(acks)


def event_bytes(port: int, event: dict, event_id: str) -> bytes:
    body = json.dumps(
        {"type": "event_callback", "team_id": "T1", "event_id": event_id, "event": event}
    )
    return signed_request(port, body, "application/json")


class Stage:
    """The stand-ins and the bot, each its own process."""

    def __init__(self, args: argparse.Namespace, workdir: Path, **settings: str) -> None:
        self.args = args
        self.workdir = workdir
        self.extra = settings

    async def __aenter__(self) -> Stage:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = clean_env()
        self.sandbox, self.fake = start_stand_ins(
            env, self.workdir, self.args.oracle, self.args.slack
        )
        self.settings = {
            **bot_settings(env, self.sandbox, self.fake),
            "JOURNAL_PATH": str(self.workdir / "journal.sqlite3"),
            "B2C_SYNC_INTERVAL": "0",
            "LOG_LEVEL": "WARNING",
            **self.extra,
        }
        self.http = httpx.AsyncClient(timeout=120)
        self.bot = None
        return self

    async def start_bot(self) -> int:
        self.bot, self.port, _ = await start_bot(self.settings, self.workdir)
        return self.port

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()
        for process in (self.bot, self.sandbox, self.fake):
            if process is not None:
                process.stop()

    async def sandbox_config(self, config: dict) -> None:
        answer = await self.http.post(f"{self.sandbox.url}/_sandbox/config", json=config)
        assert answer.status_code == 200, answer.text

    async def fake_config(self, config: dict) -> dict:
        return (await self.http.post(f"{self.fake.url}/_fake/config", json=config)).json()

    async def oracle_calls(self) -> int:
        return (await self.http.get(f"{self.sandbox.url}/_sandbox/stats")).json()["total"]

    async def slack_calls(self, method: str) -> dict:
        answer = await self.http.get(f"{self.fake.url}/_fake/calls", params={"method": method})
        return answer.json()

    async def tasks(self) -> list[dict]:
        return (await self.http.get(f"{self.sandbox.url}/_sandbox/tasks")).json()["items"]


# ------------------------------------------------------------------ 1. the Home tab
async def home_run(args: argparse.Namespace, workdir: Path) -> dict:
    async with Stage(args, workdir) as stage:
        now = datetime.now(UTC)
        await stage.sandbox_config({"bulk_tasks": {"start": 5000, "count": args.tasks}})
        edits = [
            {
                "id": 5000 + n,
                "changes": {
                    "assignedToAccount": {"id": 2},
                    "contact": {"id": 83},
                    "dueTime": stamp(now + timedelta(hours=n - args.tasks // 4)),
                },
            }
            for n in range(args.tasks)
        ]
        await stage.sandbox_config({"edits": edits})
        port = await stage.start_bot()
        assert stage.bot is not None
        figures = []
        for attempt in range(args.repeat):
            before = len((await stage.slack_calls("views.publish"))["arrivals"])
            calls = await stage.oracle_calls()
            cpu = cpu_seconds(stage.bot.popen.pid)
            event = {"type": "app_home_opened", "user": "U1", "tab": "home", "event_ts": "1.1"}
            started = time.monotonic()
            [ack] = await raw_burst(port, [event_bytes(port, event, f"EvH{attempt}")])
            while True:
                arrivals = (await stage.slack_calls("views.publish"))["arrivals"]
                if len(arrivals) > before:
                    break
                await asyncio.sleep(0.01)
            published = arrivals[before][0]
            await asyncio.sleep(0.5)  # the bot settles (nothing else runs)
            figures.append(
                {
                    "ack_ms": ack * 1000,
                    "seconds": published - started,
                    "cpu_ms": (cpu_seconds(stage.bot.popen.pid) - cpu) * 1000,
                    "oracle_calls": await stage.oracle_calls() - calls,
                }
            )
    return {"tasks": args.tasks, "runs": figures}


# ------------------------------------------------------------------ 2. reactions at once
async def reactions_run(args: argparse.Namespace, workdir: Path) -> dict:
    async with Stage(args, workdir) as stage:
        count = args.reactions
        answer = await stage.fake_config(
            {
                "user_messages": [
                    {"channel": CHANNEL, "text": f"Customer {n} needs a call back", "user": "U4"}
                    for n in range(count)
                ]
            }
        )
        messages = answer["user_messages"]
        port = await stage.start_bot()
        response_url = stage.fake.url + "/response/bench"
        commands = await raw_burst(
            port,
            [
                request_bytes(port, f"/task Bench command {n}", response_url, "U1")
                for n in range(count)
            ],
        )
        while len(await stage.tasks()) < count:
            await asyncio.sleep(0.2)

        def reaction(n: int, user: str) -> bytes:
            event = {
                "type": "reaction_added",
                "user": user,
                "reaction": "ticket",
                "item": {"type": "message", "channel": CHANNEL, "ts": messages[n]},
                "event_ts": f"7.{n}",
            }
            return event_bytes(port, event, f"Ev{user}{n}")

        started = time.monotonic()
        acks = await raw_burst(port, [reaction(n, "U1") for n in range(count)])
        # the same messages reacted to again by someone else: no second task
        again = await raw_burst(port, [reaction(n, "U2") for n in range(count)])
        made: list[dict] = []
        while time.monotonic() < started + 600:
            made = [t for t in await stage.tasks() if t["name"].startswith("Customer ")]
            if len(made) >= count:
                break
            await asyncio.sleep(0.2)
        seconds = time.monotonic() - started
        await asyncio.sleep(2)  # anything doubled would show now
        made = [t for t in await stage.tasks() if t["name"].startswith("Customer ")]
        history = len((await stage.slack_calls("conversations.history"))["arrivals"])
    return {
        "reactions": count,
        "reaction_ack_p50": pct(acks, 50),
        "reaction_ack_p99": pct(acks, 99),
        "again_ack_p99": pct(again, 99),
        "command_ack_p50": pct(commands, 50),
        "command_ack_p99": pct(commands, 99),
        "tasks": len(made),
        "distinct": len({t["name"] for t in made}),
        "seconds": seconds,
        "history_calls": history,
    }


# ------------------------------------------------------------------ 3. the morning digest
def morning_zone(now: datetime) -> str:
    """A time zone where it is now between 09:00 and 09:59 (or 10:59), for the digest."""
    for hour in (9, 10):
        for name in sorted(available_timezones()):
            if "/" in name and not name.startswith(("Etc/", "posix/", "right/")):
                if now.astimezone(ZoneInfo(name)).hour == hour:
                    return name
    raise RuntimeError("no time zone has its morning now")


async def digest_run(args: argparse.Namespace, workdir: Path) -> dict:
    async with Stage(args, workdir, DIGEST_PER_MINUTE=str(args.per_minute)) as stage:
        now = datetime.now(UTC)
        zone = morning_zone(now)
        local = now.astimezone(ZoneInfo(zone))
        later_today = min(now + timedelta(hours=1), local.replace(hour=23, minute=0))
        users = {
            f"UB{n:05d}": {
                "name": f"user{n}",
                "real_name": f"User {n}",
                "tz": zone,
                "email": f"user{n}@bench.example",
            }
            for n in range(args.users)
        }
        await stage.fake_config({"users": users})
        accounts = {
            str(10_000 + n): {
                "name": f"User {n}",
                "login": f"user{n}",
                "email": f"user{n}@bench.example",
            }
            for n in range(args.users)
        }
        await stage.sandbox_config(
            {"accounts": accounts, "bulk_tasks": {"start": 100_000, "count": 2 * args.users}}
        )
        edits = []
        for n in range(args.users):
            for k, due in enumerate((now - timedelta(hours=30), later_today)):
                edits.append(
                    {
                        "id": 100_000 + 2 * n + k,
                        "changes": {"assignedToAccount": {"id": 10_000 + n}, "dueTime": stamp(due)},
                    }
                )
        await stage.sandbox_config({"edits": edits})
        await stage.start_bot()
        assert stage.bot is not None
        started = time.monotonic()
        cpu = cpu_seconds(stage.bot.popen.pid)
        limit = started + args.users / args.per_minute * 60 + 300
        sent: list = []
        while time.monotonic() < limit:
            calls = (await stage.slack_calls("chat.postMessage"))["calls"]
            sent = [c for c in calls if str(c["channel"]).startswith("UB")]
            if len(sent) >= args.users:
                break
            await asyncio.sleep(1)
        arrivals = (await stage.slack_calls("chat.postMessage"))["arrivals"]
        seconds = (arrivals[-1][0] if arrivals else time.monotonic()) - started
        cpu_s = cpu_seconds(stage.bot.popen.pid) - cpu
        lists = (await stage.slack_calls("users.list"))["arrivals"]
        # a restart the same morning: its first round runs at once, and sends nothing again
        stage.bot.stop()
        await stage.start_bot()
        await asyncio.sleep(15)
        calls = (await stage.slack_calls("chat.postMessage"))["calls"]
        again = len([c for c in calls if str(c["channel"]).startswith("UB")]) - len(sent)
    rates = {}
    for method, times in (
        ("chat.postMessage", sorted(t for t, _ in arrivals)),
        ("users.list", sorted(t for t, _ in lists)),
    ):
        rates[method] = {
            "calls": len(times),
            "max_1s": max_in_window(times, 1.0),
            "max_60s": max_in_window(times, 60.0),
        }
    return {
        "users": args.users,
        "zone": zone,
        "per_minute": args.per_minute,
        "sent": len(sent),
        "distinct": len({c["channel"] for c in sent}),
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


# ------------------------------------------------------------------ report
def write_report(out: Path, home: dict, reactions: dict, digest: dict, args) -> None:
    lines = [
        "# Home features benchmarks",
        "",
        f"`python bench/home.py` on {platform.node() or 'this machine'} "
        f"({platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}), "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC. The bot as `python -m bot serve` (HTTP mode, "
        f"SQLite journal), the B2C sandbox ({args.oracle * 1000:.0f} ms a call) and the Slack "
        f"fake ({args.slack * 1000:.0f} ms a call) each in its own process; CPU is the bot's. "
        "Each part's figures are from its latest run (`--parts` runs some again; they are kept "
        "in `docs/home-benchmarks.json`).",
        "",
        f"## The Home tab with {home['tasks']} open tasks",
        "",
        "| run | ack | event → views.publish | bot CPU | Oracle calls |",
        "|---|---|---|---|---|",
    ]
    for n, run in enumerate(home["runs"], 1):
        lines.append(
            f"| {n} | {run['ack_ms']:.1f} ms | {run['seconds'] * 1000:.0f} ms | "
            f"{run['cpu_ms']:.0f} ms | {run['oracle_calls']} |"
        )
    lines += [
        "",
        "The first run reads the staff account by e-mail (kept an hour) before the user's "
        "tasks; the tasks they created from Slack take a third query when there are any (none "
        "here). The view shows the 40 nearest due and Show more (Slack allows 100 blocks).",
        "",
        f"## {reactions['reactions']} reactions at once on {reactions['reactions']} messages",
        "",
        "One reaction a message at once, after a burst of as many slash commands in the same "
        "run; then the same messages reacted to by someone else, at once:",
        "",
        "| burst | ack p50 | ack p99 |",
        "|---|---|---|",
        f"| {reactions['reactions']} commands | {reactions['command_ack_p50'] * 1000:.0f} ms | "
        f"{reactions['command_ack_p99'] * 1000:.0f} ms |",
        f"| {reactions['reactions']} reactions | {reactions['reaction_ack_p50'] * 1000:.0f} "
        f"ms | {reactions['reaction_ack_p99'] * 1000:.0f} ms |",
        f"| {reactions['reactions']} reactions again | | "
        f"{reactions['again_ack_p99'] * 1000:.0f} ms |",
        "",
        f"Tasks made: {reactions['tasks']} for {reactions['distinct']} distinct messages, the "
        f"last {reactions['seconds']:.1f} s after the burst; the messages were read in "
        f"{reactions['history_calls']} `conversations.history` call(s) (Tier 3: 50 a minute).",
        "",
        f"## The morning digest for {digest['users']:,} people",
        "",
        f"All in one time zone whose morning it was ({digest['zone']}), each with one task "
        f"overdue and one due later that day; `DIGEST_PER_MINUTE={digest['per_minute']:g}`.",
        "",
        f"- digests sent: {digest['sent']:,} to {digest['distinct']:,} people; after a restart "
        f"the same morning: {digest['sent_again']}",
        f"- from the bot's start to the last digest: {digest['seconds'] / 60:.1f} min; bot CPU "
        f"{digest['cpu_s']:.1f} s ({digest['cpu_s'] / max(digest['sent'], 1) * 1000:.1f} ms a "
        "digest)",
        "",
        "| Slack method | calls | most in any 1 s | most in any 60 s | limit a minute |",
        "|---|---|---|---|---|",
    ]
    limits = {
        "chat.postMessage": f"{digest['per_minute']:g} (`DIGEST_PER_MINUTE`)",
        "users.list": "20 (Tier 2)",
    }
    for method, rate in digest["rates"].items():
        lines.append(
            f"| `{method}` | {rate['calls']:,} | {rate['max_1s']} | {rate['max_60s']} | "
            f"{limits[method]} |"
        )
    lines.append("")
    out.write_text("\n".join(lines))


PARTS = {"home": home_run, "reactions": reactions_run, "digest": digest_run}


async def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="bench-home-"))
    # each part's latest figures are kept (--parts runs some again; the report takes all)
    kept = {}
    if args.results.exists() and not args.smoke:
        kept = json.loads(args.results.read_text())
    for name in filter(None, args.parts.split(",")):
        kept[name] = await PARTS[name](args, workdir / name)
        print(json.dumps(kept[name]), flush=True)
        if not args.smoke:
            args.results.write_text(json.dumps(kept, indent=1))
    home, reactions, digest = (kept.get(name) for name in PARTS)
    checks = []
    if home:
        checks.append(all(run["oracle_calls"] <= 3 for run in home["runs"]))
    if reactions:
        checks.append(reactions["tasks"] == reactions["distinct"] == reactions["reactions"])
    if digest:
        checks += [
            digest["sent"] == digest["users"] == digest["distinct"],
            digest["sent_again"] == 0,
            digest["rates"]["chat.postMessage"]["max_60s"] <= digest["per_minute"] + 1,
            digest["rates"]["users.list"]["max_60s"] <= 20,
        ]
    ok = all(checks)
    if not args.smoke and home and reactions and digest:
        write_report(args.out, home, reactions, digest, args)
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
    parser.add_argument("--parts", default="home,reactions,digest")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "home-benchmarks.md")
    parser.add_argument(
        "--results",
        type=Path,
        default=ROOT / "docs" / "home-benchmarks.json",
        help="each part's latest figures (kept between runs of some --parts)",
    )
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
