"""The happy path once through Socket Mode, against the local Socket Mode fake."""

from __future__ import annotations

import json

from bot.app import build_runtime
from bot.demo import slash_form
from bot.server import CheckedSocketModeHandler
from bot.settings import Mode
from bot.standins.sandbox import B2CSandbox
from bot.standins.slack_fake import SlackFake
from tests.conftest import make_settings


async def test_slash_command_over_socket_mode(sandbox: B2CSandbox, slack: SlackFake) -> None:
    settings = make_settings(sandbox, slack, slack_signing_secret=None)
    settings.check(Mode.SOCKET)
    runtime = await build_runtime(settings, Mode.SOCKET)
    handler = CheckedSocketModeHandler(runtime.app, settings.slack_app_token.get_secret_value())
    await handler.connect_async()
    try:
        payload = slash_form(
            "/task Return customer call @contact 83", response_url=slack.response_url("s1")
        )
        ack = await slack.send_envelope("slash_commands", payload)
        assert "payload" not in ack or not ack["payload"]  # a bare ack
        await runtime.creator.wait_idle()

        again = await slack.send_envelope("slash_commands", payload)  # redelivered envelope
        assert "payload" not in again or not again["payload"]
        await runtime.creator.wait_idle()

        bad = await slack.send_envelope("slash_commands", {**payload, "text": "@contact 83"})
        assert "The task needs a name" in json.dumps(bad["payload"])
    finally:
        await handler.close_async()
        await runtime.close()

    [opened] = slack.calls_to("apps.connections.open")
    assert opened.token == settings.slack_app_token.get_secret_value()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["name"] == "Return customer call"
    assert create.body["contact"] == {"id": 83}
    [task_id] = sandbox.tasks
    [parent] = slack.top_messages("C0DEMO")
    [reply] = slack.thread_replies("C0DEMO", parent.ts)
    text = reply.text + json.dumps(reply.blocks)
    assert f"Task #{task_id} created" in text and "Not Started" in text
    assert f"/AgentWeb/Bookmark/Task/{task_id}" in text


async def test_a_thread_reply_becomes_a_note_over_socket_mode(
    sandbox: B2CSandbox, slack: SlackFake
) -> None:
    settings = make_settings(sandbox, slack, slack_signing_secret=None)
    runtime = await build_runtime(settings, Mode.SOCKET)
    handler = CheckedSocketModeHandler(runtime.app, settings.slack_app_token.get_secret_value())
    await handler.connect_async()
    try:
        payload = slash_form("/task Return customer call", response_url=slack.response_url("s2"))
        await slack.send_envelope("slash_commands", payload)
        await runtime.creator.wait_idle()
        [parent] = slack.top_messages("C0DEMO")
        event = {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": "Ev1",
            "event": {
                "type": "message",
                "channel": "C0DEMO",
                "user": "U2",
                "text": "Left a voicemail",
                "ts": "900.1",
                "thread_ts": parent.ts,
            },
        }
        await slack.send_envelope("events_api", event)
        await slack.send_envelope("events_api", event)  # redelivered
        await runtime.creator.wait_idle()
    finally:
        await handler.close_async()
        await runtime.close()
    [task] = sandbox.tasks.values()
    assert task["_notes"][-1] == "Sam Agent in Slack: Left a voicemail"
    assert task["_notes"].count("Sam Agent in Slack: Left a voicemail") == 1
    assert [c.args["timestamp"] for c in slack.calls_to("reactions.add")] == ["900.1"]
