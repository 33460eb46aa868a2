"""Malformed deliveries, correctly signed, in HTTP mode and Socket Mode: each answered (a 4xx, or
the empty 200 Slack expects for an event) with one WARNING line naming what was wrong; no 500,
no traceback, and a real request in flight meanwhile is not lost."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.demo import signed_headers
from bot.standins.sandbox import B2CSandbox
from bot.standins.slack_fake import SlackFake
from tests.conftest import Bot, block_action, socket_mode_bot

ACTION = {"action_id": "task_complete", "value": '{"t":12,"r":"U1"}', "type": "button"}
VIEW = {
    "id": "V1",
    "type": "modal",
    "callback_id": "task_form",
    "private_metadata": "{}",
    "state": {"values": {}},
}

# (what it is, the raw interactivity ``payload=`` value)
PAYLOADS: list[tuple[str, str]] = [
    ("not JSON", "{nope"),
    ("a JSON list", "[1, 2]"),
    ("a JSON string", '"hello"'),
    ("null", "null"),
    ("no type", json.dumps({"user": {"id": "U1"}})),
    ("a type that is a number", json.dumps({"type": 5})),
    ("actions empty", json.dumps({**block_action(ACTION), "actions": []})),
    ("actions null", json.dumps({**block_action(ACTION), "actions": None})),
    ("an action that is a string", json.dumps({**block_action(ACTION), "actions": ["x"]})),
    (
        "a status menu without its choice",
        json.dumps(block_action({"action_id": "task_status", "type": "static_select"})),
    ),
    ("a button without a value", json.dumps(block_action({"action_id": "task_complete"}))),
    ("user null", json.dumps({**block_action(ACTION), "user": None})),
    ("view null", json.dumps({"type": "view_submission", "user": {"id": "U1"}, "view": None})),
    (
        "a view without state",
        json.dumps(
            {
                "type": "view_submission",
                "user": {"id": "U1"},
                "view": {k: v for k, v in VIEW.items() if k != "state"},
            }
        ),
    ),
    (
        "private_metadata not JSON",
        json.dumps(
            {
                "type": "view_submission",
                "user": {"id": "U1"},
                "view": {**VIEW, "private_metadata": "{oops"},
            }
        ),
    ),
    (
        "state.values not an object",
        json.dumps(
            {
                "type": "view_submission",
                "user": {"id": "U1"},
                "view": {**VIEW, "state": {"values": [1]}},
            }
        ),
    ),
    (
        "a button whose message's ts is not a Slack timestamp",
        json.dumps(
            {
                "type": "block_actions",
                "user": {"id": "U1"},
                "team": {"id": "T1"},
                "channel": {"id": "C1"},
                "container": {"type": "message", "channel_id": "C1", "message_ts": "1\u0000.1"},
                "actions": [
                    {"action_id": "create_as_task", "block_id": "a", "value": '{"text":"x"}'}
                ],
            }
        ),
    ),
    (
        "a button whose container's channel is not a Slack id",
        json.dumps(
            {
                "type": "block_actions",
                "user": {"id": "U1"},
                "container": {"type": "message", "channel_id": "C 1", "message_ts": "1.1"},
                "actions": [{"action_id": "retry", "block_id": "a", "value": "x"}],
            }
        ),
    ),
    (
        "a shortcut without a trigger",
        json.dumps({"type": "message_action", "callback_id": "create_task", "user": {"id": "U1"}}),
    ),
    (
        "an options request without its value",
        json.dumps({"type": "block_suggestion", "action_id": "contact", "user": {"id": "U1"}}),
    ),
]

# (what it is, the raw Events API body)
EVENTS: list[tuple[str, str]] = [
    ("a JSON list", "[1]"),
    ("not JSON", "{nope"),
    ("event null", json.dumps({"type": "event_callback", "team_id": "T1", "event": None})),
    ("event a string", json.dumps({"type": "event_callback", "team_id": "T1", "event": "x"})),
    (
        "a reaction whose item is a string",
        json.dumps(
            {
                "type": "event_callback",
                "team_id": "T1",
                "event_id": "Ev1",
                "event": {
                    "type": "reaction_added",
                    "user": "U1",
                    "reaction": "ticket",
                    "item": "x",
                },
            }
        ),
    ),
    (
        "a message whose text is a list",
        json.dumps(
            {
                "type": "event_callback",
                "team_id": "T1",
                "event_id": "Ev2",
                "event": {"type": "message", "channel": "C1", "user": "U1", "text": [1]},
            }
        ),
    ),
    (
        "a link_shared whose links are a string",
        json.dumps(
            {
                "type": "event_callback",
                "team_id": "T1",
                "event_id": "Ev3",
                "event": {"type": "link_shared", "channel": "C1", "user": "U1", "links": "x"},
            }
        ),
    ),
]


async def post(bot: Bot, body: str, content_type: str) -> int:
    key = bot.settings.slack_signing_secret.get_secret_value()  # type: ignore[union-attr]
    headers = {**signed_headers(key, body), "Content-Type": content_type}
    response = await bot.http.post(bot.url, content=body, headers=headers)
    return response.status_code


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_each_malformed_delivery_is_answered_with_one_warning_and_nothing_is_lost(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.latency = 0.3  # a real request in flight all along
    await bot.command("Return customer call @contact 83")
    answers: dict[str, int] = {}
    with caplog.at_level(logging.WARNING):
        for what, raw in PAYLOADS:
            answers[f"payload {what}"] = await post(
                bot, urlencode({"payload": raw}), "application/x-www-form-urlencoded"
            )
        for what, raw in EVENTS:
            answers[f"event {what}"] = await post(bot, raw, "application/json")
        await bot.finished()
    bad = {what: code for what, code in answers.items() if code >= 500 or code < 200}
    assert bad == {}
    for what, code in answers.items():
        assert code == 200 if what.startswith("event") else 400 <= code < 500, (what, code)
    assert tracebacks(caplog) == []
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("malformed" in line for line in warned) == len(PAYLOADS) + len(EVENTS), warned
    assert len(sandbox.tasks) == 1  # the request in flight: created


async def test_over_socket_mode_malformed_envelopes_are_acked_and_warned(
    sandbox: B2CSandbox, slack: SlackFake, caplog: pytest.LogCaptureFixture
) -> None:
    async with socket_mode_bot(sandbox, slack) as runtime:
        with caplog.at_level(logging.WARNING):
            for what, raw in PAYLOADS:
                try:
                    payload: Any = json.loads(raw)
                except ValueError:
                    payload = raw
                ack = await slack.send_envelope("interactive", payload)
                assert "envelope_id" in ack, what
            for what, raw in EVENTS:
                try:
                    payload = json.loads(raw)
                except ValueError:
                    payload = raw
                ack = await slack.send_envelope("events_api", payload)
                assert "envelope_id" in ack, what
            await runtime.creator.wait_idle()
    assert tracebacks(caplog) == []
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("malformed" in line for line in warned) == len(PAYLOADS) + len(EVENTS), warned


MISSING = object()  # the field left out
_VALUES = (
    st.none()
    | st.integers()
    | st.text(max_size=5)
    | st.text(min_size=3001, max_size=3001)  # too long for any Slack text
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
    | st.just(MISSING)
)


def _event(event: dict[str, Any]) -> dict[str, Any]:
    return {"type": "event_callback", "team_id": "T1", "event_id": "EvP", "event": event}


# a well-formed delivery of every kind the app handles: (Socket Mode envelope type, body)
DELIVERIES: list[tuple[str, dict[str, Any]]] = [
    ("interactive", block_action(ACTION)),
    ("interactive", block_action({"action_id": "task_status", "selected_option": {"value": "{}"}})),
    ("interactive", block_action({"action_id": "home_page", "value": "10"})),
    ("interactive", block_action({"action_id": "create_as_task", "value": '{"text":"x"}'})),
    ("interactive", {"type": "view_submission", "user": {"id": "U1"}, "view": VIEW}),
    ("interactive", {"type": "view_closed", "user": {"id": "U1"}, "view": VIEW}),
    (
        "interactive",
        {
            "type": "message_action",
            "callback_id": "create_task",
            "trigger_id": "1",
            "user": {"id": "U1"},
            "channel": {"id": "C1"},
            "message": {"ts": "1.1", "text": "hi"},
        },
    ),
    (
        "interactive",
        {"type": "block_suggestion", "action_id": "value", "value": "ma", "user": {"id": "U1"}},
    ),
    ("events_api", _event({"type": "message", "channel": "C1", "user": "U1", "text": "hi"})),
    (
        "events_api",
        _event(
            {
                "type": "reaction_added",
                "user": "U1",
                "reaction": "ticket",
                "item": {"type": "message", "channel": "C1", "ts": "1.1"},
            }
        ),
    ),
    ("events_api", _event({"type": "app_home_opened", "user": "U1", "tab": "home"})),
    (
        "events_api",
        _event({"type": "link_shared", "channel": "C1", "user": "U1", "links": [{"url": "x"}]}),
    ),
    ("events_api", _event({"type": "channel_shared", "channel": "C1"})),
    (
        "slash_commands",
        {"command": "/task", "text": "Call back", "user_id": "U1", "channel_id": "C1"},
    ),
]


def _broken(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``body`` with the field at ``path`` (``event.item``: nested) missing or replaced."""
    broken = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    where = broken
    for key in parents:
        where = where.setdefault(key, {}) if isinstance(where.get(key), dict) else {}
    if value is MISSING:
        where.pop(last, None)
    else:
        where[last] = value
    return broken


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind, body = draw(st.sampled_from(DELIVERIES))
    fields = [
        *body,
        *(f"{key}.{inner}" for key in body if isinstance(body[key], dict) for inner in body[key]),
    ]
    path = draw(st.sampled_from(fields) | st.text(min_size=1, max_size=8))
    return kind, _broken(body, path, draw(_VALUES))


async def send_http(bot: Bot, kind: str, body: dict[str, Any]) -> int:
    if kind == "interactive":
        return await post(bot, urlencode({"payload": json.dumps(body)}), FORM)
    if kind == "events_api":
        return await post(bot, json.dumps(body), "application/json")
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
    return await post(bot, urlencode(form), FORM)


FORM = "application/x-www-form-urlencoded"
PROPERTY = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(delivery=deliveries())
async def test_no_crash_over_http_any_delivery_with_a_field_broken_is_answered_below_500(
    bot: Bot, caplog: pytest.LogCaptureFixture, delivery: tuple[str, dict[str, Any]]
) -> None:
    """Every kind the app handles, with a field (or a field of a field) missing, null, of
    the wrong type or too long: never a 5xx, never a traceback (a test that checks only
    that, so named; what each answers is the table test's above)."""
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert await send_http(bot, *delivery) < 500
        await bot.finished()
    assert tracebacks(caplog) == []


@pytest.fixture
async def socket_runtime(sandbox: B2CSandbox, slack: SlackFake) -> AsyncIterator[Any]:
    async with socket_mode_bot(sandbox, slack) as runtime:
        yield runtime


@PROPERTY
@given(delivery=deliveries())
async def test_no_crash_over_socket_mode_any_delivery_with_a_field_broken_is_acked(
    socket_runtime: Any,
    slack: SlackFake,
    caplog: pytest.LogCaptureFixture,
    delivery: tuple[str, dict[str, Any]],
) -> None:
    """The same deliveries as Socket Mode envelopes: each acked, never a traceback."""
    caplog.clear()
    kind, body = delivery
    with caplog.at_level(logging.WARNING):
        ack = await slack.send_envelope(kind, body)
        await socket_runtime.creator.wait_idle()
    assert "envelope_id" in ack
    assert tracebacks(caplog) == []
