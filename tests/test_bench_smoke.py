"""The benchmark still works (a burst of 10): figures are printed and written. No timing is
asserted here; the targets are the benchmark's own report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--bursts",
            "10",
            "--smoke",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "burst    10 (Oracle 150 ms, Slack 30 ms)" in result.stdout
    assert "replies 10/10" in result.stdout and "statuses {200: 10}" in result.stdout
    report = out.read_text()
    assert "| 10 | 150 / 30 ms |" in report and "start-up ≤ 2 s" in report
    assert "Each burst ran 3 times" in report  # the runs of a size are combined
