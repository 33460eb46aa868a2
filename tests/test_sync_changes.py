"""What a synced thread says about a change, table by table (pure: bot.sync.changes)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.sync.changes import (
    change_line,
    differences,
    newly_assigned,
    shown_from_answer,
    shown_from_row,
    task_from_shown,
    version,
)
from bot.sync.replies import readable_reply

DUE = "<!date^1796414400^{date_short_pretty} at {time}|2026-12-04 20:00 UTC>"


@pytest.mark.parametrize(
    ("old", "new", "lines"),
    [
        ({}, {}, []),
        ({"status": "Not Started"}, {"status": "Not Started"}, []),
        ({"status": ""}, {"status": None}, []),  # empty and missing are the same
        (
            {"status": "Not Started"},
            {"status": "In <Progress>"},
            ["Status: Not Started → In &lt;Progress&gt;"],
        ),
        ({"name": "A"}, {"name": None}, ["Name: A → none"]),
        ({"assignee": "Jane"}, {"assignee": "Sam & Co"}, ["Assigned to: Sam &amp; Co"]),
        ({"assignee": "Jane"}, {"assignee": None}, ["Assigned to: Jane → none"]),
        ({}, {"due": "2026-12-04T20:00:00Z"}, [f"Due: none → {DUE}"]),
        ({}, {"start": "2026-12-04T20:00:00.000Z"}, [f"Start: none → {DUE}"]),
        ({"due": "soon"}, {"due": "later"}, ["Due: soon → later"]),  # not a date: as it is
        # one moment, however Oracle spells it (the POST's answer and a ROQL row differ)
        ({"start": "2026-12-04T20:00:00.000Z"}, {"start": "2026-12-04T20:00:00Z"}, []),
        ({"due": "2026-12-04T20:00:00.000Z"}, {"due": "2026-12-04T20:00:00Z"}, []),
        ({}, {"due": "y" * 300}, ["Due: none → " + "y" * 199 + "…"]),
        ({"percent": "10"}, {"percent": "50"}, ["Complete: 10% → 50%"]),
        ({"priority": "Low"}, {"priority": "x" * 300}, ["Priority: Low → " + "x" * 199 + "…"]),
        (
            {"name": "A", "status": "Open", "priority": "Low", "status_type": "x"},
            {"name": "B", "status": "Done", "priority": "High", "status_type": "y"},
            ["Name: A → B", "Status: Open → Done", "Priority: Low → High"],  # in this order
        ),
    ],
)
def test_each_change_is_one_line_in_the_fields_order(old, new, lines: list[str]) -> None:
    assert differences(old, new) == lines


def test_a_change_line_says_where_the_change_was_made() -> None:
    assert change_line(["Status: A → B", "Name: C → D"]) == (
        "Status: A → B · Name: C → D · changed in B2C Service"
    )
    assert change_line([]) == "changed in B2C Service"


@pytest.mark.parametrize(
    ("old", "new", "assigned"),
    [
        ({"assignee_id": "2"}, {"assignee_id": "3"}, 3),
        ({"assignee_id": "3"}, {"assignee_id": "3"}, None),  # not reassigned
        ({"assignee_id": 3}, {"assignee_id": "3"}, None),  # the same id, as text or number
        ({"assignee_id": "3"}, {"assignee_id": None}, None),  # unassigned
        ({"assignee_id": "3"}, {"assignee_id": "x"}, None),  # not an id
        ({"assignee_id": None}, {"assignee_id": "4"}, 4),  # assigned for the first time
        # a view kept before ids were: reassigned only when the name changed
        ({"assignee": "Jane"}, {"assignee": "Sam", "assignee_id": "4"}, 4),
        ({"assignee": "Sam"}, {"assignee": "Sam", "assignee_id": "4"}, None),
        ({}, {"assignee_id": "4"}, None),  # neither name known: no change to tell
    ],
)
def test_who_a_task_was_just_assigned_to(old: dict[str, Any], new, assigned) -> None:
    assert newly_assigned(old, new) == assigned


def test_the_task_message_is_redrawn_from_what_the_thread_shows() -> None:
    task = task_from_shown(12, {"name": "Call", "status": "Completed", "status_type": "Completed"})
    assert (task.id, task.title, task.status_name, task.is_complete) == (
        12,
        "Call",
        "Completed",
        True,
    )
    bare = task_from_shown(7, {})
    assert (bare.title, bare.status_name, bare.is_complete) == ("Task 7", "Unknown", False)


@pytest.mark.parametrize(
    ("row", "shown"),
    [
        (
            [
                "12",
                "t",
                "Call",
                "Open",
                "Jane",
                "2026-12-04",
                None,
                "",
                "High",
                "Not Complete",
                "2",
            ],
            {
                "name": "Call",
                "status": "Open",
                "assignee": "Jane",
                "due": "2026-12-04",
                "start": None,
                "percent": None,
                "priority": "High",
                "status_type": "Not Complete",
                "assignee_id": "2",
            },
        ),
        (
            ["12", "2026-11-28T10:00:00Z", "Call", "Not Started", "Jane Doe", None, None, "40"],
            {
                "name": "Call",
                "status": "Not Started",
                "assignee": "Jane Doe",
                "due": None,
                "start": None,
                "percent": "40",
                "priority": None,
                "status_type": None,
                "assignee_id": None,
            },
        ),
        (
            ["12", "t"],
            {
                key: None
                for key in (
                    "name",
                    "status",
                    "assignee",
                    "due",
                    "start",
                    "percent",
                    "priority",
                    "status_type",
                    "assignee_id",
                )
            },
        ),
    ],
)
def test_a_row_is_read_by_position(row: list[str | None], shown: dict[str, Any]) -> None:
    assert shown_from_row(row) == shown


@pytest.mark.parametrize(
    ("text", "files", "note"),
    [
        ("Called <@U1> back", [], "Called @Jane Doe back"),
        ("  spaced  ", [], "spaced"),
        ("", [{"name": "a.txt", "permalink": "https://f/a"}], "Files: a.txt (https://f/a)"),
        (
            "See these",
            [
                {"title": "Screenshot", "permalink": "https://f/s"},
                {"permalink": "https://f/x"},
                {"name": "b.pdf"},
            ],
            "See these\nFiles: Screenshot (https://f/s), file (https://f/x), b.pdf (no link)",
        ),
    ],
)
def test_a_reply_becomes_readable_text(text: str, files: list, note: str) -> None:
    assert readable_reply(text, {"U1": "Jane Doe"}, files) == note


ACCOUNT_2 = {
    "links": [{"rel": "self", "href": "https://site/services/rest/connect/v1.4/accounts/2"}]
}
ANSWER = {
    "id": 100,
    "name": "Call back",
    "updatedTime": "2026-12-02T10:00:00.000Z",
    "dueTime": "2026-12-04T20:00:00.000Z",
    "startTime": None,
    "percentComplete": 0,
    "priority": {"id": 3, "lookupName": "High"},
    "statusWithType": {
        "status": {"id": 16, "lookupName": "Not Started"},
        "statusType": {"id": 14, "lookupName": "Not Complete"},
    },
    "assignedToAccount": ACCOUNT_2,
}
FROM_ANSWER = {
    "name": "Call back",
    "status": "Not Started",
    "due": "2026-12-04T20:00:00.000Z",
    "start": None,
    "percent": "0",
    "priority": "High",
    "status_type": "Not Complete",
    "assignee": None,
    "unknown": ["assignee"],
    "assignee_id": "2",
    "version": "2026-12-02T10:00:00+00:00",
}


@pytest.mark.parametrize(
    ("answer", "body", "shown"),
    [
        (ANSWER, {}, FROM_ANSWER),
        # the assignee only in the body sent (an answer without the reference)
        ({**ANSWER, "assignedToAccount": None}, {"assignedToAccount": {"id": 2}}, FROM_ANSWER),
        (
            {**ANSWER, "assignedToAccount": None, "priority": None, "percentComplete": None},
            {},
            {
                **FROM_ANSWER,
                "priority": None,
                "percent": None,
                "assignee_id": None,
                "unknown": None,
            },
        ),
        ({"id": 7}, {}, {"assignee": None, "assignee_id": None, "version": None}),
        (
            {
                **ANSWER,
                "startTime": "2026-12-03T14:00:00.000Z",
                "assignedToAccount": {
                    "links": [{"rel": "self", "href": "https://site/x/v1.4/accounts/2/"}]
                },
            },
            {},
            {**FROM_ANSWER, "start": "2026-12-03T14:00:00.000Z"},
        ),
        (
            {
                **ANSWER,
                "assignedToAccount": {
                    "links": [{"rel": "describedby"}, {"rel": "self", "href": "https://s/a/"}]
                },
            },
            {},
            {**FROM_ANSWER, "assignee_id": None, "unknown": None},
        ),
    ],
    ids=["answer", "assignee sent", "nothing set", "bare", "start, link with /", "no id"],
)
def test_a_created_tasks_thread_starts_from_oracles_answer(answer, body, shown) -> None:
    got = shown_from_answer(answer, body)
    assert {k: v for k, v in got.items() if v is not None} == {
        k: v for k, v in shown.items() if v is not None
    }


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ("2026-12-02T10:00:00.000Z", "2026-12-02T10:00:00+00:00"),  # Oracle's spelling
        ("2026-12-02T10:00:00Z", "2026-12-02T10:00:00+00:00"),  # pydantic's
        (None, None),
        ("", None),
        ("not a time", "not a time"),
    ],
)
def test_a_version_has_one_spelling(value, read) -> None:
    assert version(value) == read


@pytest.mark.parametrize(
    ("new", "lines"),
    [
        # the assignee's name, learnt at the first row: no line
        ({**FROM_ANSWER, "unknown": None, "assignee": "Jane Doe"}, []),
        # someone else by now: a line
        (
            {**FROM_ANSWER, "unknown": None, "assignee": "Sam Agent", "assignee_id": "3"},
            ["Assigned to: Sam Agent"],
        ),
        # the same moment spelt another way is no change
        ({**FROM_ANSWER, "due": "2026-12-04T20:00:00Z"}, []),
        (
            {**FROM_ANSWER, "status": "In Progress"},
            ["Status: Not Started → In Progress"],
        ),
    ],
    ids=["name learnt", "reassigned", "same due", "status"],
)
def test_what_a_created_tasks_thread_did_not_know_is_learnt_quietly(new, lines) -> None:
    assert differences(FROM_ANSWER, new) == lines
