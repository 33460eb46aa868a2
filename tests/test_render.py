"""Rendering and composing, table by table: what Slack shows and what Oracle receives."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.drafts import IdOrName, TaskDraft
from bot.domain.grammar import GrammarError, parse
from bot.domain.tasks import Ref, Task
from bot.flows.compose import Origin, compose_task
from bot.slack import render

TASK = Task.model_validate(
    {
        "id": 12,
        "lookupName": "Return <!channel> call",
        "name": "Return <!channel> call",
        "statusWithType": {
            "status": {"id": 16, "lookupName": "Not Started"},
            "statusType": {"id": 14, "lookupName": "Not Complete"},
        },
    }
)
LINK = "https://mysite.custhelp.com/AgentWeb/Bookmark/Task/12"


def shown(message: dict) -> str:
    return json.dumps(message)


def test_created_reply_has_id_status_link_and_escapes() -> None:
    message = render.created_reply(TASK, LINK, [("Contact", "83")])
    text = shown(message)
    assert "Task #12 created" in message["text"]
    assert "Not Started" in text and LINK in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert any(b["type"] == "actions" for b in message["blocks"])


def test_parents() -> None:
    pending = shown(render.pending_parent("U1", "A <b> & <!here>"))
    assert "<@U1>" in pending and "&lt;!here&gt;" in pending and "<!here>" not in pending
    created = shown(render.created_parent("U1", TASK, LINK))
    assert "#12" in created and "Not Started" in created and "<!channel>" not in created
    failed = shown(render.failed_parent("U1", "<!channel>"))
    assert "not created" in failed and "<!channel>" not in failed


def test_failed_reply_quotes_every_line_and_keeps_the_command() -> None:
    message = render.failed_reply("Refused", "line one\n<!here>", "Fix it.", "/task", "a <b>")
    text = shown(message)
    assert ">line one\\n>&lt;!here&gt;" in text
    assert "/task a &lt;b&gt;" in text


def test_long_text_is_cut_to_slack_limits() -> None:
    message = render.pending_parent("U1", "x" * 5000)
    assert all(len(b["text"]["text"]) <= 3000 for b in message["blocks"])


def test_help_lists_every_field() -> None:
    text = shown(render.help_message("/task"))
    for field in (
        "@contact",
        "@org",
        "@assign",
        "@due",
        "@start",
        "@priority",
        "@status",
        "@type",
        "@template",
        "@incident",
        "@answer",
        "@opportunity",
        "@percent",
        "@note",
    ):
        assert field in text


@given(st.text(max_size=200))
def test_no_user_text_becomes_a_live_token(text: str) -> None:
    try:
        parsed = parse(text)
    except GrammarError as error:
        messages = [render.mistake_message("/task", error.message, text)]
    else:
        name = parsed.draft.name if parsed.draft else text
        messages = [
            render.pending_parent("U1", name),
            render.failed_parent("U1", name),
            render.failed_reply("h", text, "hint", "/task", text),
        ]
    for message in messages:
        for block in message["blocks"]:
            body = json.dumps(block)
            assert "<!" not in body and "<#" not in body
            assert body.count("<@") == body.count("<@U1>")


ORIGIN = Origin("Jane Doe", "support")
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("channel", "place"),
    [
        ("support", "#support"),
        ("directmessage", "a direct message"),
        ("privategroup", "a private channel"),
        ("mpdm-a--b-1", "a group message"),
        ("", "a private channel"),
    ],
)
def test_origin_note(channel: str, place: str) -> None:
    assert Origin("Jane", channel).note() == f"Created from Slack by Jane in {place}"


def test_compose_minimal_body() -> None:
    body, details = compose_task(
        TaskDraft(name="Return customer call", contact=83), origin=ORIGIN, tz="UTC", now=NOW
    )
    assert body.body() == {
        "name": "Return customer call",
        "contact": {"id": 83},
        "notes": [{"text": "Created from Slack by Jane Doe in #support"}],
    }
    assert details == [("Contact", "83")]


def test_compose_names_dates_and_references() -> None:
    draft = TaskDraft(
        name="Call <@U2> &amp; <#C1|sales>",
        due="tomorrow 5pm",
        organization=IdOrName(name="A&B"),
        note="see <@U2>",
    )
    body, details = compose_task(
        draft,
        origin=ORIGIN,
        tz="Europe/Paris",
        now=NOW,
        names={"U2": "Sam"},
        assignee=Ref(id=3),
        assignee_label="Sam <x>",
    )
    wire = body.body()
    assert wire["name"] == "Call @Sam & #sales"
    assert wire["dueTime"] == "2026-11-29T16:00:00.000Z"
    assert wire["assignedToAccount"] == {"id": 3}
    assert wire["organization"] == {"lookupName": "A&B"}
    assert wire["notes"][1] == {"text": "see @Sam"}
    labels = dict(details)
    assert labels["Organization"] == "A&amp;B"
    assert labels["Assigned to"] == "Sam &lt;x&gt;"
    assert labels["Due"].startswith("<!date^")


def test_ref_needs_exactly_one_of_id_and_name() -> None:
    with pytest.raises(ValueError):
        Ref()
    with pytest.raises(ValueError):
        Ref(id=1, lookup_name="x")


def _texts(message: dict) -> list[str]:
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if value.get("type") == "mrkdwn":
                found.append(str(value["text"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(message["blocks"])
    return found


@pytest.mark.parametrize("long", ["x" * 5000, "&<>" * 2000, "a & " * 1500])
def test_long_user_text_is_shortened_before_it_is_built_in(long: str) -> None:
    task = TASK.model_copy(update={"name": long})
    messages = [
        render.created_parent("U1", task, LINK),
        render.created_reply(task, LINK, [("Note", "n")]),
        render.pending_parent("U1", long),
        render.task_summary(task, LINK),
        render.mistake_message("/task", "problem", long),
    ]
    for message in messages:
        for text in _texts(message):
            assert len(text) <= render.MAX_SECTION
            assert not text.endswith("…") or "```" not in text  # never cut mid-markup
            # every entity and every link stays whole
            assert "&amp" not in text.replace("&amp;", "")
            assert "&lt" not in text.replace("&lt;", "")
            assert text.count("<") == text.count(">")
    parent = _texts(render.created_parent("U1", task, LINK))[0]
    assert f"<{LINK}|*#12* " in parent and "…>" in parent


NOON = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)  # Saturday, 12:00 in New York


@pytest.mark.parametrize(
    ("due", "start", "shown", "warnings"),
    [
        (None, None, None, 0),
        (
            datetime(2026, 12, 4, 20, 0, tzinfo=UTC),
            None,
            "Due Friday 4 December 2026 at 15:00 (your time, America/New_York).",
            0,
        ),
        (datetime(2026, 11, 27, 22, 0, tzinfo=UTC), None, "The due date is in the past", 1),
        (
            datetime(2026, 12, 1, 22, 0, tzinfo=UTC),
            datetime(2026, 12, 2, 14, 0, tzinfo=UTC),
            "The start is after the due date",
            1,
        ),
    ],
)
def test_private_confirmation(due, start, shown, warnings) -> None:
    message = render.private_confirmation(12, "Call <b>", due, start, "America/New_York", NOON)
    if shown is None:
        assert message is None
        return
    assert message is not None and message["response_type"] == "ephemeral"
    assert shown in message["text"] and "Call &lt;b&gt;" in message["text"]
    assert message["text"].count(":warning:") == warnings
