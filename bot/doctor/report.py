"""The doctor's checklist: one line a check, ✓ / ✗ / !, and on ✗ or ! what to change."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

OK, FAIL, WARN, SKIP = "ok", "fail", "warn", "skip"
MARKS = {OK: "✓", FAIL: "✗", WARN: "!", SKIP: "–"}


@dataclass
class Check:
    area: str  # Settings, Slack, Oracle, Journal
    status: str  # ok, fail, warn
    what: str  # what was checked, and what was found
    fix: str | None = None  # on fail or warn: exactly what to change


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    def add(self, area: str, status: str, what: str, fix: str | None = None) -> Check:
        check = Check(area, status, what, fix)
        self.checks.append(check)
        return check

    def ok(self, area: str, what: str) -> Check:
        return self.add(area, OK, what)

    def fail(self, area: str, what: str, fix: str) -> Check:
        return self.add(area, FAIL, what, fix)

    def warn(self, area: str, what: str, fix: str | None = None) -> Check:
        return self.add(area, WARN, what, fix)

    def skip(self, area: str, why: str) -> Check:
        """A section not checked, and why (a setting it needs is reported above)."""
        return self.add(area, SKIP, f"not checked: {why}")

    @property
    def failed(self) -> bool:
        return any(check.status == FAIL for check in self.checks)

    def counts(self) -> dict[str, int]:
        return {status: sum(c.status == status for c in self.checks) for status in MARKS}

    def text(self) -> str:
        lines: list[str] = []
        area = None
        for check in self.checks:
            if check.area != area:
                area = check.area
                lines.append(("" if not lines else "\n") + area)
            lines.append(f"  {MARKS[check.status]} {check.what}")
            if check.fix:
                lines.append(f"      → {check.fix}")
        counts = self.counts()
        skipped = f", {counts[SKIP]} not checked" if counts[SKIP] else ""
        lines.append(
            f"\n{counts[OK]} passed, {counts[FAIL]} failed, {counts[WARN]} warnings{skipped}"
            + (" — fix the ✗ lines and run it again." if self.failed else ".")
        )
        return "\n".join(lines)

    def json(self) -> str:
        counts = self.counts()
        summary = {
            "passed": counts[OK],
            "failed": counts[FAIL],
            "warnings": counts[WARN],
            "skipped": counts[SKIP],
        }
        return json.dumps(
            {"ok": not self.failed, **summary, "checks": [asdict(c) for c in self.checks]},
            ensure_ascii=False,
            indent=2,
        )
