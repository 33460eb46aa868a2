"""The short way for slash commands, thread replies and reactions, request by request.

Each request is signed (or not) as Slack signs it; the table says whether the route answers it
itself (and how) or leaves it to Bolt (``None``), and what its listeners were given.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.command_route import CommandRoute
from bot.slack.access import Gate

SECRET = "route-test-signing-secret"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def signed(body: str, content_type: str, *, secret: str = SECRET, age: int = 0) -> dict[str, str]:
    stamp = str(int(time.time()) - age)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": f"v0={digest}",
    }


class Calls:
    """The listeners the route may call, recording what they were given."""

    def __init__(self, fail: bool = False) -> None:
        self.commands: list[dict[str, Any]] = []
        self.events: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.fail = fail

    async def command(self, ack, command: dict[str, Any]) -> None:
        self.commands.append(command)
        if self.fail:
            raise RuntimeError("listener broke")
        if command.get("text") == "answer":
            await ack(text="created")

    def event(self, kind: str):
        async def listener(*, event: dict[str, Any], body: dict[str, Any]) -> None:
            self.events.append((kind, event, body))
            if self.fail:
                raise RuntimeError("listener broke")

        return listener


class Groups:
    """``usergroups.users.list`` for the allow-list check."""

    async def usergroups_users_list(self, usergroup: str) -> dict[str, Any]:
        return {"ok": True, "users": ["U_IN_GROUP"]}


def route(calls: Calls, *, gate: Gate | None = None, events: bool = True) -> CommandRoute:
    listeners = {"message": calls.event("message"), "reaction_added": calls.event("reaction")}
    return CommandRoute(
        SECRET,
        calls.command,
        gate or Gate(Groups()),  # type: ignore[arg-type]
        listeners if events else None,
    )


def command(**fields: str) -> str:
    return urlencode({"command": "/task", "user_id": "U1", "channel_id": "C1", **fields})


def event(kind: str = "message", envelope: str = "event_callback") -> str:
    body: dict[str, Any] = {"type": kind, "text": "hi"}
    if kind.startswith("reaction_"):  # (as Slack sends one: what was reacted to)
        body["item"] = {"type": "message", "channel": "C1", "ts": "1.1"}
    return json.dumps({"type": envelope, "event": body})


async def test_a_signed_command_reaches_its_listener_and_gets_an_empty_200() -> None:
    calls = Calls()
    body = command(text="Call back")
    answer = await route(calls).answer(body, signed(body, FORM))
    assert (answer.status, answer.body) == (200, "")
    assert [c["text"] for c in calls.commands] == ["Call back"]


async def test_what_the_listener_acks_with_is_the_answer() -> None:
    calls = Calls()
    body = command(text="answer")
    answer = await route(calls).answer(body, signed(body, FORM + "; charset=utf-8"))
    assert (answer.status, answer.body) == (200, "created")


async def test_a_listener_that_fails_is_a_500_and_one_logged_error(caplog) -> None:
    calls = Calls(fail=True)
    body = command(text="x")
    with caplog.at_level(logging.ERROR, logger="bot.command_route"):
        answer = await route(calls).answer(body, signed(body, FORM))
    assert (answer.status, answer.body) == (500, "")
    assert [r.getMessage() for r in caplog.records] == ["the slash command's listener failed"]


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (command(text="x"), {"content-type": FORM}),  # unsigned
        (command(text="x"), {}),  # no content type at all
        (command(text="x"), signed(command(text="x"), FORM, secret="another")),
        (command(text="x"), signed(command(text="x"), FORM, age=600)),  # a replay
        (urlencode({"text": "x"}), signed(urlencode({"text": "x"}), FORM)),  # no command
        (command(ssl_check="1"), signed(command(ssl_check="1"), FORM)),
        (urlencode({"x": "command="}), signed(urlencode({"x": "command="}), FORM)),
    ],
    ids=[
        "unsigned",
        "no content type",
        "wrong secret",
        "replayed",
        "no command",
        "ssl check",
        "command= in a value",
    ],
)
async def test_anything_but_a_signed_slash_command_is_left_to_bolt(body: str, headers) -> None:
    calls = Calls()
    assert await route(calls).answer(body, headers) is None
    assert calls.commands == []


@pytest.mark.parametrize(
    ("body", "content_type", "status", "said"),
    [
        (command(text="x"), JSON, 200, "the body is not JSON"),  # (an event is owed a 200)
        (command(payload="{}"), FORM, 400, "the payload has no type"),
        ("payload=", FORM, 400, "the payload is not JSON"),
        (urlencode({"payload": "{nope"}), FORM, 400, "the payload is not JSON"),
        (
            command(text="x", user_id="U 1"),
            FORM,
            400,
            "the slash command's user_id is not a Slack id",
        ),
        (json.dumps({"type": "event_callback"}), JSON, 200, "the event_callback has no event"),
    ],
)
async def test_a_signed_malformed_delivery_is_answered_here_in_one_line(
    body: str, content_type: str, status: int, said: str, caplog
) -> None:
    calls = Calls()
    with caplog.at_level(logging.WARNING, logger="bot.command_route"):
        answer = await route(calls).answer(body, signed(body, content_type))
    assert answer is not None and (answer.status, answer.body) == (status, "")
    assert calls.commands == []
    [line] = [r.getMessage() for r in caplog.records]
    assert line == f"refused a malformed delivery from Slack: {said}"


@pytest.mark.parametrize("stamp", ["x", "-5", "1.5", "１２"])
async def test_a_timestamp_that_is_not_a_number_is_refused_here(stamp: str, caplog) -> None:
    calls = Calls()
    body = command(text="x")
    headers = {**signed(body, FORM), "x-slack-request-timestamp": stamp}
    with caplog.at_level(logging.WARNING, logger="bot.command_route"):
        answer = await route(calls).answer(body, headers)
    assert (answer.status, answer.body) == (401, "") and calls.commands == []
    assert [r.getMessage() for r in caplog.records] == [
        "refused a request whose timestamp is not a number of seconds"
    ]


async def test_a_command_the_allow_lists_refuse_is_answered_politely_and_goes_no_further() -> None:
    calls = Calls()
    gate = Gate(Groups(), users=frozenset({"U_OTHER"}))  # type: ignore[arg-type]
    body = command(text="Call back")
    answer = await route(calls, gate=gate).answer(body, signed(body, FORM))
    assert answer.status == 200
    assert json.loads(answer.body)["response_type"] == "ephemeral"
    assert calls.commands == []


async def test_a_command_the_allow_lists_admit_goes_on() -> None:
    calls = Calls()
    gate = Gate(Groups(), usergroups=frozenset({"S1"}))  # type: ignore[arg-type]
    body = command(text="Call back", user_id="U_IN_GROUP")
    answer = await route(calls, gate=gate).answer(body, signed(body, FORM))
    assert (answer.status, answer.body) == (200, "")
    assert len(calls.commands) == 1


@pytest.mark.parametrize(
    ("kind", "listener"), [("message", "message"), ("reaction_added", "reaction")]
)
async def test_a_signed_event_goes_to_its_listener_with_its_envelope(
    kind: str, listener: str
) -> None:
    calls = Calls()
    body = event(kind)
    answer = await route(calls).answer(body, signed(body, JSON))
    assert (answer.status, answer.body) == (200, "")
    [(called, given, envelope)] = calls.events
    assert (called, given["type"], envelope["type"]) == (listener, kind, "event_callback")


async def test_an_event_listener_that_fails_is_a_500_so_slack_retries(caplog) -> None:
    calls = Calls(fail=True)
    body = event("message")
    with caplog.at_level(logging.ERROR, logger="bot.command_route"):
        answer = await route(calls).answer(body, signed(body, JSON))
    assert (answer.status, answer.body) == (500, "")
    assert [r.getMessage() for r in caplog.records] == ["the message event's listener failed"]


@pytest.mark.parametrize(
    ("body", "headers", "with_events"),
    [
        (event("app_mention"), None, True),  # not one of ours: Bolt's
        (
            json.dumps({"type": "other", "x": '"event_callback"', "event": {"type": "message"}}),
            None,
            True,
        ),
        (event("message"), {"content-type": JSON}, True),  # unsigned
        (event("message"), None, False),  # no event takes the short way
    ],
    ids=["other event", "other envelope", "unsigned", "no short way"],
)
async def test_other_events_are_left_to_bolt(body: str, headers, with_events: bool) -> None:
    calls = Calls()
    answer = await route(calls, events=with_events).answer(body, headers or signed(body, JSON))
    assert answer is None and calls.events == []
