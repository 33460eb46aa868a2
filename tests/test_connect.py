"""Slack Connect channels, driven as Slack drives the bot: a person of another organization
acts on nothing in Oracle (button, form, shortcut, emoji, reply, command), a shared channel
gets a task's id and status and nothing else from Oracle, an operator can open a channel fully,
and a channel shared later changes at once. Each at the cost of one conversations.info per
channel, at most."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.demo import slash_form
from bot.slack import render
from bot.standins.sandbox import B2CSandbox
from bot.standins.slack_fake import SlackFake
from tests.conftest import Bot, block_action, make_settings, serving, socket_mode_bot
from tests.test_e2e_interactive import buttons_of, created_task, submission, text_value
from tests.test_home import link_shared, reaction
from tests.test_sync import notes_of, reply_event, send_event

CORA = "UX1"  # the Slack fake's customer person, of team TX1
REFUSAL = "Only Fake's support team can act on B2C Service tasks from Slack. Nothing was changed."
IN_PROGRESS = 17


def from_customer(payload: dict[str, Any]) -> dict[str, Any]:
    """The same interaction, made by the customer's person (Slack gives their team)."""
    return {**payload, "user": {**payload["user"], "id": CORA, "team_id": "TX1"}}


def customers_form() -> dict[str, Any]:
    """The task form, submitted by the customer's person."""
    view = {"callback_id": "create_task", "blocks": [{"type": "input", "block_id": "name"}]}
    payload = from_customer(submission(view, {"name": text_value("Refund me")}))
    payload["view"]["blocks"] = view["blocks"]
    return payload


def customers_shortcut(slack: SlackFake, channel: str, ts: str, author: str) -> dict[str, Any]:
    """The "Create task" message shortcut, used by the customer's person on a message."""
    return {
        "type": "message_action",
        "callback_id": "create_task_from_message",
        "team": {"id": "TX1"},
        "user": {"id": CORA, "team_id": "TX1"},
        "channel": {"id": channel},
        "trigger_id": "5.5",
        "response_url": slack.response_url("sc"),
        "message_ts": ts,
        "message": {"type": "message", "user": author, "ts": ts, "text": "Please call me"},
    }


def ephemerals(slack: SlackFake) -> list[str]:
    return [json.dumps(c.args) for c in slack.calls_to("chat.postEphemeral")]


# ------------------------------------------------------------------ people of another org
async def test_a_customers_button_changes_nothing_an_agents_does(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    slack.shared_channels.add("C1")
    parent, buttons = await created_task(bot, slack)
    press = block_action(buttons["task_complete"], user=CORA, message_ts=parent.ts)
    press["user"]["team_id"] = "TX1"
    assert (await bot.interact(press)).status_code == 200
    await bot.finished()
    assert sandbox.requests_to("PATCH", "/tasks/100") == []
    [told] = ephemerals(slack)
    assert REFUSAL in told and '"user": "UX1"' in told
    # an agent's press in the same channel works as anywhere
    agent = block_action(buttons["task_complete"], user="U2", message_ts=parent.ts)
    agent["user"]["team_id"] = "T1"
    await bot.interact(agent)
    await bot.finished()
    assert len(sandbox.requests_to("PATCH", "/tasks/100")) == 1


async def test_a_customers_form_and_shortcut_reach_nothing(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    answer = await bot.interact(customers_form())
    assert answer.json() == {"response_action": "errors", "errors": {"name": REFUSAL}}
    shortcut = customers_shortcut(slack, "C1", "1.2", "U4")
    assert (await bot.interact(shortcut)).status_code == 200
    await bot.finished()
    assert slack.calls_to("views.open") == []
    assert REFUSAL in ephemerals(slack)[0]
    assert sandbox.requests_to("POST", "/tasks") == []


async def test_a_customers_emoji_and_reply_make_no_task_and_no_note(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    slack.shared_channels.add("C1")
    parent, _ = await created_task(bot, slack)
    before = notes_of(sandbox)
    message = slack.post_user_message("C1", "We fixed it ourselves", user=CORA)
    await bot.event(reaction(message.ts, user=CORA), is_ext_shared_channel=True)
    reply = reply_event(parent, "600.1", "Please close this", user=CORA, user_team="TX1")
    assert await bot.event({"type": "message", **reply}, is_ext_shared_channel=True) == 200
    await bot.finished()
    assert len(sandbox.tasks) == 1  # no task from the emoji
    assert notes_of(sandbox) == before  # no note from the reply
    assert slack.calls_to("reactions.add") == []
    # an agent's reply in the same thread is a note, as anywhere
    await send_event(bot, reply_event(parent, "600.2", "Called back", user_team="T1"))
    await bot.finished()
    assert notes_of(sandbox)[-1].endswith("Called back")


async def test_a_customers_command_is_refused_help_says_what_the_channel_gets(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    slack.shared_channels.add("C1")
    for text in ("Refund me @contact 83", "show 100", "mine", ""):
        answer = await bot.command(text, user=CORA)
        assert REFUSAL in json.dumps(answer.json())
    await bot.finished()
    assert sandbox.requests_to("POST", "/tasks") == [] and slack.calls_to("views.open") == []
    assert [r for r in sandbox.requests if r.path == "/tasks" or "tasks" in r.path] == []
    helped = json.dumps((await bot.command("help", user=CORA)).json())
    assert render.SHARED_RESTRICTED[:40] in helped
    assert render.SHARED_RESTRICTED[:40] in json.dumps((await bot.command("help")).json())
    # an ordinary channel's help says nothing of it
    assert ":link:" not in json.dumps((await bot.command("help", channel="C2")).json())


# ------------------------------------------------------------------ what a shared channel sees
async def test_a_shared_channel_sees_id_status_and_what_was_typed_only(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    slack.shared_channels.add("C1")
    parent, _ = await created_task(bot, slack)
    [reply] = slack.thread_replies("C1", parent.ts)
    shown = json.dumps(reply.blocks)
    assert "*Contact*\\n83" in shown  # as typed: no name read from Oracle for it
    assert "Mary" not in shown and "Major" not in shown
    sync = bot.runtime.sync
    assert sync is not None
    sandbox.later()
    sandbox.agent_edit(
        100,
        {
            "statusWithType": {"status": {"id": IN_PROGRESS}},
            "assignedToAccount": {"id": 2},
            "notes": [{"text": "customer is on credit hold, do not ship"}],
        },
    )
    notes_reads = len(sandbox.requests_to("GET", "/tasks/100/notes"))
    assert await sync.poll_once() == 1
    said = [m.text for m in slack.thread_replies("C1", parent.ts)][-1]
    assert said == (
        ":arrows_counterclockwise: Status: Not Started → In Progress · changed in B2C Service"
    )
    assert "credit hold" not in json.dumps([m.blocks for m in slack.messages.values()])
    assert len(sandbox.requests_to("GET", "/tasks/100/notes")) == notes_reads  # not even read
    text = parent.blocks[0]["text"]["text"]
    assert "*In Progress*" in text and "Jane Doe" not in text  # no assignee on the message
    # a pasted task link is previewed with its id and status only
    sandbox.seed_tasks()
    await bot.event(link_shared(f"{sandbox.base_url}/AgentWeb/Bookmark/Task/12"))
    await bot.finished()
    [unfurl] = slack.unfurls
    card = json.dumps(unfurl)
    assert "Task #12" in card and "button" not in card
    assert sandbox.tasks[12]["name"] not in card


async def test_a_channel_opened_by_the_operator_gets_everything(
    sandbox: B2CSandbox, slack: SlackFake, tmp_path
) -> None:
    slack.shared_channels.add("C1")
    settings = make_settings(sandbox, slack, slack_connect_open_channels="C1")
    async with serving(settings, slack) as bot:
        parent, _ = await created_task(bot, slack)
        sync = bot.runtime.sync
        assert sync is not None
        sandbox.later()
        sandbox.agent_edit(100, {"notes": [{"text": "ok to share"}]})
        assert await sync.poll_once() == 1
        assert "ok to share" in slack.thread_replies("C1", parent.ts)[-1].text
        helped = json.dumps((await bot.command("help")).json())
        assert render.SHARED_OPEN[:40] in helped
        # the customer's person still acts on nothing
        answer = await bot.command("Refund me", user=CORA)
        assert REFUSAL in json.dumps(answer.json())


async def test_a_channel_shared_later_stops_getting_notes_at_once(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await created_task(bot, slack)  # an ordinary channel (asked once)
    sync = bot.runtime.sync
    assert sync is not None
    sandbox.later()
    sandbox.agent_edit(100, {"notes": [{"text": "first, internal"}]})
    assert await sync.poll_once() == 1
    slack.shared_channels.add("C1")
    await bot.event({"type": "channel_shared", "channel": "C1", "connected_team_id": "TX1"})
    sandbox.later()
    sandbox.agent_edit(100, {"notes": [{"text": "second, after sharing"}]})
    assert await sync.poll_once() == 0
    assert "after sharing" not in json.dumps([m.text for m in slack.messages.values()])
    # unshared again: the thread is told its notes again
    slack.shared_channels.discard("C1")
    await bot.event({"type": "channel_unshared", "channel": "C1", "is_ext_shared": False})
    sandbox.later()
    sandbox.agent_edit(100, {"notes": [{"text": "third"}]})
    assert await sync.poll_once() >= 1


async def test_knowing_a_channel_costs_one_conversations_info_per_channel(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    for n in range(5):
        await bot.command(f"Call back {n} @contact 83")
        await bot.command(f"Call back {n} @contact 83", channel="C2")
    await bot.finished()
    asked = [c.args.get("channel") for c in slack.calls_to("conversations.info")]
    assert sorted(asked) == ["C1", "C2"]
    # an event's envelope says it: no call at all
    message = slack.post_user_message("C3", "Printer broken", user="U4")
    await bot.event(
        {**reaction(message.ts), "item": {"type": "message", "channel": "C3", "ts": message.ts}},
        is_ext_shared_channel=False,
    )
    await bot.finished()
    assert [c.args.get("channel") for c in slack.calls_to("conversations.info")] == asked


# ------------------------------------------------------------------ Socket Mode
async def test_over_socket_mode_a_customers_button_and_reply_reach_nothing(
    sandbox: B2CSandbox, slack: SlackFake
) -> None:
    slack.shared_channels.add("C0DEMO")

    def reply(ts: str, user: str, team: str) -> dict[str, Any]:
        return {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": "Ev" + ts,
            "is_ext_shared_channel": True,
            "event": {
                "type": "message",
                "channel": "C0DEMO",
                "user": user,
                "user_team": team,
                "text": f"reply {ts}",
                "ts": ts,
                "thread_ts": parent.ts,
            },
        }

    async with socket_mode_bot(sandbox, slack) as runtime:
        command = slash_form("/task Return customer call", response_url=slack.response_url("s"))
        await slack.send_envelope("slash_commands", command)
        await runtime.creator.wait_idle()
        [parent] = slack.top_messages("C0DEMO")
        buttons = buttons_of(parent)
        press = block_action(
            buttons["task_complete"], user=CORA, channel="C0DEMO", message_ts=parent.ts
        )
        press["user"]["team_id"] = "TX1"
        await slack.send_envelope("interactive", press)
        before = notes_of(sandbox)
        await slack.send_envelope("events_api", reply("700.1", CORA, "TX1"))
        await runtime.creator.wait_idle()
        assert notes_of(sandbox) == before
        await slack.send_envelope("events_api", reply("700.2", "U2", "T1"))  # an agent's
        await runtime.creator.wait_idle()
    assert sandbox.requests_to("PATCH", "/tasks/100") == []
    assert notes_of(sandbox)[len(before) :] and notes_of(sandbox)[-1].endswith("reply 700.2")
    assert any(REFUSAL in e for e in ephemerals(slack))


async def test_over_socket_mode_a_customers_command_form_shortcut_and_emoji_reach_nothing(
    sandbox: B2CSandbox, slack: SlackFake
) -> None:
    slack.shared_channels.add("C0DEMO")
    async with socket_mode_bot(sandbox, slack) as runtime:
        command = slash_form("/task Refund me", response_url=slack.response_url("s"))
        ack = await slack.send_envelope("slash_commands", {**command, "user_id": CORA})
        assert REFUSAL in json.dumps(ack.get("payload"))
        ack = await slack.send_envelope("interactive", customers_form())
        assert ack.get("payload") == {"response_action": "errors", "errors": {"name": REFUSAL}}
        message = slack.post_user_message("C0DEMO", "Please call me", user=CORA)
        shortcut = customers_shortcut(slack, "C0DEMO", message.ts, CORA)
        await slack.send_envelope("interactive", shortcut)
        emoji = {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": "EvR1",
            "is_ext_shared_channel": True,
            "event": {
                **reaction(message.ts, user=CORA),
                "item": {"type": "message", "channel": "C0DEMO", "ts": message.ts},
            },
        }
        await slack.send_envelope("events_api", emoji)
        await runtime.creator.wait_idle()
        # the agent's own emoji on the same message makes its task (the surface works)
        await slack.send_envelope(
            "events_api",
            {**emoji, "event_id": "EvR2", "event": {**emoji["event"], "user": "U1"}},
        )
        await runtime.creator.wait_idle()
    assert slack.calls_to("views.open") == []
    assert any(REFUSAL in e for e in ephemerals(slack))
    [create] = sandbox.requests_to("POST", "/tasks")  # the agent's, only
    assert create.body["name"].startswith("Please call me")


async def test_while_slack_has_not_said_who_installed_the_bot_no_one_acts_from_a_shared_channel(
    sandbox: B2CSandbox, slack: SlackFake, caplog
) -> None:
    slack.shared_channels.add("C1")
    slack.fail("auth.test", "fatal_error")  # the start-up's question goes unanswered
    async with serving(make_settings(sandbox, slack), slack) as bot:
        assert "could not learn the bot's own workspace" in caplog.text
        answer = await bot.command("Refund me @contact 83", user=CORA)
        # not known yet who is who: nobody acts from the shared channel (the refusal names no
        # workspace), an agent in an ordinary channel does
        assert "Only this workspace's support team" in json.dumps(answer.json())
        await bot.command("Call back @contact 83", channel="C2")
        await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["name"] == "Call back"


# ------------------------------------------------------------------ the cache, table by table
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_whether_a_channel_is_shared_is_asked_once_per_lifetime_and_told_by_events(
    slack: SlackFake,
) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.connect import SharedChannels

    clock = Clock()
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    channels = SharedChannels(client, opened=frozenset({"C9"}), ttl=3600, clock=clock)
    slack.shared_channels.update({"C1", "C9"})
    assert await channels.shared("C1") is True
    assert await channels.shared("C2") is False
    assert await channels.shared("D1") is False  # a direct message: never asked
    slack.shared_channels.discard("C1")
    clock.now += 3599
    assert await channels.shared("C1") is True  # within its lifetime: not asked again
    clock.now += 2
    assert await channels.shared("C1") is False  # expired: asked again
    channels.said("C2", True)  # channel_shared
    assert await channels.shared("C2") is True
    assert await channels.restricted("C9") is False and await channels.shared("C9") is True
    slack.fail("conversations.info", "internal_error")
    assert await channels.shared("C3") is True  # Slack cannot say: nothing internal shown
    assert await channels.shared("C3") is False  # and asked again next time
    asked = [c.args.get("channel") for c in slack.calls_to("conversations.info")]
    assert asked == ["C1", "C2", "C1", "C9", "C3", "C3"]


@pytest.mark.parametrize(
    ("home", "team", "enterprise", "outsider"),
    [
        (("T1", None), "T1", None, False),  # the installing workspace
        (("T1", None), "TX1", None, True),  # another organization's
        (("T1", None), None, None, False),  # not said: the caller asks users.info
        (("T1", "E1"), "T2", "E1", False),  # a workspace of the same Grid organization
        (("T1", "E1"), "T2", "E9", True),  # a workspace of another Grid organization
        (("T1", "E1"), "T2", None, True),  # another workspace, no organization said
        (("T1", "E1"), "E1", None, False),  # Slack names the organization (some events)
        (("T1", "E1"), "E9", None, True),
        (("T1", None), "E9", None, True),
        ((None, None), "TX1", None, False),  # the installing one not known yet (see above)
    ],
)
def test_who_is_from_another_organization(
    home: tuple[str | None, str | None], team: str | None, enterprise: str | None, outsider: bool
) -> None:
    from bot.slack.connect import Home, Organizations

    orgs = Organizations(None)  # type: ignore[arg-type]
    orgs.home = Home(team_id=home[0], enterprise_id=home[1], name="Acme")
    assert orgs.outsider(team, enterprise) is outsider
    assert orgs.refusal().startswith("Only Acme's support team")
