"""Every example the README, `/task help` and the app manifest show runs as shown in the demo
(against the sandbox), exiting 0."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from bot.demo import run_demo
from bot.domain.grammar import FIELDS
from bot.slack import render

ROOT = Path(__file__).resolve().parents[1]


def _examples() -> list[str]:
    found: list[str] = []
    readme = (ROOT / "README.md").read_text()
    for snippet in re.findall(r"`(/task[^`]*)`", readme):
        if "<" not in snippet and "..." not in snippet:
            found.append(snippet)
    for row in re.findall(r"^\| `(@\w+ [^`]+)` \|", readme, re.MULTILINE):
        found.append(f"/task Example task {row}")
    help_text = render.examples("/task", "ticket") + "\n" + render.usage("/task")
    for snippet in re.findall(r"`(/task [^`]*)`", help_text):
        found.append(snippet.replace("&amp;", "&"))
    for spec in FIELDS:
        found.append(f"/task Example task @{spec.name} {spec.example}")
    hint = re.search(r'usage_hint: "([^"]+)"', (ROOT / "manifest.yaml").read_text())
    assert hint is not None
    found.append(f"/task {hint.group(1)}")
    return sorted(set(found))


EXAMPLES = _examples()


def test_the_examples_are_found() -> None:
    assert "/task Return customer call @contact 83" in EXAMPLES
    assert "/task show 12" in EXAMPLES and "/task mine" in EXAMPLES
    assert "/task Example task @assign @jane" in EXAMPLES
    assert len(EXAMPLES) >= 20


@pytest.mark.parametrize("example", EXAMPLES)
async def test_each_example_runs_in_the_demo(example: str) -> None:
    out = io.StringIO()
    code = await run_demo(example, as_json=True, out=out)
    report = json.loads(out.getvalue())
    assert code == 0, (example, json.dumps(report, ensure_ascii=False)[:2000])


def test_the_readme_quotes_the_benchmarks_headline_as_the_run_wrote_it() -> None:
    """One run writes the headline figures into docs/benchmarks.md and the same block into
    the README (bench/run.py): neither is edited by hand apart from the other."""
    start = "<!-- headline: written by bench/run.py"
    end = "<!-- /headline -->"

    def block(path: Path) -> str:
        text = path.read_text()
        assert text.count(start) == 1 and text.count(end) == 1, path
        return text[text.index(start) : text.index(end)]

    quoted = block(ROOT / "README.md")
    assert quoted == block(ROOT / "docs" / "benchmarks.md")
    assert "start-up" in quoted and "peak memory" in quoted


async def test_the_readmes_workflow_step_example_runs_in_the_demo() -> None:
    from bot.demo_step import run_step_demo

    readme = (ROOT / "README.md").read_text()
    steps = re.findall(r"^python -m bot demo --step '([^']+)'$", readme, re.MULTILINE)
    assert steps, "the README shows the step's demo"
    for inputs in steps:
        out = io.StringIO()
        assert await run_step_demo(inputs, out=out) == 0, out.getvalue()
        assert "functions.completeSuccess" in out.getvalue()
