"""Every message the bot renders, case by case, against its reviewed snapshot.

What a user reads (wording, emoji, order, buttons, their ids and values) is behaviour: a change
to any of it fails here and shows the difference; after a deliberate change, review the new text
and accept it with ``python -m pytest tests/test_render_snapshots.py --snapshot-update``.
The snapshots are in ``tests/__snapshots__/test_render_snapshots/``, one JSON file per case.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from bot.domain.tasks import Task
from bot.oracle.catalog import NamedID
from bot.slack import render
from bot.standins.block_kit import message_problems

LINK = "https://mysite.custhelp.com/AgentWeb/Bookmark/Task/12"
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
START = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)
HOSTILE = "Call <!channel> & <@U9> about `x` *now*"  # escaping shows in every snapshot
LONG = "n" * 300  # past the 250 characters a task's name is shown with


def task(status: str = "Not Started", kind: str = "Not Complete", name: str = HOSTILE) -> Task:
    return Task.model_validate(
        {
            "id": 12,
            "lookupName": name,
            "name": name,
            "percentComplete": 40,
            "dueTime": "2026-12-04T20:00:00Z",
            "statusWithType": {
                "status": {"id": 16, "lookupName": status},
                "statusType": {"id": 14, "lookupName": kind},
            },
        }
    )


OPEN = task()
DONE = task("Completed", "Completed")
BARE = Task.model_validate({"id": 7})  # no name, no status, no dates
STATUSES = [NamedID(16, "Not Started"), NamedID(17, "In Progress"), NamedID(18, "Completed")]
MANY_STATUSES = [NamedID(i, f"Status {i} " + "s" * 80) for i in range(1, 103)]
DETAILS = [("Contact", "83"), ("Due", render.slack_date(DUE)), ("Note <b>", "kept as given")]
MANY_DETAILS = [(f"Field {i}", str(i)) for i in range(1, 13)]  # two sections of fields

CASES: dict[str, Callable[[], object]] = {
    "private_confirmation_due_and_start": lambda: render.private_confirmation(
        12, HOSTILE, DUE, START, "America/New_York", NOW
    ),
    "private_confirmation_past_due_start_after": lambda: render.private_confirmation(
        12, HOSTILE, datetime(2026, 12, 1, 9, 0, tzinfo=UTC), START, "Europe/Paris", NOW
    ),
    "private_confirmation_due_only_no_zone": lambda: render.private_confirmation(
        12, LONG, DUE, None, None, NOW
    ),
    "private_confirmation_start_only": lambda: render.private_confirmation(
        12, "Plain", None, START, "Asia/Tokyo", NOW
    ),
    "private_confirmation_no_dates": lambda: render.private_confirmation(
        12, "Plain", None, None, "Asia/Tokyo", NOW
    ),
    "private_confirmation_due_now_start_at_due": lambda: render.private_confirmation(
        12, "Plain", NOW, NOW, "UTC", NOW
    ),
    "help": lambda: render.help_message("/task"),
    "help_other_command_and_reaction": lambda: render.help_message("/b2c", "memo"),
    "unclear_command": lambda: render.unclear_message(
        "/b2c", "`/task show 12` shows task 12", "show <@U1>", "show @Jane", '{"text":"x"}'
    ),
    "unclear_command_too_long": lambda: render.unclear_message(
        "/task", "`/task mine` lists your open tasks", "mine *all*", "mine *all*", None
    ),
    "date_question": lambda: render.date_question(
        "/task",
        "Call <!here> @due 04/03",
        "04/03",
        [("Due 4 March", '{"text":"a"}'), ("Due 3 April", '{"text":"b"}')],
    ),
    "date_question_too_long": lambda: render.date_question(
        "/task", "Call @due 04/03", "04/03", [("Due 4 March", None), ("Due 3 April", None)]
    ),
    "mistake": lambda: render.mistake_message(
        "/task", "unknown field @<b>", "Call back ```x``` @<b> 1"
    ),
    "mistake_long_input": lambda: render.mistake_message("/task", "too long", "y" * 2500),
    "pending_parent": lambda: render.pending_parent("U1", HOSTILE),
    "pending_parent_long": lambda: render.pending_parent("U1", LONG),
    "task_actions_open": lambda: render.task_actions(OPEN, LINK, "U1"),
    "task_actions_open_with_statuses": lambda: render.task_actions(OPEN, LINK, "U1", STATUSES),
    "task_actions_complete_with_statuses": lambda: render.task_actions(DONE, LINK, "U1", STATUSES),
    "task_actions_many_long_statuses": lambda: render.task_actions(OPEN, LINK, "U1", MANY_STATUSES),
    "created_parent": lambda: render.created_parent("U1", OPEN, LINK),
    "created_parent_complete_with_statuses": lambda: render.created_parent(
        "U1", DONE, LINK, STATUSES
    ),
    "created_parent_shown_assignee_and_due": lambda: render.created_parent(
        "U1", OPEN, LINK, shown={"assignee": "Jane <!here>", "due": "2026-12-04T20:00:00Z"}
    ),
    "created_parent_shown_bad_due": lambda: render.created_parent(
        "U1", OPEN, LINK, shown={"assignee": None, "due": "not a date"}
    ),
    "created_parent_bare_task": lambda: render.created_parent("U1", BARE, LINK),
    "deleted_parent": lambda: render.deleted_parent("U1", 12),
    "task_event": lambda: render.task_event("Status: *In Progress* (by <@U2>)"),
    "task_event_past_a_section": lambda: render.task_event("e" * 3100),
    "task_event_a_full_section": lambda: render.task_event("f" * 3000),
    "task_summary": lambda: render.task_summary(OPEN, LINK),
    "task_summary_bare": lambda: render.task_summary(BARE, LINK),
    "task_summary_long_name": lambda: render.task_summary(task(name=LONG), LINK),
    "task_list_empty": lambda: render.task_list([]),
    "task_list": lambda: render.task_list(
        [(12, HOSTILE, "Not Started", LINK), (13, LONG, "In <Progress>", LINK + "3")]
    ),
    "failed_parent": lambda: render.failed_parent("U1", HOSTILE),
    "not_created_parent": lambda: render.not_created_parent("U1", HOSTILE),
    "failed_parent_long": lambda: render.failed_parent("U1", LONG),
    "not_created_parent_long": lambda: render.not_created_parent("U1", LONG),
    "retrying_parent_long": lambda: render.retrying_parent("U1", LONG),
    "created_reply_long_name": lambda: render.created_reply(task(name=LONG), LINK, DETAILS),
    "created_parent_shown_long_assignee": lambda: render.created_parent(
        "U1", OPEN, LINK, shown={"assignee": "a" * 300, "due": None}
    ),
    "failed_reply_long_reason": lambda: render.failed_reply(
        "Refused", "r" * 1600, "hint", "/task", "x"
    ),
    "created_reply": lambda: render.created_reply(OPEN, LINK, DETAILS),
    "created_reply_link_past_a_context": lambda: render.created_reply(BARE, LINK + "0" * 3000, []),
    "created_reply_many_details_with_actions": lambda: render.created_reply(
        OPEN, LINK, MANY_DETAILS, render.task_actions(OPEN, LINK, "U1")
    ),
    "retrying_parent": lambda: render.retrying_parent("U1", HOSTILE),
    "retry_button": lambda: render.retry_button("req-1"),
    "edit_button": lambda: render.edit_button("req-1"),
    "failed_reply": lambda: render.failed_reply(
        "Oracle refused the task", "line one\n<!here> two", "Fix <it>.", "/task", "a <b>"
    ),
    "failed_reply_no_text_with_actions": lambda: render.failed_reply(
        "Refused", "x", "hint", "/task", "", render.retry_button("req-1")
    ),
    "refusal": lambda: render.refusal_message("Only <members> may create tasks."),
    "not_recorded": render.not_recorded_message,
    "not_in_channel_hint": render.not_in_channel_hint,
    "in_words_dst_zone": lambda: render.in_words(DUE, "America/New_York"),
}


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("case", list(CASES))
def test_rendered_message_matches_its_snapshot(case: str, snapshot_json) -> None:
    assert CASES[case]() == snapshot_json


def _blocks(rendered: object) -> list | None:
    if isinstance(rendered, dict):
        return rendered["blocks"] if "blocks" in rendered else [rendered]
    return None  # a piece of text, not blocks


@pytest.mark.parametrize("case", [c for c in CASES if c != "created_reply_link_past_a_context"])
def test_every_rendered_message_is_one_slack_accepts(case: str) -> None:
    blocks = _blocks(CASES[case]())
    assert blocks is None or message_problems(blocks) == []
