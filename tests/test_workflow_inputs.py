"""The Workflow Builder step's inputs read as ``/task`` reads the same fields, table by table
(pure: no Slack, no Oracle), and its token kept out of every log line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.domain.drafts import IdOrName, SlackUser
from bot.workflow import messages
from bot.workflow.inputs import InputError, read_inputs


# ------------------------------------------------------------------ the inputs, table by table
@pytest.mark.parametrize(
    ("inputs", "fields"),
    [
        ({"name": "Call  back\n"}, {"name": "Call back"}),
        ({"name": "A <b> & c"}, {"name": "A &lt;b&gt; &amp; c"}),  # read back as typed
        ({"name": "x", "contact": "83"}, {"contact": 83}),
        ({"name": "x", "contact": 83}, {"contact": 83}),
        ({"name": "x", "contact": "m@example.com"}, {"contact_email": "m@example.com"}),
        ({"name": "x", "organization": "Acme"}, {"organization": IdOrName(name="Acme")}),
        ({"name": "x", "organization": "12"}, {"organization": IdOrName(id=12)}),
        ({"name": "x", "priority": "High"}, {"priority": IdOrName(name="High")}),
        ({"name": "x", "status": 17}, {"status": IdOrName(id=17)}),
        ({"name": "x", "type": "Call"}, {"task_type": IdOrName(name="Call")}),
        ({"name": "x", "template": "Onboarding"}, {"template": IdOrName(name="Onboarding")}),
        ({"name": "x", "incident": "#261128-000123"}, {"incident": IdOrName(name="261128-000123")}),
        ({"name": "x", "assignee": "U2"}, {"assignee": SlackUser("U2")}),
        ({"name": "x", "due": "tomorrow 5pm"}, {"due": "tomorrow 5pm"}),
        ({"name": "x", "due": "1798131600"}, {"due": "2026-12-24T17:00:00+00:00"}),
        ({"name": "x", "due": 1798131600.5}, {"due": "2026-12-24T17:00:00+00:00"}),
        ({"name": "x", "note": "Line one\nline two"}, {"note": "Line one\nline two"}),
        ({"name": "x", "priority": None, "note": ""}, {}),  # empty inputs are none
    ],
)
def test_inputs_read_as_task_reads_the_same_fields(
    inputs: dict[str, Any], fields: dict[str, Any]
) -> None:
    step = read_inputs(inputs)
    expected = {"name": "x", **fields}
    assert {k: v for k, v in vars(step.draft).items() if v is not None} == expected


@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        (None, "The step's inputs did not arrive"),
        ({"name": ["a"]}, "Task name (name) must be text, not list."),
        ({"name": True}, "Task name (name) must be text, not bool."),
        ({"name": "x", "contact": "0"}, "Contact (contact) must be a B2C Service contact ID"),
        ({"name": "x", "organization": "0"}, "Organization (organization) needs an ID above 0"),
        ({"name": "x", "requester": "jane"}, "Requested by (requester) must be a Slack user"),
        ({"name": "x", "due": "2026-02-30"}, "Due (due):"),
    ],
)
def test_inputs_refused_say_which_input_and_why(inputs: Any, said: str) -> None:
    with pytest.raises(InputError) as refused:
        read_inputs(inputs)
    assert said in str(refused.value)


def test_the_requester_and_channel_are_read_apart_from_the_draft() -> None:
    step = read_inputs({"name": "x", "requester": "U1", "channel": "C0123"})
    assert (step.requester, step.channel) == ("U1", "C0123")
    assert read_inputs({"name": "x"}).channel is None


def test_workflow_tokens_are_masked_in_any_log_line() -> None:
    import logging

    from bot.logs import MASK, SecretFilter

    record = logging.makeLogRecord({"msg": "got %s", "args": ({"t": "xwfp-1-abc-DEF"},)})
    assert SecretFilter(()).filter(record) and record.getMessage() == f"got {{'t': '{MASK}'}}"
    record = logging.makeLogRecord({"msg": "token=xwfp-9-zz and xoxb-secret-1"})
    SecretFilter(["xoxb-secret-1"]).filter(record)
    assert record.getMessage() == f"token={MASK} and {MASK}"


def _entry(state: str, reason: list[str], kind: str | None = None) -> Any:
    from bot.journal import Entry

    return Entry(
        id="e1",
        dedupe_key="workflow:Fx1",
        kind="workflow",
        state=state,
        delivery="pending",
        request={},
        draft={},
        composed=None,
        task_id=None,
        task=None,
        reason=json.dumps(reason),
        reason_kind=kind,
        parent_ts=None,
        attempts=3,
        first_attempt_at=None,
        created_at=0.0,
    )


@pytest.mark.parametrize(
    ("state", "reason", "kind", "said"),
    [
        (
            "rejected",
            ["The task was not created", "Priority must be one of: Low, High (not “x”).", "h"],
            "ValueError",
            "The task was not created. Priority must be one of: Low, High (not “x”). Nothing "
            "was created in B2C Service: fix the step's inputs.",
        ),
        (
            "failed",
            ["Oracle B2C Service could not be reached: the bot gave up after 3 attempts", "x", ""],
            "RetriesExhausted",
            "Oracle B2C Service could not be reached: the bot gave up after 3 attempts. x. "
            "Nothing was created: the bot kept trying for 120 seconds (B2C_RETRY_BUDGET). Run "
            "the workflow again when B2C Service is back.",
        ),
        (
            "failed",
            ["The bot could not tell whether the task was created", "timeout.", ""],
            "OutcomeUnknown",
            "The bot could not tell whether the task was created. timeout. Look for the task in "
            "B2C Service before running the workflow again.",
        ),
        ("rejected", ["", "", ""], None, "The task was not created. Nothing was created in B2C"),
    ],
)
def test_a_run_without_a_task_says_why_and_what_to_do(
    state: str, reason: list[str], kind: str | None, said: str
) -> None:
    assert messages.not_created(_entry(state, reason, kind), 120.0).startswith(said)


def test_an_error_is_bounded_and_refusals_name_the_setting() -> None:
    long = messages.not_created(_entry("rejected", ["h", "r" * 5000, ""]), 5)
    assert len(long) == messages.MAX_ERROR
    assert "C9 (ALLOWED_CHANNELS)" in messages.channel_refused("C9")
    assert messages.inputs_refused("Due (due): bad.") == (
        "Due (due): bad. Nothing was created in B2C Service: fix the step's inputs."
    )


@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        (None, "The step's inputs did not arrive (Slack sent no inputs object)."),
        ({}, "Task name (name) is required: give the task a name."),
        (
            {"name": "x", "assignee": "jane"},
            "Assignee (assignee) must be a Slack user, not “jane”.",
        ),
        (
            {"name": "x", "channel": "#support"},
            "Post in channel (channel) must be a Slack channel, not “#support”.",
        ),
        (
            {"name": "x", "channel": "C" + "x" * 100},
            f"Post in channel (channel) must be a Slack channel, not “C{'x' * 79}”.",
        ),
        (
            {"name": "x", "contact": "Mary " + "y" * 100},
            "Contact (contact) must be a B2C Service contact ID (like 83) or an e-mail address, "
            f"not “Mary {'y' * 75}”.",
        ),
        (
            {"name": "x", "contact": "1" * 19},
            "Contact (contact) must be a B2C Service contact ID (like 83) or an e-mail address, "
            f"not “{'1' * 19}”.",
        ),
        (
            {"name": "x", "due": "04/03 5pm"},
            "Due (due): “04/03” could be read day first or month first; write the month's name "
            "(5 Dec 2026) or 2026-12-05.",
        ),
    ],
)
def test_refusals_word_for_word(inputs: Any, said: str) -> None:
    with pytest.raises(InputError) as refused:
        read_inputs(inputs)
    assert str(refused.value) == said


@pytest.mark.parametrize("contact", ["1", "9" * 18])
def test_contact_ids_from_1_to_18_digits(contact: str) -> None:
    assert read_inputs({"name": "x", "contact": contact}).draft.contact == int(contact)


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        (
            _entry("rejected", ["Not created...", "Bad value..", ""]),
            "Not created. Bad value. Nothing was created in B2C Service: fix the step's inputs.",
        ),
        (
            _entry("rejected", [".Odd", "", ""]),
            ".Odd. Nothing was created in B2C Service: fix the step's inputs.",
        ),
        (  # only full stops are trimmed, whatever the sentence ends with
            _entry("rejected", ["Task for MAX.", "Code X", ""]),
            "Task for MAX. Code X. Nothing was created in B2C Service: fix the step's inputs.",
        ),
    ],
)
def test_reasons_end_each_sentence_once(entry: Any, said: str) -> None:
    assert messages.not_created(entry, 5) == said


def test_a_run_with_no_reason_kept_still_says_it_made_nothing() -> None:
    entry = _entry("rejected", [])
    entry = type(entry)(**{**vars(entry), "reason": None})
    assert messages.not_created(entry, 5) == (
        "The task was not created. Nothing was created in B2C Service: fix the step's inputs."
    )


def test_a_channel_refused_word_for_word() -> None:
    assert messages.channel_refused("C9") == (
        "Post in channel: the task bot may not post in channel C9 (ALLOWED_CHANNELS). Nothing "
        "was created. Choose another channel in the step, or ask the admin who installed the bot."
    )
