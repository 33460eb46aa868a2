"""Mutation testing of the code that keeps the README's promises, with mutmut.

    pip install '.[test,mutation]'
    python scripts/mutation.py                 # every group (hours on two cores)
    python scripts/mutation.py grammar roql    # some groups; the others' figures are kept
    python scripts/mutation.py --list          # the groups, their modules and their tests
    python scripts/mutation.py --check roql    # exit 1 when a module of theirs is below 85 %
    python scripts/mutation.py journal --collect /tmp/mutation.xxxx   # a stopped run's figures
    python scripts/mutation.py journal --keep  # keep the scratch copy, then after new tests:
    python scripts/mutation.py journal --again /tmp/mutation.xxxx     # re-try its survivors

mutmut changes one thing at a time in a module (a comparison flipped, a condition dropped, a
constant or a string changed...) and runs the tests that reach that code; a change no test
notices "survived". Each group names the modules it mutates and the tests that should notice.
The run happens in a scratch copy of the tracked tree (nothing here changes), the PostgreSQL
runs are left out (``TEST_DATABASE_URL=skip``: the same code runs on SQLite) except for the
journal, which gets a server of its own where ``scripts/start-postgres`` can start one (its
PostgreSQL code is otherwise untested), the tests marked ``slow`` are left out, and the figures go
to ``docs/mutation.md`` (with every survivor listed) and ``docs/mutation.json`` (kept per group,
so a run of some groups keeps the others' latest figures).

Written by hand around mutmut (a well-kept tool: it makes and runs the mutants): what is ours
is only which modules go with which tests, and the report.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TARGET = 0.85  # killed (or timed out) ÷ all mutants, per module

# group -> (modules mutated, tests that should notice); fast unit tests where they exist
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "grammar": (
        ["bot/domain/grammar.py"],
        [
            "tests/test_grammar.py",
            "tests/test_properties.py",
            "tests/test_security.py",
            "tests/test_what_people_type.py",
        ],
    ),
    "dates": (["bot/domain/when.py"], ["tests/test_when.py", "tests/test_grammar.py"]),
    "unclear commands": (
        ["bot/flows/unclear.py"],
        ["tests/test_unclear.py", "tests/test_what_people_type.py"],
    ),
    "escaping": (
        ["bot/domain/slack_text.py"],
        ["tests/test_slack_text.py", "tests/test_properties.py", "tests/test_security.py"],
    ),
    "oracle body": (
        ["bot/flows/compose.py"],
        ["tests/test_compose_snapshots.py", "tests/test_render.py", "tests/test_properties.py"],
    ),
    "rendering": (
        ["bot/slack/render.py"],
        [  # every message, its buttons' ids and values included, is pinned by a snapshot
            "tests/test_render_snapshots.py",
            "tests/test_render.py",
            "tests/test_block_kit.py",
            "tests/test_security.py",
            "tests/test_examples.py",
        ],
    ),
    "roql": (["bot/oracle/roql.py"], ["tests/test_roql.py", "tests/test_sandbox.py"]),
    "oracle client": (
        ["bot/oracle/client.py", "bot/oracle/errors.py"],
        ["tests/test_b2c.py", "tests/test_reliability.py"],
    ),
    "allow-lists": (["bot/slack/access.py"], ["tests/test_access.py", "tests/test_security.py"]),
    "subscription filters": (["bot/subscriptions/filters.py"], ["tests/test_subscriptions.py"]),
    "workflow step inputs": (
        ["bot/workflow/inputs.py", "bot/workflow/messages.py"],
        ["tests/test_workflow_inputs.py"],
    ),
    "subscriptions": (
        [
            "bot/subscriptions/feed.py",
            "bot/subscriptions/commands.py",
            "bot/subscriptions/messages.py",
            "bot/subscriptions/store.py",
        ],
        ["tests/test_subscriptions.py"],
    ),
    "metrics": (["bot/metrics.py", "bot/slack/watch.py"], ["tests/test_metrics.py"]),
    "journal": (
        ["bot/journal/store.py", "bot/journal/holders.py", "bot/journal/engines.py"],
        ["tests/test_journal.py", "tests/test_reliability.py"],
    ),
    "creating a task": (
        ["bot/flows/worker.py", "bot/flows/procedure.py", "bot/flows/announce.py"],
        [
            "tests/test_announce.py",
            "tests/test_worker.py",
            "tests/test_connect.py",  # what a Slack Connect channel's result shows
            "tests/test_reliability.py",
            "tests/test_e2e_http.py",
            "tests/test_e2e_interactive.py",  # the form's side of a refusal
            # a contact by e-mail, a request with no requester or no channel (the step's runs)
            "tests/test_workflow_step.py",
            # an emoji on a reply: the task is answered in that reply's thread
            "tests/test_home.py::test_an_emoji_on_a_reply_answers_in_its_thread",
            # a request whose message Slack would not show: kept, nothing told yet
            "tests/test_home.py::test_an_emoji_task_waits_for_slack_when_slack_is_away",
        ],
    ),
    "thread sync": (
        ["bot/sync/poller.py", "bot/sync/changes.py", "bot/sync/replies.py", "bot/sync/store.py"],
        # (test_budgets: which notes are read, and when, is held there)
        [
            "tests/test_sync_changes.py",
            "tests/test_sync.py",
            "tests/test_budgets.py",
            "tests/test_connect.py",  # what a Slack Connect channel's thread is told
        ],
    ),
    "request router": (
        ["bot/command_route.py"],
        ["tests/test_command_route.py", "tests/test_e2e_http.py"],
    ),
}
# groups whose modules hold PostgreSQL's own code: run against a server of their own when one
# can be started here (the others leave PostgreSQL out: the same code runs on SQLite)
WITH_POSTGRES = {"journal"}
# lines that are nothing but a piece of SQL text (alone, or the one argument of a call such as
# ``connection.execute("PRAGMA ...")``): mutmut can only change their case (the same SQL: both
# engines read keywords and names in any case) or wrap them in "XX" (a syntax error every test
# meets), so their mutants say nothing and are not made (see mutation-notes.md)
SQL_LINE = (
    r'^\s*([\w.]+\()?"[^"]*\b(SELECT|INSERT|UPDATE|DELETE|CREATE|PRAGMA|VALUES|WHERE|ORDER BY'
    r'|ON CONFLICT|RETURNING|FROM|SET|BEGIN|COMMIT|ROLLBACK)\b[^"]*"\)?\s*,?\s*(#.*)?$'
)
KILLED = {"killed", "timeout"}  # a mutant that hangs the tests is noticed too
# what the tests read besides the code (the README's examples, the manifest, the settings...)
ALSO_COPY = ["handlers", "scripts", "bench", "docs", "deploy"]
ALSO_COPY += ["README.md", "manifest.yaml", ".env.example", "Procfile"]


def scratch_copy() -> Path:
    """The tracked tree as it is in the working folder, in a folder of its own."""
    where = Path(tempfile.mkdtemp(prefix="mutation."))
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, where / name)
    return where


def prepare(name: str) -> Path:
    """A scratch copy of the tracked tree set up for mutmut to mutate group ``name``."""
    modules, tests = GROUPS[name]
    where = scratch_copy()
    (where / "pyproject.toml").write_text(
        (where / "pyproject.toml").read_text()
        + "\n[tool.mutmut]\n"
        + 'source_paths = ["bot"]\n'
        + f"only_mutate = {json.dumps(modules)}\n"
        + f"also_copy = {json.dumps(ALSO_COPY)}\n"
        + f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
        + f"do_not_mutate_patterns = {json.dumps([SQL_LINE])}\n"
        # a mutant is tried against the tests that reach it, each survivor against all
        # of them: the few tests that wait on purpose (a slow Oracle) would be most of it
        + 'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-m", "not slow"]\n'
        # a mutant that hangs the tests (an event never set) is stopped after 5 times its
        # tests' own time, not mutmut's 15 (it is counted as noticed either way)
        + "timeout_multiplier = 5.0\n"
    )
    return where


def run_group(name: str, workers: int, keep: bool) -> dict:
    return _in_copy(name, workers, keep, {})


def again(kept: Path, name: str, workers: int, keep: bool) -> dict:
    """Re-try the survivors of a kept run with the tests (and the group's list of test files)
    as they are now, in a fresh copy, and merge: a mutant killed before stays killed, since the
    tests only grew (the modules mutated must not have changed since that run)."""
    before = statuses(kept)
    if not before:
        raise SystemExit(f"no mutant was tried in {kept}")
    return _in_copy(name, workers, keep, before)


def _in_copy(name: str, workers: int, keep: bool, before: dict[str, str]) -> dict:
    """Run a group in a fresh copy: every mutant, or (``before``: a kept run's statuses) only
    that run's survivors, merged into it."""
    names = [m for m, status in before.items() if status not in KILLED | {"not checked"}]
    if before:
        print(f"  re-trying {len(names)} survivors in a fresh copy", flush=True)
    where = prepare(name)
    try:
        started = time.monotonic()
        said = _mutmut(where, name, workers, names) if names or not before else ""
        now = statuses(where)
        found = {**before, **{m: now[m] for m in names if now.get(m) not in (None, "not checked")}}
        result = collect(where, name, found if before else now, time.monotonic() - started)
        if result is None:  # mutmut runs the tests unmutated first, and stops if they fail
            raise SystemExit(f"mutmut tried no mutant of {name}; its output ended with:\n{said}")
        return result
    finally:
        if keep:
            print(f"  kept the scratch copy: {where} (--again {where} re-tries its survivors)")
        else:
            shutil.rmtree(where, ignore_errors=True)


def _mutmut(where: Path, name: str, workers: int, names: list[str]) -> str:
    """Run mutmut in ``where`` (every mutant, or those ``names``): the end of its output."""
    pgdata: Path | None = None
    try:
        env = _env()
        if name in WITH_POSTGRES:
            pgdata = Path(tempfile.mkdtemp(prefix="pgdata."))  # its own: the server's user
            env["TEST_DATABASE_URL"] = _start_postgres(pgdata) or "skip"
            print(f"  PostgreSQL: {env['TEST_DATABASE_URL']}", flush=True)
        ran = subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(workers), *names],
            cwd=where,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        return (ran.stdout + ran.stderr)[-1500:]
    finally:
        if pgdata is not None:
            subprocess.run([str(ROOT / "scripts/stop-postgres"), str(pgdata)], check=False)
            shutil.rmtree(pgdata, ignore_errors=True)


def _env() -> dict[str, str]:
    """mutmut's environment: PostgreSQL left out (the journal group sets its own server)."""
    return {**os.environ, "TEST_DATABASE_URL": "skip"}


def statuses(where: Path) -> dict[str, str]:
    """Each mutant of a run in ``where`` and what became of it ("not checked": not tried)."""
    listed = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=where,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found = {}
    for line in listed.splitlines():
        mutant, _, status = line.strip().rpartition(": ")
        if mutant:
            found[mutant] = status
    return found


def collect(where: Path, name: str, found: dict[str, str], seconds: float) -> dict | None:
    """The figures of a group from its mutants' ``found`` statuses (a run finished, or stopped
    part way: its mutants not tried yet are "not checked"); None when none was tried."""
    modules, tests = GROUPS[name]
    if not set(found.values()) & (KILLED | {"survived"}):
        return None
    env = _env()
    per_module: dict[str, Counter[str]] = {module: Counter() for module in modules}
    survivors: dict[str, list[str]] = {module: [] for module in modules}
    for mutant, status in sorted(found.items()):
        module = _module_of(mutant, modules)
        per_module[module][status] += 1
        if status not in KILLED | {"not checked"}:
            survivors[module].append(f"{mutant} ({status}): {_change(where, env, mutant)}")
    return {
        "group": name,
        "tests": tests,
        "taken": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": round(seconds),
        "modules": {m: dict(per_module[m]) for m in modules},
        "survivors": survivors,
    }


def _start_postgres(data: Path) -> str:
    """A PostgreSQL server's URL (scripts/start-postgres), or "" where none can be started."""
    started = subprocess.run(
        [str(ROOT / "scripts/start-postgres"), "--no-install", str(data)],
        capture_output=True,
        text=True,
        check=False,
    )
    return started.stdout.strip() if started.returncode == 0 else ""


def _change(where: Path, env: dict[str, str], mutant: str) -> str:
    """The mutant's change in one line: ``old`` → ``new`` (what ``mutmut show`` prints)."""
    diff = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", mutant],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    old = [line[1:].strip() for line in diff if line.startswith("-") and not line.startswith("---")]
    new = [line[1:].strip() for line in diff if line.startswith("+") and not line.startswith("+++")]
    return f"`` {' '.join(old)[:140]} `` → `` {' '.join(new)[:140]} ``"


def _module_of(mutant: str, modules: list[str]) -> str:
    """``bot.domain.grammar.x_parse__mutmut_3`` → ``bot/domain/grammar.py``."""
    for module in modules:
        dotted = module.removesuffix(".py").replace("/", ".")
        if mutant.startswith(dotted + "."):
            return module
    return modules[0]


def score(counts: dict[str, int]) -> float | None:
    total = sum(n for status, n in counts.items() if status != "not checked")
    return sum(counts.get(s, 0) for s in KILLED) / total if total else None


def report(kept: dict[str, dict]) -> str:
    lines = [
        "# Mutation testing",
        "",
        "Made by `python scripts/mutation.py` (mutmut; see the script for how). A mutant is one "
        "small change to a module (a comparison flipped, a condition dropped, a value changed); "
        "it is *killed* when a test fails because of it, *timed out* when the tests hang on it "
        "(noticed too), and *survived* when every test still passes. Target: at least "
        f"{TARGET:.0%} killed in each module. Lines that are nothing but SQL text are not "
        "mutated (mutmut could only change their case, the same SQL, or break them for every "
        "test). Groups not run yet say so; a run stopped part way "
        "(`--collect`) gives the share of the mutants it tried and how many it did not. Why "
        "the survivors "
        "that change nothing observable survive: [`mutation-notes.md`](mutation-notes.md).",
        "",
        "| group | module | mutants | killed | timed out | survived | other | killed % | taken |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, (modules, _tests) in GROUPS.items():
        result = kept.get(name)
        for module in modules:
            if result is None:
                lines.append(f"| {name} | `{module}` | – | – | – | – | – | not run yet | – |")
                continue
            counts = result["modules"].get(module, {})
            other = sum(n for s, n in counts.items() if s not in KILLED | {"survived"})
            killed = score(counts)
            mark = "" if killed is None else (" ✓" if killed >= TARGET else " ✗")
            untried = counts.get("not checked", 0)
            if untried:  # a run stopped part way: the share of the mutants tried so far
                mark = f" of those tried ({untried} not tried yet)"
            lines.append(
                f"| {name} | `{module}` | {sum(counts.values())} | {counts.get('killed', 0)} | "
                f"{counts.get('timeout', 0)} | {counts.get('survived', 0)} | {other} | "
                f"{'–' if killed is None else f'{killed:.1%}'}{mark} | "
                f"{result['taken']} ({result['seconds']} s) |"
            )
    lines += ["", "## Survivors", ""]
    lines.append(
        "Each is a change no test noticed, as the line before → after. Each is to be killed by a "
        "test of behaviour a user would notice, or explained here as changing nothing "
        "observable."
    )
    for name, result in kept.items():
        for module, names in result["survivors"].items():
            if names:
                lines += ["", f"### {module} ({name})", ""]
                lines += [f"- {n}" for n in names]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("groups", nargs="*", help="groups to run (all when none)")
    parser.add_argument("--list", action="store_true", help="print the groups and stop")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 when a module run is below {TARGET:.0%}%"
    )
    parser.add_argument(
        "--collect",
        metavar="DIR",
        help="write the figures of the one group given from its scratch copy DIR (a run "
        "stopped part way, its copy kept), instead of running it",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch copy (for --again) and say where"
    )
    parser.add_argument(
        "--again",
        metavar="DIR",
        help="re-try the survivors of the one group given, kept in DIR (--keep), with the tests "
        "as they are now (after adding tests), in a fresh copy, and write the merged figures",
    )
    args = parser.parse_args()
    if args.list:
        for name, (modules, tests) in GROUPS.items():
            print(f"{name}: {', '.join(modules)}  ←  {', '.join(tests)}")
        return 0
    unknown = [g for g in args.groups if g not in GROUPS]
    if unknown:
        parser.error(f"no group named {', '.join(unknown)} (see --list)")
    kept_file = DOCS / "mutation.json"
    kept = json.loads(kept_file.read_text()) if kept_file.exists() else {}
    if args.collect:
        if len(args.groups) != 1:
            parser.error("--collect takes exactly one group")
        ran_for = time.time() - Path(args.collect).stat().st_ctime  # since its copy was made
        result = collect(Path(args.collect), args.groups[0], statuses(Path(args.collect)), ran_for)
        if result is None:
            parser.error(f"no mutant was tried in {args.collect}")
        # read again: a run of other groups may have written its figures meanwhile
        kept = json.loads(kept_file.read_text()) if kept_file.exists() else {}
        kept[args.groups[0]] = result
        kept_file.write_text(json.dumps(kept, indent=1, sort_keys=True) + "\n")
        (DOCS / "mutation.md").write_text(report(kept))
        print(f"wrote {DOCS / 'mutation.md'}")
        return 0
    if args.again and len(args.groups) != 1:
        parser.error("--again takes exactly one group")
    below = []
    for name in args.groups or list(GROUPS):
        modules = GROUPS[name][0]
        print(f"mutating {name}: {', '.join(modules)} …", flush=True)
        if args.again:
            result = again(Path(args.again), name, args.workers, args.keep)
            result["seconds"] = round(time.time() - Path(args.again).stat().st_ctime)  # all told
        else:
            result = run_group(name, args.workers, args.keep)
        # read again: another run (of other groups) may have written its figures meanwhile
        kept = json.loads(kept_file.read_text()) if kept_file.exists() else {}
        kept[name] = result
        for module, counts in kept[name]["modules"].items():
            killed = score(counts)
            shown = "no mutants" if killed is None else f"{killed:.1%} killed"
            print(f"  {module}: {sum(counts.values())} mutants, {shown}", flush=True)
            if killed is None or killed < TARGET:
                below.append(module)
        kept_file.write_text(json.dumps(kept, indent=1, sort_keys=True) + "\n")
        (DOCS / "mutation.md").write_text(report(kept))
    print(f"wrote {DOCS / 'mutation.md'}")
    if args.check and below:
        print(f"below {TARGET:.0%} killed (or not run): {', '.join(below)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
