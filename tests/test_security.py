"""Allow-lists, log safety, and fuzzing of the parser and the escaping."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.grammar import KINDS, GrammarError, parse, read
from bot.domain.slack_text import escape, to_plain
from bot.logs import MASK, JsonFormatter, SecretFilter
from bot.slack import render
from bot.standins.sandbox import B2CSandbox
from bot.standins.slack_fake import SlackFake
from tests.conftest import Bot, block_action, make_settings, serving


@pytest.fixture
async def gated(sandbox: B2CSandbox, slack: SlackFake, tmp_path) -> AsyncIterator[Bot]:
    settings = make_settings(
        sandbox,
        slack,
        allowed_channels="C1, C2",
        allowed_users="U1",
        allowed_usergroups="S1",
        journal_path=str(tmp_path / "j.sqlite3"),
    )
    async with serving(settings, slack) as served:
        yield served


async def test_allow_lists(gated: Bot, sandbox: B2CSandbox, slack: SlackFake) -> None:
    outside = (await gated.command("Call back @contact 83", channel="C9")).json()
    assert outside["response_type"] == "ephemeral"
    assert "can't be created from this channel" in outside["text"]
    stranger = (await gated.command("Call back @contact 83", user="U3")).json()
    assert "not on the list of people" in stranger["text"]
    await gated.finished()
    assert sandbox.requests == [] and slack.top_messages() == []

    await gated.command("Allowed by name @contact 83", user="U1")
    await gated.command("Allowed by group @contact 83", user="U2", channel="C2")
    await gated.finished()
    assert sorted(t["name"] for t in sandbox.tasks.values()) == [
        "Allowed by group",
        "Allowed by name",
    ]


async def test_refused_button_click_is_told_privately(
    gated: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    click = block_action(
        {"action_id": "task_complete", "type": "button", "value": '{"t": 100, "r": "U1"}'},
        user="U3",
    )
    assert (await gated.interact(click)).status_code == 200
    await gated.finished()
    [ephemeral] = slack.calls_to("chat.postEphemeral")
    assert ephemeral.args["user"] == "U3" and "not on the list" in ephemeral.args["text"]
    assert sandbox.requests == []


def test_secret_filter_masks_configured_secrets() -> None:
    record = logging.makeLogRecord({"msg": "token %s and %s", "args": ("xoxb-abcdef", "ok")})
    assert SecretFilter(["xoxb-abcdef"]).filter(record)
    assert record.getMessage() == f"token {MASK} and ok"


def test_json_log_lines_carry_the_extra_fields() -> None:
    record = logging.makeLogRecord(
        {
            "msg": "done %s",
            "args": ("x",),
            "name": "bot.flows.worker",
            "levelname": "INFO",
            "task_id": 12,
            "attempts": 2,
        }
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "done x" and line["task_id"] == 12 and line["attempts"] == 2
    assert line["level"] == "INFO" and "time" in line


SLACKISH = st.text(
    alphabet=st.sampled_from(list('ab @"“”<>&|!#:^/-_.,0123456789UCWS\n\t')) | st.characters(),
    max_size=300,
)
TOKENS = st.lists(
    st.sampled_from(
        [
            "<!channel>",
            "<!here|here>",
            "<@U9>",
            "<@U1|me>",
            "<#C1>",
            "&lt;",
            "&amp;",
            "@due",
            "@assign",
            '"',
            "<!subteam^S1>",
            "<https://x|y>",
            "@contact 83",
            " ",
        ]
    )
    | SLACKISH,
    max_size=12,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(TOKENS)
def test_the_parser_does_not_crash_on_slackish_text(text: str) -> None:
    try:
        parsed = parse(text)
    except GrammarError as error:
        assert error.message
    else:
        assert parsed.kind in KINDS
    reading = read(text)  # the form's partial reading never crashes either
    assert isinstance(reading.errors, list)


@settings(max_examples=400, deadline=None)
@given(TOKENS)
def test_no_mention_injection_through_any_message(text: str) -> None:
    plain = to_plain(text)
    messages = [
        render.pending_parent("U1", plain),
        render.failed_parent("U1", plain),
        render.mistake_message("/task", plain, text),
        render.failed_reply(plain, plain, plain, "/task", text),
        render.task_event(escape(plain)),
        render.refusal_message(plain),
    ]
    for message in messages:
        for block in message["blocks"]:
            body = json.dumps(block)
            assert "<!" not in body and "<#" not in body
            assert body.count("<@") == body.count("<@U1>")
        assert "<!" not in message["text"]
