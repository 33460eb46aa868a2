"""The synced threads' benchmark.

    python bench/sync.py                      # writes docs/sync-benchmarks.md
    python bench/sync.py --tracked 500 --minutes 0.5 --replies 20 --smoke   # it still works

1. Oracle → Slack. The bot (``python -m bot serve``, HTTP mode, SQLite journal,
   ``B2C_SYNC_INTERVAL`` 15 s), the B2C sandbox (150 ms per call) and the Slack fake in their
   own processes; ``--tracked`` (10,000) tasks followed by threads; agents change
   ``--per-minute`` (100) of them a minute, spread evenly, for ``--minutes`` (2). Reported:
   Oracle calls per minute (by kind), the bot's CPU per poll and its peak memory, and the lag
   from each change in Oracle to its line in the thread (p50, p95; target p95 ≤ the interval
   + 5 s).
2. Slack → Oracle. ``--replies`` (200) replies in one task's thread at once, as signed Events
   API requests: their ack latency, and that every one became exactly one note.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.journal import start_bot  # noqa: E402
from bench.run import bot_settings as stand_in_settings  # noqa: E402
from bench.run import (  # noqa: E402
    clean_env,
    cpu_seconds,
    machine,
    pct,
    peak_rss_mb,
    read_response,
    signed_request,
    start_stand_ins,
)

FIRST = 1_000_000  # the benchmark's task ids
CHANNEL = "CSYNC"


async def fake_post(http: httpx.AsyncClient, fake_url: str, text: str) -> str:
    answer = await http.post(
        f"{fake_url}/api/chat.postMessage",
        json={"channel": CHANNEL, "text": text},
        headers={"Authorization": "Bearer xoxb-bench"},
    )
    return answer.json()["ts"]


def track_all(journal: Path, parents: dict[int, str], count: int) -> None:
    """Follow ``count`` tasks: what each thread shows is the task as the sandbox made it."""
    shown = json.dumps({"name": None, "status": "Not Started"}, sort_keys=True)
    with sqlite3.connect(journal, timeout=10) as db:
        db.executemany(
            "INSERT INTO tracked_tasks (task_id, team_id, channel_id, message_ts, thread_ts, "
            "requester, shown, notes_seen, tracked_at) VALUES (?, 'T1', ?, ?, ?, 'U1', ?, 0, ?)",
            [
                (
                    FIRST + n,
                    CHANNEL,
                    parents.get(FIRST + n, f"{n}.000001"),
                    parents.get(FIRST + n, f"{n}.000001"),
                    shown.replace('"name": null', f'"name": "Bench task {FIRST + n}"'),
                    time.time(),
                )
                for n in range(count)
            ],
        )


async def thread_lines(http: httpx.AsyncClient, fake_url: str) -> dict[str, float]:
    """thread ts -> when its first "changed in B2C Service" line arrived (monotonic)."""
    data = (await http.get(f"{fake_url}/_fake/messages", params={"threaded": "1"})).json()
    arrived: dict[str, float] = {}
    for message in data["messages"]:
        if "changed in B2C Service" in message["text"]:
            arrived.setdefault(message["thread_ts"], message["received_at"])
    return arrived


def polling_bot(name: str, interval: float) -> tuple[Path, Any, Any, Path, dict[str, str]]:
    """The stand-ins started (Slack 30 ms a call; Oracle's latency set once the tasks are
    in), and the settings of a bot that polls every ``interval`` seconds: its work folder,
    the sandbox, the Slack fake, its journal, its settings."""
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    env = clean_env()
    sandbox, fake = start_stand_ins(env, workdir, 0.0, 0.03)
    journal = workdir / "journal.sqlite3"
    settings = {
        **stand_in_settings(env, sandbox, fake),
        "JOURNAL_PATH": str(journal),
        "B2C_SYNC_INTERVAL": str(interval),
        "LOG_LEVEL": "WARNING",
    }
    return workdir, sandbox, fake, journal, settings


async def run(args: argparse.Namespace) -> int:
    workdir, sandbox, fake, journal, settings = polling_bot("sync", args.interval)
    changes = int(args.per_minute * args.minutes)
    report: dict = {}
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            await http.post(
                f"{sandbox.url}/_sandbox/config",
                json={"bulk_tasks": {"start": FIRST, "count": args.tracked}},
            )
            changed = [FIRST + (n * 7919) % args.tracked for n in range(changes)]
            parents = {}
            for task_id in dict.fromkeys(changed):
                parents[task_id] = await fake_post(http, fake.url, f"Task #{task_id}")
            bot, port, _startup = await start_bot(settings, workdir)
            try:
                track_all(journal, parents, args.tracked)
                await http.post(f"{sandbox.url}/_sandbox/config", json={"latency": args.oracle})
                stats_before = (await http.get(f"{sandbox.url}/_sandbox/stats")).json()
                cpu_before, started = cpu_seconds(bot.popen.pid), time.monotonic()
                made: dict[str, float] = {}  # thread ts -> when its task was changed
                gap = 60.0 / args.per_minute
                for number, task_id in enumerate(changed):
                    await asyncio.sleep(max(0.0, started + number * gap - time.monotonic()))
                    status = 17 if number % 2 == 0 else 19  # In Progress, Waiting
                    await http.post(
                        f"{sandbox.url}/_sandbox/tasks/{task_id}",
                        json={"statusWithType": {"status": {"id": status}}},
                    )
                    made.setdefault(parents[task_id], time.monotonic())
                deadline = time.monotonic() + args.interval * 2 + 30
                arrived: dict[str, float] = {}
                while time.monotonic() < deadline:
                    arrived = await thread_lines(http, fake.url)
                    if set(made) <= set(arrived):
                        break
                    await asyncio.sleep(0.5)
                elapsed = time.monotonic() - started
                cpu = cpu_seconds(bot.popen.pid) - cpu_before
                stats = (await http.get(f"{sandbox.url}/_sandbox/stats")).json()
                calls: dict[str, int] = {}
                for key, count in stats["requests"].items():
                    kind = re.sub(r"/\d+", "/{id}", key)  # by kind, not by task
                    made_here = count - stats_before["requests"].get(key, 0)
                    calls[kind] = calls.get(kind, 0) + made_here
                lags = [arrived[ts] - made[ts] for ts in made if ts in arrived]
                polls = max(1, round(elapsed / args.interval))
                report["sync"] = {
                    "tracked": args.tracked,
                    "changes": len(made),
                    "told": len(lags),
                    "minutes": elapsed / 60,
                    "calls_per_minute": {
                        k: v / (elapsed / 60) for k, v in sorted(calls.items()) if v
                    },
                    "cpu_per_poll_ms": cpu / polls * 1000,
                    "peak_rss_mb": peak_rss_mb(bot.popen.pid),
                    "lag_p50": pct(lags, 50),
                    "lag_p95": pct(lags, 95),
                }
                report["replies"] = await replies_at_once(
                    http, port, sandbox.url, parents[changed[0]], changed[0], args.replies
                )
            finally:
                bot.stop()
    finally:
        fake.stop()
        sandbox.stop()
    s, r = report["sync"], report["replies"]
    print(
        f"sync: {s['tracked']:,} tracked, {s['changes']} changed in {s['minutes']:.1f} min, "
        f"{s['told']} told; lag p50 {s['lag_p50']:.1f} s, p95 {s['lag_p95']:.1f} s "
        f"(interval {args.interval:g} s); CPU per poll {s['cpu_per_poll_ms']:.1f} ms; "
        f"peak RSS {s['peak_rss_mb']:.0f} MB; Oracle calls per minute "
        + ", ".join(f"{k} {v:.1f}" for k, v in s["calls_per_minute"].items())
    )
    print(
        f"replies: {r['sent']} at once: ack p50 {r['ack_p50']:.1f} ms, p99 {r['ack_p99']:.1f} ms; "
        f"notes saved {r['notes']} (distinct {r['distinct']}) in {r['seconds']:.1f} s"
    )
    ok = s["told"] == s["changes"] and r["notes"] == r["sent"] == r["distinct"]
    if args.out and not args.smoke:
        write_report(Path(args.out), report, args)
        print(f"wrote {args.out}")
    return 0 if ok else 1


async def replies_at_once(
    http: httpx.AsyncClient, port: int, sandbox_url: str, thread_ts: str, task_id: int, n: int
) -> dict:
    bodies = [
        json.dumps(
            {
                "type": "event_callback",
                "team_id": "T1",
                "event_id": f"EvBench{i}",
                "event": {
                    "type": "message",
                    "channel": CHANNEL,
                    "user": "U2",
                    "text": f"Reply {i}",
                    "ts": f"{2_000_000_000 + i}.000100",
                    "thread_ts": thread_ts,
                },
            }
        )
        for i in range(n)
    ]

    # as bench/run.py does for commands: connections opened first, raw requests written at
    # once (an HTTP client's own pool would be what is measured)
    connections = await asyncio.gather(
        *(asyncio.open_connection("127.0.0.1", port) for _ in bodies)
    )
    await asyncio.sleep(0.2)

    async def one(index: int, sent: float) -> float:
        status = await read_response(connections[index][0])
        assert status == 200, status
        return (time.monotonic() - sent) * 1000

    started = time.monotonic()
    readers = []
    for index, (_reader, writer) in enumerate(connections):
        writer.write(event_request(port, bodies[index]))
        readers.append(one(index, time.monotonic()))
    acks = await asyncio.gather(*readers)
    for _reader, writer in connections:
        writer.close()
    notes: list[str] = []
    while time.monotonic() < started + 120:
        tasks = (await http.get(f"{sandbox_url}/_sandbox/tasks")).json()["items"]
        [task] = [t for t in tasks if t["id"] == task_id]
        notes = [t for t in task["noteTexts"] if "in Slack: Reply " in t]
        if len(notes) >= n:
            break
        await asyncio.sleep(0.2)
    return {
        "sent": n,
        "ack_p50": pct(list(acks), 50),
        "ack_p99": pct(list(acks), 99),
        "notes": len(notes),
        "distinct": len(set(notes)),
        "seconds": time.monotonic() - started,
    }


def event_request(port: int, body: str) -> bytes:
    """A signed Events API request, as raw HTTP/1.1 bytes."""
    return signed_request(port, body, "application/json")


def write_report(out: Path, report: dict, args: argparse.Namespace) -> None:
    s, r = report["sync"], report["replies"]
    calls = "; ".join(f"`{k}` {v:.1f}" for k, v in s["calls_per_minute"].items())
    total = sum(s["calls_per_minute"].values())
    target = args.interval + 5
    lines = [
        "# Synced threads benchmarks",
        "",
        f"Taken {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`python bench/sync.py` on {machine()}.",
        "",
        "## Oracle → Slack",
        "",
        f"The bot (`python -m bot serve`, HTTP mode, SQLite journal, `B2C_SYNC_INTERVAL` "
        f"{args.interval:g} s), the B2C sandbox ({args.oracle * 1000:.0f} ms per call) and the "
        f"Slack fake (30 ms) in their own processes. {s['tracked']:,} tasks followed by threads; "
        f"agents changed {args.per_minute:g} a minute (a status each, evenly spread) for "
        f"{args.minutes:g} minutes: {s['changes']} changes, measured over {s['minutes']:.1f} "
        "minutes (until the last line arrived).",
        "",
        f"- told in their threads: {s['told']} of {s['changes']}",
        f"- lag from the change in Oracle to its line in Slack: p50 **{s['lag_p50']:.1f} s**, "
        f"p95 **{s['lag_p95']:.1f} s** (target ≤ the interval + 5 s = {target:g} s: "
        f"{'✓' if s['lag_p95'] <= target else '✗'})",
        f"- Oracle calls per minute: {total:.1f} in all ({calls}); for {s['tracked']:,} "
        f"tracked tasks, one query a round (the changed tasks' fields come with it) plus the "
        f"rolling deletion check, and one read of its notes for each task someone else changed",
        f"- bot CPU per poll (all the bot's CPU over the run ÷ the rounds): "
        f"{s['cpu_per_poll_ms']:.1f} ms; peak RSS {s['peak_rss_mb']:.0f} MB",
        "",
        "## Slack → Oracle",
        "",
        f"{r['sent']} replies in one task's thread, sent at once as signed Events API requests.",
        "",
        f"- ack p50 {r['ack_p50']:.1f} ms, p99 **{r['ack_p99']:.1f} ms** (each reply is "
        "journaled before its ack)",
        f"- notes saved: {r['notes']}, distinct {r['distinct']} (each once), all within "
        f"{r['seconds']:.1f} s",
        "",
    ]
    out.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracked", type=int, default=10_000)
    parser.add_argument("--per-minute", type=float, default=100)
    parser.add_argument("--minutes", type=float, default=2)
    parser.add_argument("--interval", type=float, default=15)
    parser.add_argument("--oracle", type=float, default=0.15, help="seconds per Oracle call")
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--out", default=str(ROOT / "docs" / "sync-benchmarks.md"))
    parser.add_argument("--smoke", action="store_true", help="write no report")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
