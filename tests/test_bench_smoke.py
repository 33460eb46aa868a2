"""The benchmarks still work (small sizes): figures are printed and written. No timing is
asserted here; the targets are the benchmarks' own reports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import postgres_url

ROOT = Path(__file__).resolve().parents[1]


def run_bench(script: str, *args: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    printed = run_bench("run.py", "--bursts", "10", "--smoke", "--out", str(out), cwd=tmp_path)
    assert "burst    10 (Oracle 150 ms, Slack 30 ms)" in printed
    assert "replies 10/10" in printed and "statuses {200: 10}" in printed
    report = out.read_text()
    assert "| 10 | 150 / 30 ms |" in report and "start-up ≤ 2 s" in report
    assert "Each burst ran 3 times" in report  # the runs of a size are combined
    # the headline block, as the README quotes it (only a run writing docs/benchmarks.md
    # rewrites the README's)
    assert "<!-- headline: written by bench/run.py" in report and "<!-- /headline -->" in report
    assert "Latest run (" in report and "; start-up " in report and "peak memory" in report
    assert "README.md" not in printed.splitlines()[-1]


def test_benchmark_beside_a_baseline_commit(tmp_path: Path) -> None:
    """--baseline: a commit's bot (its own worktree) beside this tree's, bursts in turn."""
    out = tmp_path / "benchmarks.md"
    printed = run_bench(
        "run.py",
        *("--bursts", "5", "--smoke", "--repeat", "2", "--warmup", "2"),
        *("--baseline", "HEAD", "--out", str(out)),
        cwd=tmp_path,
    )
    assert printed.count("this tree: burst     5") == 2
    assert printed.count("baseline HEAD: burst     5") == 2
    report = out.read_text()
    assert "## Beside `HEAD`" in report
    assert "| 5 | 150 / 30 ms | CPU/task |" in report and "| ×" in report
    assert "<!-- headline:" in report
    listed = subprocess.run(
        ["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "bench-baseline-" not in listed.stdout  # the worktree is gone


def test_journal_benchmark_smoke(tmp_path: Path) -> None:
    """bench/journal.py still works: a small journal vs an empty one (and, with PostgreSQL,
    the takeover of a killed process's burst, where a missing or doubled task fails it)."""
    postgres_url()  # started now if this run has PostgreSQL (the benchmark reads the URL)
    printed = run_bench(
        "journal.py", "--rows", "2000", "--repeat", "1", "--takeover", "20", "--smoke", cwd=tmp_path
    )
    assert "sqlite             0 settled rows" in printed
    assert "sqlite         2,000 settled rows" in printed
    if "postgresql" in printed:
        assert "20 tasks (20 distinct), 20 answered" in printed


def test_sync_benchmark_smoke(tmp_path: Path) -> None:
    """bench/sync.py still works: every change told in its thread, every reply one note."""
    printed = run_bench(
        "sync.py",
        "--tracked",
        "300",
        "--minutes",
        "0.2",
        "--per-minute",
        "60",
        "--interval",
        "2",
        "--replies",
        "20",
        "--smoke",
        cwd=tmp_path,
    )
    assert "300 tracked, 12 changed" in printed and "12 told" in printed
    assert "notes saved 20 (distinct 20)" in printed


def test_home_benchmark_smoke(tmp_path: Path) -> None:
    """bench/home.py still works: the Home tab published within three Oracle calls, every
    digest sent once and within its rate, one task per reacted message."""
    printed = run_bench(
        "home.py",
        "--tasks",
        "20",
        "--users",
        "30",
        "--per-minute",
        "600",
        "--reactions",
        "20",
        "--repeat",
        "1",
        "--smoke",
        cwd=tmp_path,
    )
    assert '"sent": 30, "distinct": 30, "sent_again": 0' in printed
    assert '"tasks": 20, "distinct": 20' in printed
    assert "✓ every target met" in printed


def test_subscriptions_benchmark_smoke(tmp_path: Path) -> None:
    """bench/subscriptions.py still works: a few channels, a few changes, a few tasks due."""
    printed = run_bench(
        "subscriptions.py",
        *("--tasks", "300", "--tracked", "50", "--channels", "5"),
        *("--per-minute", "240", "--minutes", "0.2", "--interval", "2", "--smoke"),
        cwd=tmp_path,
    )
    assert "subscriptions: 10 in 5 channels; Oracle calls per minute" in printed
    assert ", 0 twice;" in printed  # no overdue task told twice in a channel
