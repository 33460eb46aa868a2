"""Named IDs checked before Oracle against what the site lists, table by table."""

from __future__ import annotations

import pytest

from bot.domain.drafts import IdOrName, TaskDraft
from bot.oracle.catalog import NamedID, unknown_named

SITE = {
    "priority": [NamedID(1, "Low"), NamedID(2, "Normal"), NamedID(3, "High")],
    "status": [NamedID(16, "Not Started"), NamedID(18, "Completed")],
    "type": [NamedID(1, "Call")],
    "template": [],  # the site lists none: left to Oracle
}


@pytest.mark.parametrize(
    ("draft", "problem"),
    [
        (TaskDraft(name="x"), None),
        (TaskDraft(name="x", priority=IdOrName(name="high")), None),
        (TaskDraft(name="x", priority=IdOrName(id=3)), None),
        (
            TaskDraft(name="x", priority=IdOrName(name="Urgent")),
            "Priority must be one of: Low, Normal, High (not “Urgent”).",
        ),
        (
            TaskDraft(name="x", priority=IdOrName(id=9)),
            "Priority must be one of: Low, Normal, High (not “9”).",
        ),
        (
            TaskDraft(name="x", status=IdOrName(name="Done")),
            "Status must be one of: Not Started, Completed (not “Done”).",
        ),
        (
            TaskDraft(name="x", task_type=IdOrName(name="Visit")),
            "Type must be one of: Call (not “Visit”).",
        ),
        (TaskDraft(name="x", template=IdOrName(name="Anything")), None),
    ],
)
def test_unknown_named(draft: TaskDraft, problem: str | None) -> None:
    assert unknown_named(draft, SITE) == problem


def test_nothing_known_leaves_it_to_oracle() -> None:
    assert unknown_named(TaskDraft(name="x", priority=IdOrName(name="Urgent")), None) is None
