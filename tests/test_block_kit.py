"""The Slack fake refuses what Slack refuses (Block Kit's limits), table by table, and the bot's
own renderings stay within them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.tasks import Task
from bot.slack import modal, render
from bot.standins.block_kit import message_problems, view_problems
from bot.standins.slack_fake import SlackFake


def text(n: int, kind: str = "mrkdwn") -> dict[str, Any]:
    return {"type": kind, "text": "x" * n}


def button(**overrides: Any) -> dict[str, Any]:
    return {"type": "button", "text": text(10, "plain_text"), "action_id": "a", **overrides}


def section(**parts: Any) -> dict[str, Any]:
    return {"type": "section", **parts}


MESSAGES: list[tuple[str, list[dict[str, Any]], str | None]] = [
    ("50 blocks", [section(text=text(5))] * 50, None),
    ("51 blocks", [section(text=text(5))] * 51, "51 blocks, at most 50"),
    ("section text 3000", [section(text=text(3000))], None),
    ("section text 3001", [section(text=text(3001))], "3001 characters, at most 3000"),
    ("empty section text", [section(text=text(0))], "empty text"),
    ("10 fields", [section(fields=[text(5)] * 10)], None),
    ("11 fields", [section(fields=[text(5)] * 11)], "11 fields, at most 10"),
    ("field of 2001", [section(fields=[text(2001)])], "2001 characters, at most 2000"),
    ("header of 151", [{"type": "header", "text": text(151, "plain_text")}], "at most 150"),
    ("11 context elements", [{"type": "context", "elements": [text(3)] * 11}], "at most 10"),
    ("26 buttons", [{"type": "actions", "elements": [button()] * 26}], "at most 25"),
    (
        "button text 76",
        [{"type": "actions", "elements": [button(text=text(76, "plain_text"))]}],
        "76 characters, at most 75",
    ),
    (
        "button value 2001",
        [{"type": "actions", "elements": [button(value="v" * 2001)]}],
        "at most 2000",
    ),
    (
        "action_id 256",
        [{"type": "actions", "elements": [button(action_id="a" * 256)]}],
        "at most 255",
    ),
    ("block_id 256", [section(text=text(3), block_id="b" * 256)], "at most 255"),
    (
        "101 options",
        [
            section(
                text=text(3),
                accessory={
                    "type": "static_select",
                    "action_id": "s",
                    "options": [{"text": text(3, "plain_text"), "value": "v"}] * 101,
                },
            )
        ],
        "101 options, at most 100",
    ),
    (
        "option value 151",
        [
            section(
                text=text(3),
                accessory={
                    "type": "static_select",
                    "action_id": "s",
                    "options": [{"text": text(3, "plain_text"), "value": "v" * 151}],
                },
            )
        ],
        "at most 150",
    ),
]


@pytest.mark.parametrize(("case", "blocks", "problem"), MESSAGES, ids=[m[0] for m in MESSAGES])
def test_message_limits(case: str, blocks: list[dict[str, Any]], problem: str | None) -> None:
    found = message_problems(blocks)
    if problem is None:
        assert found == []
    else:
        assert any(problem in p for p in found), found


VIEWS: list[tuple[str, dict[str, Any], str | None]] = [
    ("100 blocks", {"type": "home", "blocks": [section(text=text(3))] * 100}, None),
    ("101 blocks", {"type": "home", "blocks": [section(text=text(3))] * 101}, "at most 100"),
    ("title 24", {"type": "modal", "title": text(24, "plain_text"), "blocks": []}, None),
    ("title 25", {"type": "modal", "title": text(25, "plain_text"), "blocks": []}, "at most 24"),
    ("submit 25", {"type": "modal", "submit": text(25, "plain_text"), "blocks": []}, "at most 24"),
    ("metadata 3001", {"type": "modal", "private_metadata": "m" * 3001}, "at most 3000"),
    ("callback_id 256", {"type": "modal", "callback_id": "c" * 256}, "at most 255"),
    (
        "input label 2001",
        {"type": "modal", "blocks": [{"type": "input", "label": text(2001, "plain_text")}]},
        "at most 2000",
    ),
    (
        "max_length 3001",
        {
            "type": "modal",
            "blocks": [
                {
                    "type": "input",
                    "label": text(3, "plain_text"),
                    "element": {"type": "plain_text_input", "action_id": "v", "max_length": 3001},
                }
            ],
        },
        "1 to 3000",
    ),
]


@pytest.mark.parametrize(("case", "view", "problem"), VIEWS, ids=[v[0] for v in VIEWS])
def test_view_limits(case: str, view: dict[str, Any], problem: str | None) -> None:
    found = view_problems(view)
    if problem is None:
        assert found == []
    else:
        assert any(problem in p for p in found), found


async def test_the_fake_answers_as_slack_does_and_records_what_it_refused() -> None:
    fake = SlackFake()
    await fake.start()
    try:
        client = AsyncWebClient(token="xoxb-1", base_url=fake.api_url)
        with pytest.raises(SlackApiError) as refused:
            await client.chat_postMessage(channel="C1", text="t", blocks=[section(text=text(3001))])
        assert refused.value.response["error"] == "invalid_blocks"
        with pytest.raises(SlackApiError) as refused:
            await client.views_open(
                trigger_id="1", view={"type": "modal", "title": text(25, "plain_text")}
            )
        assert refused.value.response["error"] == "invalid_arguments"
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                fake.response_url(), json={"text": "t", "blocks": [section(text=text(0))]}
            )
        assert answer.status_code == 400
        assert [method for method, _ in fake.refused_blocks] == [
            "chat.postMessage",
            "views.open",
            "response_url",
        ]
        assert fake.top_messages() == []  # nothing refused is shown
        fake.refused_blocks.clear()
    finally:
        await fake.stop()


def test_the_longest_thread_reply_and_form_stay_within_the_limits() -> None:
    """The bot's largest renderings: a task with every detail, names at their longest."""
    task = Task.model_validate(
        {
            "id": 12,
            "lookupName": "n" * 240,
            "statusWithType": {"status": {"id": 16, "lookupName": "Not Started"}},
            "createdTime": datetime(2026, 12, 1, tzinfo=UTC).isoformat(),
        }
    )
    details = [(f"Label {i}", "v" * 400) for i in range(25)]
    reply = render.created_reply(task, "https://example.com/t/12", details, None)
    assert message_problems(reply["blocks"]) == []
    context = modal.FormContext(
        channel_id="C1", response_url="https://hooks.slack.test/" + "r" * 200, text="t" * 3500
    )
    view = modal.form_view(modal.FormValues(name="n" * 240, note="n" * 3000), context)
    assert view_problems(view) == []
