"""The channel subscriptions' benchmark.

    python bench/subscriptions.py             # writes docs/subscriptions-benchmarks.md
    python bench/subscriptions.py --tasks 300 --tracked 50 --channels 5 --per-minute 240 \\
        --minutes 0.2 --interval 2 --smoke    # it still works

The bot (``python -m bot serve``, HTTP mode, SQLite journal, ``B2C_SYNC_INTERVAL`` 15 s), the
B2C sandbox (150 ms per call) and the Slack fake (30 ms) in their own processes; ``--tasks``
(11,000) tasks in the sandbox, ``--tracked`` (1,000) of them followed by threads. Agents change
``--per-minute`` (200) tasks a minute for ``--minutes`` (2) twice: first with no subscription,
then with ``--channels`` (50) channels following two filters each (100 subscriptions), and a
few of the changed tasks falling due meanwhile. Reported: Oracle calls per minute in both runs,
the bot's CPU per poll round, the lag from a change in Oracle to the first word of it in a
channel (p50, p95; target p95 ≤ the interval + 5 s), Slack posts per channel in any minute (≤ 60),
and overdue tasks told exactly once in each channel that follows them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sqlite3
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.journal import start_bot  # noqa: E402
from bench.run import cpu_seconds, machine, pct, peak_rss_mb  # noqa: E402
from bench.sync import polling_bot, track_all  # noqa: E402

FIRST = 1_000_000  # the benchmark's task ids (bench/sync.py's)
PRIORITIES = {1: "Low", 2: "Normal", 3: "High", 4: "Critical"}
STATUSES = {16: "Not Started", 17: "In Progress", 19: "Waiting"}
TYPES = {1: "Call", 2: "Email", 3: "Meeting", 4: "Follow-up"}
OVERDUE = 10  # changed tasks that fall due during the run with subscriptions


def subscriptions_of(channels: int) -> list[tuple[str, list[dict]]]:
    """Two filters a channel: a priority and a status, then a type and not a priority."""
    made = []
    for k in range(channels):
        priority, status = list(PRIORITIES)[k % 4], list(STATUSES)[(k // 4) % 3]
        kind, other = list(TYPES)[k % 4], list(PRIORITIES)[(k + 1) % 4]
        made.append(
            (
                f"CSUB{k:03d}",
                [
                    _condition("priority", priority, PRIORITIES),
                    _condition("status", status, STATUSES),
                ],
            )
        )
        made.append(
            (
                f"CSUB{k:03d}",
                [
                    _condition("type", kind, TYPES),
                    _condition("priority", other, PRIORITIES, negated=True),
                ],
            )
        )
    return made


def _condition(field: str, value: int, names: dict[int, str], negated: bool = False) -> dict:
    return {"field": field, "negated": negated, "values": [{"id": value, "name": names[value]}]}


def subscribe_all(journal: Path, made: list[tuple[str, list[dict]]]) -> None:
    with sqlite3.connect(journal, timeout=10) as db:
        db.executemany(
            "INSERT INTO subscriptions (id, team_id, channel_id, made_by, made_at, conditions, "
            "due_soon) VALUES (?, 'T1', ?, 'U1', ?, ?, NULL)",
            [
                (uuid.uuid4().hex, channel, time.time() + n / 1000, json.dumps(conditions))
                for n, (channel, conditions) in enumerate(made)
            ],
        )


async def oracle_calls(http: httpx.AsyncClient, sandbox_url: str) -> dict[str, int]:
    stats = (await http.get(f"{sandbox_url}/_sandbox/stats")).json()["requests"]
    calls: dict[str, int] = {}
    for key, count in stats.items():
        kind = re.sub(r"/\d+", "/{id}", key)
        calls[kind] = calls.get(kind, 0) + count
    return calls


async def agents_change(
    http: httpx.AsyncClient,
    sandbox_url: str,
    tasks: list[int],
    per_minute: float,
    minutes: float,
    seed: int,
    due: dict[int, datetime] | None = None,
) -> dict[int, float]:
    """``per_minute`` changes a minute to random tasks (priority, status, type); the tasks in
    ``due`` get that due time too. When each task was last changed (monotonic)."""
    rng = random.Random(seed)
    changed: dict[int, float] = {}
    gap, started = 60.0 / per_minute, time.monotonic()
    due_ids = list(due or {})
    for number in range(int(per_minute * minutes)):
        await asyncio.sleep(max(0.0, started + number * gap - time.monotonic()))
        task_id = rng.choice(tasks)  # (drawn always: both runs change the same tasks)
        task_id = due_ids[number] if number < len(due_ids) else task_id
        fields: dict = {
            "priority": {"id": rng.choice(list(PRIORITIES))},
            "statusWithType": {"status": {"id": rng.choice(list(STATUSES))}},
            "taskType": {"id": rng.choice(list(TYPES))},
        }
        if due and task_id in due:
            fields["dueTime"] = due[task_id].strftime("%Y-%m-%dT%H:%M:%S.000Z")
        await http.post(f"{sandbox_url}/_sandbox/tasks/{task_id}", json=fields)
        changed[task_id] = time.monotonic()
    return changed


async def run(args: argparse.Namespace) -> int:
    workdir, sandbox, fake, journal, settings = polling_bot("subscriptions", args.interval)
    tasks = [FIRST + n for n in range(args.tasks)]
    report: dict = {"channels": args.channels, "subscriptions": 2 * args.channels}
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            await http.post(
                f"{sandbox.url}/_sandbox/config",
                json={"bulk_tasks": {"start": FIRST, "count": args.tasks}},
            )
            bot, _port, _startup = await start_bot(settings, workdir)
            try:
                track_all(journal, {}, args.tracked)
                await http.post(f"{sandbox.url}/_sandbox/config", json={"latency": args.oracle})
                await asyncio.sleep(args.interval)  # a first round: the cursor starts

                # 1. no subscriptions
                before, started = await oracle_calls(http, sandbox.url), time.monotonic()
                await agents_change(http, sandbox.url, tasks, args.per_minute, args.minutes, 1)
                await asyncio.sleep(args.interval * 2 + 5)  # (as long as the second run)
                minutes = (time.monotonic() - started) / 60
                after = await oracle_calls(http, sandbox.url)
                report["without"] = _per_minute(before, after, minutes)

                # 2. the same with subscriptions, and a few tasks falling due meanwhile
                subscribe_all(journal, subscriptions_of(args.channels))
                now = datetime.now(UTC)
                span = args.minutes * 60
                due = {
                    FIRST + args.tasks - 1 - n: now + timedelta(seconds=span * (n + 1) / 12)
                    for n in range(OVERDUE)
                }
                before, started = await oracle_calls(http, sandbox.url), time.monotonic()
                cpu_before = cpu_seconds(bot.popen.pid)
                changed = await agents_change(  # the same tasks in the same order
                    http, sandbox.url, tasks, args.per_minute, args.minutes, 1, due
                )
                await asyncio.sleep(args.interval * 2 + 5)
                elapsed = time.monotonic() - started
                cpu = cpu_seconds(bot.popen.pid) - cpu_before
                after = await oracle_calls(http, sandbox.url)
                report["with"] = _per_minute(before, after, elapsed / 60)
                report["cpu_per_poll_ms"] = cpu / max(1, round(elapsed / args.interval)) * 1000
                report["peak_rss_mb"] = peak_rss_mb(bot.popen.pid)
                messages = (await http.get(f"{fake.url}/_fake/messages")).json()["messages"]
                report.update(_told(messages, changed, set(due), started))
                if args.dump:  # what the channels got, and when each task changed
                    Path(args.dump).write_text(
                        json.dumps({"messages": messages, "changed": changed, "since": started})
                    )
            finally:
                bot.stop()
    finally:
        fake.stop()
        sandbox.stop()
    ok = report["overdue_twice"] == 0 and report["busiest_minute"] <= 60
    _print(report, args)
    if args.out and not args.smoke:
        write_report(Path(args.out), report, args)
        print(f"wrote {args.out}")
    return 0 if ok else 1


def _per_minute(before: dict[str, int], after: dict[str, int], minutes: float) -> dict:
    return {
        key: (after.get(key, 0) - before.get(key, 0)) / minutes
        for key in sorted(after)
        if after.get(key, 0) > before.get(key, 0)
    }


def _told(messages: list[dict], changed: dict[int, float], due: set[int], since: float) -> dict:
    """What the channels were told: the lag from each task's last change to the first word of
    it after that, posts per channel in any minute, overdue lines per channel and task."""
    task_of_thread: dict[tuple[str, str], int] = {}
    words: dict[int, float] = {}  # task -> first message about it after its last change
    overdue: dict[tuple[str, int], int] = {}
    posts: dict[str, list[float]] = {}
    for message in sorted(messages, key=lambda m: m["received_at"]):
        channel = message["channel"]
        if not channel.startswith("CSUB") or message["received_at"] < since:
            continue
        posts.setdefault(channel, []).append(message["received_at"])
        found = re.match(r"Task #(\d+):", message["text"])
        if found and not message["thread_ts"]:
            task_of_thread[(channel, message["ts"])] = int(found.group(1))
        task = int(found.group(1)) if found else task_of_thread.get((channel, message["thread_ts"]))
        for listed in re.findall(r"#(\d{7})\b", message["text"]):  # a list's (its text)
            task = task or int(listed)
            if int(listed) in changed and message["received_at"] >= changed[int(listed)]:
                words.setdefault(int(listed), message["received_at"])
        if "is overdue since" in message["text"]:
            overdue_task = int(re.search(r"#(\d+)\*", message["text"]).group(1))  # type: ignore[union-attr]
            overdue[(channel, overdue_task)] = overdue.get((channel, overdue_task), 0) + 1
        if task is not None and task in changed and message["received_at"] >= changed[task]:
            words.setdefault(task, message["received_at"])
    lags = [words[task] - changed[task] for task in words]
    busiest = 0
    for times in posts.values():
        for i, start in enumerate(times):
            busiest = max(busiest, sum(1 for t in times[i:] if t < start + 60))
    return {
        "changed": len(changed),
        "told_tasks": len(words),
        "lag_p50": pct(lags, 50),
        "lag_p95": pct(lags, 95),
        "posts": sum(len(t) for t in posts.values()),
        "busiest_minute": busiest,
        "overdue_told": len(overdue),
        "overdue_tasks": len({task for _channel, task in overdue} & due),
        "overdue_twice": sum(1 for count in overdue.values() if count > 1),
    }


def _print(report: dict, args: argparse.Namespace) -> None:
    total = {name: sum(report[name].values()) for name in ("without", "with")}
    print(
        f"subscriptions: {report['subscriptions']} in {report['channels']} channels; Oracle "
        f"calls per minute {total['without']:.1f} without, {total['with']:.1f} with ("
        + ", ".join(f"{k} {v:.1f}" for k, v in report["with"].items())
        + f"); CPU per poll {report['cpu_per_poll_ms']:.1f} ms; lag p50 "
        f"{report['lag_p50']:.1f} s, p95 {report['lag_p95']:.1f} s (interval {args.interval:g}"
        f" s); {report['posts']} posts, busiest channel-minute {report['busiest_minute']}; "
        f"overdue told in {report['overdue_told']} channel(s) for {report['overdue_tasks']} "
        f"task(s), {report['overdue_twice']} twice; peak RSS {report['peak_rss_mb']:.0f} MB"
    )


def write_report(out: Path, report: dict, args: argparse.Namespace) -> None:
    without, with_ = report["without"], report["with"]
    target = args.interval + 5

    def calls(figures: dict) -> str:
        return "; ".join(f"`{k}` {v:.1f}" for k, v in figures.items())

    lines = [
        "# Channel subscriptions benchmarks",
        "",
        f"Taken {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`python bench/subscriptions.py` on {machine()}.",
        "",
        f"The bot (`python -m bot serve`, HTTP mode, SQLite journal, `B2C_SYNC_INTERVAL` "
        f"{args.interval:g} s), the B2C sandbox ({args.oracle * 1000:.0f} ms per call) and the "
        f"Slack fake (30 ms) in their own processes; {args.tasks:,} tasks in the sandbox, "
        f"{args.tracked:,} of them followed by threads. Agents changed {args.per_minute:g} tasks "
        f"a minute (priority, status and type at random) for {args.minutes:g} minutes, first "
        f"with no subscription, then with {report['subscriptions']} subscriptions in "
        f"{report['channels']} channels (two filters each: a priority and a status; a type and "
        f"not a priority), {OVERDUE} of the changed tasks falling due during that run.",
        "",
        f"- Oracle calls per minute: **{sum(without.values()):.1f}** with no subscription "
        f"({calls(without)}); **{sum(with_.values()):.1f}** with them ({calls(with_)}): the "
        "subscriptions add the one due-time query a round, nothing per subscription or channel",
        f"- bot CPU per poll round (all the bot's CPU over the run ÷ the rounds): "
        f"{report['cpu_per_poll_ms']:.1f} ms; peak RSS {report['peak_rss_mb']:.0f} MB",
        f"- lag from a task's change in Oracle to the first word of it in a channel (its card, "
        f"a line in its thread, or the list past a handful): p50 **{report['lag_p50']:.1f} s**, "
        f"p95 **{report['lag_p95']:.1f} s** (target ≤ the interval + 5 s = {target:g} s: "
        f"{'✓' if report['lag_p95'] <= target else '✗'}); {report['told_tasks']} of the "
        f"{report['changed']} changed tasks were told somewhere (the others matched no filter)",
        f"- Slack posts to the channels: {report['posts']}; the busiest channel got "
        f"**{report['busiest_minute']}** in a minute (target ≤ 60: "
        f"{'✓' if report['busiest_minute'] <= 60 else '✗'})",
        f"- overdue tasks: told in {report['overdue_told']} channel(s) for "
        f"{report['overdue_tasks']} of the {OVERDUE} tasks that fell due, "
        f"**{report['overdue_twice']}** told twice (target 0: "
        f"{'✓' if report['overdue_twice'] == 0 else '✗'}); a task told in no channel matched no "
        "filter after its last change",
        "",
    ]
    out.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=11_000)
    parser.add_argument("--tracked", type=int, default=1_000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--per-minute", type=float, default=200)
    parser.add_argument("--minutes", type=float, default=2)
    parser.add_argument("--interval", type=float, default=15)
    parser.add_argument("--oracle", type=float, default=0.15, help="seconds per Oracle call")
    parser.add_argument("--out", default=str(ROOT / "docs" / "subscriptions-benchmarks.md"))
    parser.add_argument("--smoke", action="store_true", help="write no report")
    parser.add_argument("--dump", help="write the messages and the changes here (JSON)")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
