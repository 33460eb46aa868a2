"""The benchmark: how much the bot adds to Oracle's and Slack's own latency, under bursts.

    python bench/run.py                       # bursts 1, 50, 200, 1000; writes docs/benchmarks.md
    python bench/run.py --bursts 10 --smoke   # what CI runs: proves the benchmark still works
    python bench/run.py --repeat 1 --profile stacks.txt   # one run each, py-spy folded stacks
    python bench/run.py --bursts 200 --baseline main      # beside main's bot, bursts in turn

It starts the bot exactly as production does (``python -m bot serve``, HTTP mode, SQLite
journal), the embedded B2C sandbox (``python -m bot sandbox``) and the Slack fake as separate
processes with injected latencies, fires bursts of signed slash commands at the bot from
pre-opened connections, and reports, per burst: ack latency, time from command to thread reply,
whole-burst time against its limit (the time the burst would take if the bot cost nothing),
tasks per second, the bot's CPU per task and peak memory; and start-up time. Then it runs the
same bursts with no injected latency: the bot's own throughput ceiling on this machine.

With ``--baseline REV``, the bot of commit REV (checked out in a temporary git worktree) runs
beside this tree's, each with stand-ins of its own, and their bursts take turns (this tree,
REV, REV, this tree, ...): both are measured in the same minutes of a shared machine, and the
report gives each figure of both and their ratio. A figure apart by more than the runs' spread
is a change to look for, not noise.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
sys.path.insert(0, str(ROOT))

from bot.demo import signed_headers, slash_form  # noqa: E402
from bot.standins.sandbox import PASSWORD, USERNAME  # noqa: E402

SECRET = "bench-signing-secret"
USERS = ["U1", "U2", "U3", "U4"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------ processes
@dataclass
class Process:
    popen: subprocess.Popen[str]
    url: str

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(15)
        except subprocess.TimeoutExpired:
            self.popen.kill()


def spawn(
    args: list[str], pattern: str, env: dict[str, str], cwd: Path, stream: str = "stdout"
) -> Process:
    popen = subprocess.Popen(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE if stream == "stdout" else subprocess.DEVNULL,
        stderr=subprocess.PIPE if stream == "stderr" else subprocess.DEVNULL,
    )
    pipe = popen.stdout if stream == "stdout" else popen.stderr
    assert pipe is not None
    for line in pipe:
        match = re.search(pattern, line)
        if match:
            # keep reading in the background so the child never blocks on a full pipe
            import threading

            threading.Thread(target=lambda: [None for _ in pipe], daemon=True).start()
            return Process(popen, match.group(1))
    raise RuntimeError(f"{args} exited before it was ready")


def cpu_seconds(pid: int) -> float:
    """CPU time of all the process's threads, in nanosecond resolution (schedstat), falling
    back to clock ticks (10 ms) where the kernel has no schedstat."""
    try:
        return (
            sum(
                int(Path(task, "schedstat").read_text().split()[0])
                for task in Path(f"/proc/{pid}/task").iterdir()
            )
            / 1e9
        )
    except (OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ------------------------------------------------------------------------------ load
def request_bytes(port: int, command: str, response_url: str, user: str) -> bytes:
    form = slash_form(
        command, response_url=response_url, user=user, channel="CBENCH", channel_name="bench"
    )
    return signed_request(port, urlencode(form))


def signed_request(port: int, body: str, content_type: str | None = None) -> bytes:
    """``body`` signed as Slack signs it, as raw HTTP/1.1 bytes for ``/slack/events``."""
    headers = signed_headers(SECRET, body)
    if content_type:
        headers["Content-Type"] = content_type
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Length: {len(body.encode())}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        + "\r\n"
    )
    return head.encode() + body.encode()


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


@dataclass
class BurstResult:
    size: int
    oracle_latency: float
    slack_latency: float
    acks_ms: list[float]
    e2e_ms: list[float]
    burst_s: float
    limit_s: float
    cpu_per_task_ms: float
    peak_rss_mb: float
    statuses: dict[int, int] = field(default_factory=dict)
    runs: list[BurstResult] = field(default_factory=list)  # the runs this one combines

    def median(self, figure: Callable[[BurstResult], float]) -> float:
        """A figure of this burst: the median of its runs' (or its own, for a single run)."""
        return statistics.median(figure(run) for run in self.runs or [self])

    def spread(self, figure: Callable[[BurstResult], float], digits: int) -> str:
        """`` (lowest–highest)`` of the runs' figures; nothing for a single run."""
        if len(self.runs) < 2:
            return ""
        values = [figure(run) for run in self.runs]
        return f" ({min(values):.{digits}f}–{max(values):.{digits}f})"

    def ack(self, q: float) -> float:
        return self.median(lambda run: pct(run.acks_ms, q))

    def reply(self, q: float) -> float:
        return self.median(lambda run: pct(run.e2e_ms, q))

    @property
    def tasks_per_s(self) -> float:
        return self.size / self.burst_s if self.burst_s else float("nan")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def limit_seconds(size: int, oracle: float, slack: float, bound: int) -> float:
    """The burst's duration if the bot cost nothing: the calls each task needs, on the
    critical path, with Oracle calls limited to ``bound`` at once (B2C_MAX_CONCURRENCY).

    Per task: the POST (1 Oracle call, in waves of ``bound``), then the task message and its
    thread reply (2 Slack calls, one after the other). The requesters' users.info answers are
    cached (the warm-up saw the same few users) and the site's named IDs load at start-up."""
    return math.ceil(size / bound) * oracle + 2 * slack


async def wait_delivered(fake_url: str, prefix: str, size: int, limit: float) -> list[dict]:
    deadline = time.monotonic() + limit
    async with httpx.AsyncClient(timeout=30) as http:
        while True:
            data = (await http.get(f"{fake_url}/_fake/messages", params={"threaded": "1"})).json()
            mine = [m for m in data["messages"] if prefix in m["text"] and "created" in m["text"]]
            if len(mine) >= size or time.monotonic() > deadline:
                return mine
            await asyncio.sleep(0.05)


async def fire_burst(
    bot: Process,
    fake: Process,
    port: int,
    size: int,
    tag: str,
    oracle: float,
    slack: float,
    bound: int,
    journal: Path,
) -> BurstResult:
    prefix = f"Bench {tag} "
    payloads = [
        request_bytes(
            port, f"/task {prefix}{i} @contact 83", f"{fake.url}/response/b", USERS[i % len(USERS)]
        )
        for i in range(size)
    ]
    connections = await asyncio.gather(
        *(asyncio.open_connection("127.0.0.1", port) for _ in range(size))
    )
    pid = bot.popen.pid
    await wait_idle(pid)  # the bot has taken every connection: its CPU from here is the burst's
    cpu_before = cpu_seconds(pid)
    sent: list[float] = [0.0] * size
    acks: list[float] = [0.0] * size
    statuses: dict[int, int] = {}

    async def one(index: int) -> None:
        reader, _writer = connections[index]
        status = await read_response(reader)
        acks[index] = (time.monotonic() - sent[index]) * 1000
        statuses[status] = statuses.get(status, 0) + 1

    readers = []
    for index, (_reader, writer) in enumerate(connections):
        sent[index] = time.monotonic()
        writer.write(payloads[index])
        readers.append(one(index))
    started = sent[0]
    await asyncio.gather(*readers)
    replies = await wait_delivered(fake.url, prefix, size, limit=120 + size * 0.5)
    await wait_journal_settled(journal, size)
    cpu_after = cpu_seconds(pid)
    for _reader, writer in connections:
        writer.close()
    await wait_idle(pid)  # and has closed them, so that this is not counted in the next burst
    arrived = {}
    for message in replies:
        match = re.search(re.escape(prefix) + r"(\d+)", message["text"])
        if match:
            arrived[int(match.group(1))] = message["received_at"]
    e2e = [(arrived[i] - sent[i]) * 1000 for i in arrived]
    finished = max(arrived.values()) if arrived else time.monotonic()
    return BurstResult(
        size=size,
        oracle_latency=oracle,
        slack_latency=slack,
        acks_ms=acks,
        e2e_ms=e2e,
        burst_s=finished - started,
        limit_s=limit_seconds(size, oracle, slack, bound),
        cpu_per_task_ms=(cpu_after - cpu_before) / size * 1000,
        peak_rss_mb=peak_rss_mb(pid),
        statuses=statuses,
    )


async def wait_journal_settled(journal: Path, size: int) -> None:
    """Until nothing in the journal is left to do (the bot's CPU for the burst is all spent)."""
    import sqlite3

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with sqlite3.connect(journal) as connection:
            busy = connection.execute(
                "select count(*) from task_requests where state = 'pending' "
                "or delivery = 'pending' or lease_owner is not null"
            ).fetchone()[0]
        if busy == 0:
            return
        await asyncio.sleep(0.05)


async def wait_idle(pid: int, quiet: float = 0.1, limit: float = 10.0) -> None:
    """Until the process has used (almost) no CPU for ``quiet`` seconds."""
    deadline = time.monotonic() + limit
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(quiet)
        now = cpu_seconds(pid)
        if now - before < quiet * 0.02:
            return
        before = now


def clean_env(root: Path = ROOT) -> dict[str, str]:
    """This environment without any of the bot's settings, and the checkout ``root``
    importable (first: before an installed copy of the bot)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "B2C_", "JOURNAL_", "ALLOWED_", "DATABASE_"))
    }
    env["PYTHONPATH"] = str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")
    return env


def start_stand_ins(
    env: dict[str, str], workdir: Path, oracle: float, slack: float
) -> tuple[Process, Process]:
    """The B2C sandbox and the Slack fake, each its own process, with injected latencies."""
    sandbox = spawn(
        ["-m", "bot", "sandbox", "--port", "0", "--latency", str(oracle)],
        r"B2C sandbox at (\S+)",
        env,
        workdir,
    )
    fake = spawn(
        [str(ROOT / "bench" / "slack_fake_server.py"), "--latency", str(slack)],
        r"Slack fake at (\S+)",
        env,
        workdir,
    )
    return sandbox, fake


def bot_settings(env: dict[str, str], sandbox: Process, fake: Process) -> dict[str, str]:
    """The bot's settings for the stand-ins."""
    return {
        **env,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.url + "/api/",
        "B2C_SITE_URL": sandbox.url,
        "B2C_USERNAME": USERNAME,
        "B2C_PASSWORD": PASSWORD,
    }


async def wait_healthy(port: int) -> None:
    """Until the bot's ``/healthz`` answers 200."""
    async with httpx.AsyncClient() as http:
        while True:
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.005)


async def set_latency(sandbox: Process, fake: Process, oracle: float, slack: float) -> None:
    async with httpx.AsyncClient() as http:
        await http.post(f"{sandbox.url}/_sandbox/config", json={"latency": oracle})
        await http.post(f"{fake.url}/_fake/config", json={"latency": slack, "reset": True})


# ------------------------------------------------------------------------------ report
def describe(result: BurstResult) -> str:
    oracle, size = result.oracle_latency, result.size
    return (
        f"burst {size:5d} (Oracle {oracle * 1000:.0f} ms, Slack {result.slack_latency * 1000:.0f}"
        f" ms): ack p50 {pct(result.acks_ms, 50):.1f} p95 "
        f"{pct(result.acks_ms, 95):.1f} p99 {pct(result.acks_ms, 99):.1f} max "
        f"{max(result.acks_ms):.1f} ms; reply p50 {pct(result.e2e_ms, 50):.0f} "
        f"p99 {pct(result.e2e_ms, 99):.0f} ms; burst {result.burst_s:.2f} s"
        + (
            f" (limit {result.limit_s:.2f} s, ×{result.burst_s / result.limit_s:.3f})"
            if oracle
            else ""
        )
        + f"; {result.tasks_per_s:.1f} tasks/s; CPU {result.cpu_per_task_ms:.2f}"
        f" ms/task; peak RSS {result.peak_rss_mb:.1f} MB; statuses "
        f"{result.statuses}; replies {len(result.e2e_ms)}/{size}"
    )


def combine(runs: list[BurstResult]) -> BurstResult:
    """The runs of one burst size as one result: each figure is the median of the runs' (the
    spread is kept for the table), peak memory the highest, latencies pooled for the plot."""
    if len(runs) == 1:
        return runs[0]
    statuses: dict[int, int] = {}
    for run in runs:
        for status, count in run.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    return replace(
        runs[0],
        acks_ms=[ms for run in runs for ms in run.acks_ms],
        e2e_ms=[ms for run in runs for ms in run.e2e_ms],
        burst_s=statistics.median(run.burst_s for run in runs),
        cpu_per_task_ms=statistics.median(run.cpu_per_task_ms for run in runs),
        peak_rss_mb=max(run.peak_rss_mb for run in runs),
        statuses=statuses,
        runs=runs,
    )


# what each user action costs Oracle and Slack: counted exactly by tests/test_budgets.py (timing
# is noisy, counting is not), which fails when a change adds a call
BUDGETS = [
    "## Call budgets",
    "",
    "What each action costs, counted where the Oracle sandbox and the Slack fake receive it "
    "(`tests/test_budgets.py` fails when a change adds a call). Reads made once per process "
    "(the site's names, who a Slack user is) are left out.",
    "",
    "| action | Oracle | Slack |",
    "|---|---|---|",
    "| a task created by `/task` (each of a burst) | 1: its POST (what the thread shows comes "
    "from Oracle's answer, no read after it) | 2: the task message and its thread reply |",
    "| a poll round, nothing changed (however many tasks the bot made before) | 2: the changes "
    "query and the rolling deletion check | 0 |",
    "| a poll round after a change in B2C Service | 2, and one notes read per changed task "
    "whose notes are not known at its `updatedTime` | a line per change, the task message "
    "updated |",
    "| a button (Mark complete, a status) | 3: the PATCH, the task read for the message, its "
    "row for the thread | 2: the message updated, a line in the thread |",
    "| a reply in a synced thread becoming a note | 1: `POST tasks/{id}/notes`; the next poll "
    "reads the notes once (the note moved `updatedTime`) | 1: the reaction |",
    "| the Home tab opened | 1: the user's tasks; 2 once they have created tasks from Slack "
    "(their current status) | 1: `views.publish` |",
    "| a Workflow Builder step's run (`tests/test_workflow_step.py`) | 1: its POST | 1: "
    "`functions.completeSuccess`; 3 with a channel (and the task message and its reply) |",
    "| a step's run refused (its inputs, the allow-lists) | 0 | 1: `functions.completeError` |",
    "",
]


def targets(results: list[BurstResult], startup_s: float) -> list[tuple[str, bool, str]]:
    by_size = {r.size: r for r in results if r.oracle_latency > 0}
    checks: list[tuple[str, bool, str]] = []
    if 200 in by_size:
        r = by_size[200]
        checks.append(
            (
                "ack p99 ≤ 50 ms (burst 200)",
                r.ack(99) <= 50,
                f"{r.ack(99):.1f} ms",
            )
        )
        ratio = r.burst_s / r.limit_s
        checks.append(
            (
                "whole burst ≤ 1.15 × limit (burst 200)",
                ratio <= 1.15,
                f"{ratio:.3f} × ({r.burst_s:.2f} s / {r.limit_s:.2f} s)",
            )
        )
        checks.append(("whole burst ≤ 5.5 s (burst 200)", r.burst_s <= 5.5, f"{r.burst_s:.2f} s"))
        checks.append(
            (
                "bot CPU ≤ 2.6 ms per task (burst 200)",
                r.cpu_per_task_ms <= 2.6,
                f"{r.cpu_per_task_ms:.2f} ms"
                + r.spread(lambda run: run.cpu_per_task_ms, 2).replace(" (", ", runs ("),
            )
        )
    if 1000 in by_size:
        r = by_size[1000]
        checks.append(
            (
                "ack p99 < 1000 ms (burst 1000)",
                r.ack(99) < 1000,
                f"{r.ack(99):.1f} ms",
            )
        )
        checks.append(
            ("peak RSS ≤ 150 MB (burst 1000)", r.peak_rss_mb <= 150, f"{r.peak_rss_mb:.1f} MB")
        )
    loaded = [r for r in results if r.oracle_latency > 0 and r.size >= 50]
    if loaded:
        worst = max(loaded, key=lambda r: r.cpu_per_task_ms)
        checks.append(
            (
                "bot CPU ≤ 3 ms per task (bursts ≥ 50)",
                worst.cpu_per_task_ms <= 3.0,
                f"{worst.cpu_per_task_ms:.2f} ms worst (burst {worst.size})"
                + worst.spread(lambda run: run.cpu_per_task_ms, 2).replace(" (", ", runs ("),
            )
        )
    checks.append(("start-up ≤ 2 s", startup_s <= 2.0, f"{startup_s:.2f} s"))
    return checks


# the headline figures: written once by a run into docs/benchmarks.md, and the same block
# quoted in the README (tests/test_examples.py checks that the two are the same)
HEADLINE_START = (
    "<!-- headline: written by bench/run.py, the same in README.md and docs/benchmarks.md -->"
)
HEADLINE_END = "<!-- /headline -->"


def headline(
    results: list[BurstResult],
    startup_s: float,
    taken: str,
    base: list[BurstResult] | None = None,
    rev: str = "",
) -> str:
    """The run's headline figures in a few lines, between the markers."""
    by_size = {r.size: r for r in results if r.oracle_latency > 0}
    parts = []
    if 200 in by_size:
        r = by_size[200]
        parts.append(
            f"ack p99 for a burst of 200 at {r.ack(99):.1f} ms"
            f"{r.spread(lambda run: pct(run.acks_ms, 99), 1)}, the whole burst at "
            f"{r.burst_s / r.limit_s:.2f} × its limit ({r.burst_s:.1f} s)"
        )
    if 1000 in by_size:
        r = by_size[1000]
        parts.append(f"ack p99 for 1000 at {r.ack(99):.0f} ms")
    loaded = [r for r in results if r.oracle_latency > 0 and r.size >= 50]
    if loaded:
        cpu = [r.cpu_per_task_ms for r in loaded]
        parts.append(
            f"{min(cpu):.2f}–{max(cpu):.2f} ms of bot CPU per task (bursts of 50 and more)"
        )
    parts.append(f"peak memory {max(r.peak_rss_mb for r in results):.0f} MB")
    parts.append(f"start-up {startup_s:.2f} s")
    text = f"Latest run ({taken}): " + "; ".join(parts) + "."
    if base:
        pairs = [
            (mine, theirs)
            for mine, theirs in zip(results, base, strict=True)
            if mine.oracle_latency > 0 and mine.size >= 50
        ]
        cpu = [m.cpu_per_task_ms / t.cpu_per_task_ms for m, t in pairs if t.cpu_per_task_ms]
        burst = [m.burst_s / t.burst_s for m, t in pairs if t.burst_s]
        if cpu and burst:
            text += (
                f" Beside `{rev}` in the same run, bursts taking turns: bot CPU per task "
                f"×{min(cpu):.2f}–×{max(cpu):.2f}, whole bursts ×{min(burst):.2f}–"
                f"×{max(burst):.2f} (bursts of 50 and more)."
            )
    return f"{HEADLINE_START}\n{text}\n{HEADLINE_END}"


def quote_headline(readme: Path, block: str) -> bool:
    """Put the run's headline block in place of the README's; False if it has none."""
    text = readme.read_text()
    start, end = text.find(HEADLINE_START), text.find(HEADLINE_END)
    if start < 0 or end < start:
        return False
    readme.write_text(text[:start] + block + text[end + len(HEADLINE_END) :])
    return True


def table(results: list[BurstResult]) -> str:
    lines = [
        "| burst | Oracle / Slack latency | ack p50 | ack p95 | ack p99 | ack max | "
        "reply p50 | reply p99 | whole burst | limit | measured ÷ limit | tasks/s | "
        "CPU/task | peak RSS |",
        "|" + "---|" * 14,
    ]
    for r in results:
        ratio = r.burst_s / r.limit_s if r.oracle_latency else float("nan")
        lines.append(
            f"| {r.size} | {r.oracle_latency * 1000:.0f} / {r.slack_latency * 1000:.0f} ms | "
            f"{r.ack(50):.1f} ms | {r.ack(95):.1f} ms | "
            f"{r.ack(99):.1f} ms{r.spread(lambda run: pct(run.acks_ms, 99), 1)} | "
            f"{max(r.acks_ms):.1f} ms | {r.reply(50):.0f} ms | {r.reply(99):.0f} ms | "
            f"{r.burst_s:.2f} s | "
            + (f"{r.limit_s:.2f} s | {ratio:.3f} | " if r.oracle_latency else "– | – | ")
            + f"{r.tasks_per_s:.1f} | {r.cpu_per_task_ms:.2f} ms"
            f"{r.spread(lambda run: run.cpu_per_task_ms, 2)} | {r.peak_rss_mb:.1f} MB |"
        )
    return "\n".join(lines)


def machine() -> str:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    versions = []
    for name in (
        "slack_bolt",
        "slack_sdk",
        "aiohttp",
        "httpx",
        "httpx_aiohttp",
        "uvloop",
        "pydantic",
    ):
        try:
            from importlib.metadata import version

            versions.append(f"{name} {version(name.replace('_', '-'))}")
        except Exception:
            pass
    return (
        f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; " + ", ".join(versions)
    )


def plot(results: list[BurstResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    loaded = [r for r in results if r.oracle_latency > 0]
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for r in loaded:
        marker = "o" if r.size == 1 else None  # a single command is a point, not a curve
        for axis, values in ((axes[0], r.acks_ms), (axes[1], r.e2e_ms)):
            ordered = sorted(values)
            shares = [(i + 1) / len(ordered) for i in range(len(ordered))]
            axis.plot(ordered, shares, marker=marker, label=f"burst {r.size}")
    axes[0].axvline(100, color="grey", linestyle="--", linewidth=1)
    axes[0].set(
        title="Ack latency (cumulative)", xlabel="ms", ylabel="share of commands", xscale="log"
    )
    axes[1].set(title="Command → thread reply (cumulative)", xlabel="ms", xscale="log")
    for axis in axes:
        axis.grid(True, alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


# ------------------------------------------------------------------------------ sides
@dataclass
class Side:
    """One bot under test, with stand-ins of its own: this tree's bot, or a baseline's."""

    name: str
    workdir: Path
    sandbox: Process
    fake: Process
    bot: Process
    port: int
    startup_s: float

    @property
    def journal(self) -> Path:
        return self.workdir / "task-journal.sqlite3"

    def stop(self) -> None:
        self.bot.stop()
        self.fake.stop()
        self.sandbox.stop()


async def start_side(name: str, root: Path, args: argparse.Namespace) -> Side:
    """The bot of checkout ``root`` started as production starts it, against stand-ins of
    this tree (the same Oracle and Slack for every side)."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    sandbox, fake = start_stand_ins(clean_env(), workdir, args.oracle, args.slack)
    bot_env = {
        **bot_settings(clean_env(root), sandbox, fake),
        "B2C_MAX_CONCURRENCY": str(args.bound),
        "LOG_LEVEL": "INFO",
    }
    started = time.monotonic()
    bot = spawn(
        ["-m", "bot", "serve", "--host", "127.0.0.1", "--port", "0"],
        r"serving Slack requests on http://127\.0\.0\.1:(\d+)",
        bot_env,
        workdir,
        stream="stderr",
    )
    port = int(bot.url)
    if args.pin and (os.cpu_count() or 1) >= 2:
        # the bot on one core, the stand-ins and the load generator on the other, so that
        # they do not take turns on the bot's core and its cache (the bots of two sides share
        # theirs, but only one of them is ever busy)
        os.sched_setaffinity(bot.popen.pid, {0})
        for process in (sandbox, fake):
            os.sched_setaffinity(process.popen.pid, {1})
    await wait_healthy(port)
    return Side(name, workdir, sandbox, fake, bot, port, time.monotonic() - started)


def add_worktree(rev: str) -> Path:
    """Commit ``rev`` checked out in a temporary git worktree (removed by remove_worktree)."""
    where = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    made = subprocess.run(
        ["git", "worktree", "add", "--detach", str(where), rev],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        raise SystemExit(f"error: --baseline {rev}: {made.stderr.strip()}")
    return where


def remove_worktree(where: Path) -> None:
    subprocess.run(
        ["git", "worktree", "remove", "--force", str(where)], cwd=ROOT, capture_output=True
    )


def comparison(this: list[BurstResult], base: list[BurstResult], rev: str) -> str:
    """Each figure of this tree beside the baseline's, with their ratio (this ÷ baseline)."""
    figures: list[tuple[str, Callable[[BurstResult], float], int, str]] = [
        ("whole burst", lambda r: r.burst_s, 2, " s"),
        ("CPU/task", lambda r: r.cpu_per_task_ms, 2, " ms"),
        ("ack p99", lambda r: pct(r.acks_ms, 99), 1, " ms"),
        ("reply p50", lambda r: pct(r.e2e_ms, 50), 0, " ms"),
    ]
    lines = [
        f"| burst | Oracle / Slack latency | figure | this tree | baseline `{rev}` | ratio |",
        "|" + "---|" * 6,
    ]
    for mine, theirs in zip(this, base, strict=True):
        latency = f"{mine.oracle_latency * 1000:.0f} / {mine.slack_latency * 1000:.0f} ms"
        for label, figure, digits, unit in figures:
            a, b = mine.median(figure), theirs.median(figure)
            lines.append(
                f"| {mine.size} | {latency} | {label} | {a:.{digits}f}{unit}"
                f"{mine.spread(figure, digits)} | {b:.{digits}f}{unit}"
                f"{theirs.spread(figure, digits)} | ×{a / b if b else float('nan'):.3f} |"
            )
    return "\n".join(lines)


# ------------------------------------------------------------------------------ main
async def run(args: argparse.Namespace) -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.pin and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {1})  # the load generator beside the stand-ins
    tree = add_worktree(args.baseline) if args.baseline else None
    sides: list[Side] = []
    by_side: dict[str, list[BurstResult]] = {}
    profiler = None
    try:
        sides.append(await start_side("this tree", ROOT, args))
        if tree is not None:
            sides.append(await start_side(f"baseline {args.baseline}", tree, args))

        def said(side: Side, line: str) -> str:  # named when two sides take turns
            return f"{side.name}: {line}" if tree else line

        for side in sides:
            print(
                said(
                    side,
                    f"bot ready in {side.startup_s:.2f} s (pid {side.bot.popen.pid}); "
                    f"machine: {machine()}",
                )
            )
        if args.profile:  # py-spy samples this tree's bot while the bursts run (folded stacks)
            profiler = subprocess.Popen(
                [
                    "py-spy",
                    "record",
                    "--pid",
                    str(sides[0].bot.popen.pid),
                    "-f",
                    "raw",
                    "-r",
                    "250",
                    "-o",
                    args.profile,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            await asyncio.sleep(1.0)
        if args.warmup:  # connections opened, caches filled: then the measured bursts
            for side in sides:
                await set_latency(side.sandbox, side.fake, args.oracle, args.slack)
                await fire_burst(
                    side.bot,
                    side.fake,
                    side.port,
                    args.warmup,
                    "warmup",
                    args.oracle,
                    args.slack,
                    args.bound,
                    side.journal,
                )
        runs = [(args.oracle, args.slack)] + ([] if args.smoke else [(0.0, 0.0)])
        for oracle, slack in runs:
            for side in sides:
                await set_latency(side.sandbox, side.fake, oracle, slack)
            rounds: dict[tuple[str, int], list[BurstResult]] = {
                (side.name, size): [] for side in sides for size in args.bursts
            }
            # the sizes take turns, so that a noisy spell of the host lands on several of them
            # rather than on every run of one; the sides take turns within each (A B, B A...)
            for round_number in range(args.repeat):
                order = sides if round_number % 2 == 0 else sides[::-1]
                for number, size in enumerate(args.bursts):
                    for side in order:
                        tag = f"{'lat' if oracle else 'zero'}{round_number}r{number}x{size}"
                        result = await fire_burst(
                            side.bot,
                            side.fake,
                            side.port,
                            size,
                            tag,
                            oracle,
                            slack,
                            args.bound,
                            side.journal,
                        )
                        rounds[(side.name, size)].append(result)
                        print(said(side, describe(result)), flush=True)
                        if len(result.e2e_ms) != size or set(result.statuses) != {200}:
                            print("error: not every command was acknowledged and answered")
                            return 1
            for side in sides:
                by_side.setdefault(side.name, []).extend(
                    combine(rounds[(side.name, size)]) for size in args.bursts
                )
        results = by_side[sides[0].name]
    finally:
        if profiler is not None:
            profiler.send_signal(2)
            profiler.wait(30)
        for side in sides:
            side.stop()
        if tree is not None:
            remove_worktree(tree)
    startup = sides[0].startup_s
    beside = ""
    base = by_side[sides[1].name] if tree is not None else None
    if base is not None:
        beside = comparison(results, base, args.baseline)
        print(beside)
    taken = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    headlined = headline(results, startup, taken, base, args.baseline or "")
    print(headlined.splitlines()[1])
    checks = targets(results, startup)
    for name, ok, value in checks:
        print(f"{'✓' if ok else '✗'} {name}: {value}")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        png = out.with_suffix(".png")
        drawn = False
        if not args.smoke:
            try:
                plot(results, png)
                drawn = True
            except ImportError:  # the figures above stand; only the picture needs it
                print("no plot: matplotlib is not installed (pip install '.[bench]')")
        report = [
            "# Benchmarks",
            "",
            f"Taken {taken} with `python bench/run.py` on {machine()}.",
            "",
            headlined,
            "",
            f"Settings: injected latency Oracle {args.oracle * 1000:.0f} ms and Slack "
            f"{args.slack * 1000:.0f} ms per call; `B2C_MAX_CONCURRENCY={args.bound}`; bot "
            f"started as in production (`python -m bot serve`, HTTP mode, SQLite journal, "
            f"`LOG_LEVEL=INFO`); sandbox, Slack fake and load generator in separate processes; "
            f"connections opened before each burst and closed after it, outside the CPU window; "
            + ("the bot pinned to one core, the other processes to the other; " if args.pin else "")
            + f"{args.warmup} commands sent first and not "
            f"counted. Bot CPU is the bot process's on-CPU time (all threads, from "
            f"`/proc/PID/task/*/schedstat`) during the burst, divided by its size. "
            + (
                f"Each burst ran {args.repeat} times, the sizes taking turns; each figure is the "
                f"median of the runs' figures, with their range in brackets for ack p99 and CPU "
                f"(this is a shared VM: the same commit measures up to ±25% apart from one "
                f"minute to the next), except ack max and peak RSS (the highest of all) and the "
                f"plot (every run's commands pooled). "
                if args.repeat > 1
                else ""
            )
            + f"Start-up to `/healthz` ready: {startup:.2f} s.",
            "",
            table(results),
            "",
            "The limit is the time the burst would take if the bot cost nothing: "
            "`ceil(burst ÷ B2C_MAX_CONCURRENCY) × Oracle + 2 × Slack` (the waves of POSTs, then "
            "the task message and its thread reply; users.info answers are cached after the "
            "warm-up and the site's named IDs load at start-up). A request whose POST takes "
            'Oracle more than 2 s would also get a "creating…" message first; waiting for a '
            "slot under `B2C_MAX_CONCURRENCY` does not count, so none of these bursts does.",
            "",
            "Targets:",
            "",
            *[f"- {'✓' if ok else '✗'} {name}: {value}" for name, ok, value in checks],
            "",
        ]
        report += BUDGETS
        if beside:
            report += [
                f"## Beside `{args.baseline}`",
                "",
                f"The bot of `{args.baseline}` ran beside this tree's, each with stand-ins of "
                "its own, their bursts taking turns (this tree first in odd rounds, the "
                "baseline first in even ones); each figure is the median of its runs, their "
                "range in brackets, and the ratio is this tree's ÷ the baseline's.",
                "",
                beside,
                "",
            ]
        if drawn:
            report.append(f"![latency distributions]({png.name})")
        out.write_text("\n".join(report) + "\n")
        print(f"wrote {out}" + (f" and {png}" if drawn else ""))
        if out.resolve() == DEFAULT_OUT.resolve():  # the README quotes this run's headline
            if quote_headline(ROOT / "README.md", headlined):
                print("and its headline in README.md")
            else:
                print("README.md has no headline block to replace: not changed")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--bursts", default="1,50,200,1000", type=lambda v: [int(x) for x in v.split(",")]
    )
    parser.add_argument("--oracle", type=float, default=0.150, help="seconds per Oracle call")
    parser.add_argument("--slack", type=float, default=0.030, help="seconds per Slack call")
    parser.add_argument("--bound", type=int, default=8, help="B2C_MAX_CONCURRENCY")
    parser.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        help="the report (the default also puts its headline in the README)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=20,
        help="commands sent (and not reported) before the measured bursts",
    )
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="do not give the bot a core of its own"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each burst (reported: latencies pooled, median duration and CPU)",
    )
    parser.add_argument("--profile", help="write py-spy folded stacks of the bot here")
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="run the bot of commit REV beside this tree's, bursts taking turns, and report "
        "both with their ratio",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="one latency setting, no zero-latency run, no plot"
    )
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
