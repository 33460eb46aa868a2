"""Where people work (bot.home), driven as Slack drives it: the Home tab, direct messages on
assignment, the morning digest, link previews, channel defaults, emoji tasks and whole-thread
tasks; each observed at the Slack fake and the B2C sandbox."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.domain.defaults import describe, merge
from bot.home import views
from bot.home.digest import Digests
from bot.home.sources import thread_note
from bot.standins.sandbox import B2CSandbox
from bot.standins.slack_fake import SlackFake
from tests.conftest import Bot, make_settings, serving
from tests.test_e2e_interactive import blocks_by_id, option, submission, text_value

JANE, SAM = "U1", "U2"  # the Slack fake's users: staff accounts 2 and 3 by e-mail


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def home_opened(user: str = JANE) -> dict[str, Any]:
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D1",
        "tab": "home",
        "event_ts": "1.1",
    }


def home_click(user: str, action: dict[str, Any]) -> dict[str, Any]:
    """A block_actions payload for a button on the user's Home tab, as Slack sends it."""
    return {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user},
        "api_app_id": "A1",
        "trigger_id": "8.8",
        "container": {"type": "view", "view_id": f"VH{user}"},
        "view": {"id": f"VH{user}", "type": "home", "callback_id": "home", "blocks": []},
        "actions": [{"action_ts": "1", "block_id": "b", **action}],
    }


def elements(view: dict[str, Any], block_id: str) -> dict[str, dict[str, Any]]:
    block = blocks_by_id(view)[block_id]
    return {e["action_id"] + ":" + e.get("value", ""): e for e in block["elements"]}


def task_lines(view: dict[str, Any]) -> list[str]:
    return [
        b["text"]["text"]
        for b in view["blocks"]
        if b["type"] == "section" and b["text"]["text"].startswith("*<")
    ]


# ------------------------------------------------------------------ 1. the Home tab
async def test_the_home_tab_lists_my_open_tasks_nearest_due_first(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sandbox.seed_tasks()  # 12 and 13 open and 14 completed, all Jane's (staff account 2)
    now = datetime.now(UTC)
    sandbox.agent_edit(12, {"dueTime": iso(now + timedelta(days=2))})
    sandbox.agent_edit(13, {"dueTime": iso(now - timedelta(days=1))})  # overdue
    sandbox.agent_edit(14, {"dueTime": iso(now - timedelta(days=3))})  # completed: not shown
    await bot.command("Return customer call @contact 83")  # Jane creates task 100 from Slack
    await bot.finished()
    calls = len(sandbox.requests)

    assert await bot.event(home_opened()) == 200
    await bot.finished()
    view = slack.home_views[JANE]
    lines = task_lines(view)
    assert [line.split("|#")[1].split(">")[0] for line in lines] == ["13", "12"]
    assert ":red_circle: *overdue*" in lines[0] and "overdue" not in lines[1]
    assert "Mary Major" in lines[1] and "Not Started" in lines[1]  # contact and status
    blocks = blocks_by_id(view)
    assert {e["action_id"] for e in blocks["home_task_13"]["elements"]} >= {
        "task_complete",
        "task_status",
        "task_note",
        "open_task",
    }
    assert "home_new_task" in {e["action_id"] for e in blocks["home_top"]["elements"]}
    text = json.dumps(view)
    assert "Created by me from Slack" in text and "#100> Return customer call" in text
    assert "Open tasks assigned to you: 2" in text and "1 overdue" in text
    # Oracle calls: the staff account, the tasks, the tasks created from Slack
    assert len(sandbox.requests) - calls <= 3


async def test_a_user_without_a_staff_account_is_told_why_and_what_to_do(
    bot: Bot, slack: SlackFake
) -> None:
    await bot.event(home_opened("U3"))
    await bot.finished()
    text = json.dumps(slack.home_views["U3"])
    assert "No Oracle B2C Service staff account has No Match" in text
    assert "ask your B2C Service admin" in text
    assert "home_new_task" in text  # a task can still be made


async def test_past_a_page_the_nearest_due_come_first_and_show_more_goes_on(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    start = datetime.now(UTC) + timedelta(days=1)
    sandbox.bulk_tasks(1000, 60)
    for n in range(60):  # due one hour apart, the last made first
        sandbox.agent_edit(
            1059 - n, {"assignedToAccount": {"id": 2}, "dueTime": iso(start + timedelta(hours=n))}
        )
    await bot.event(home_opened())
    await bot.finished()
    view = slack.home_views[JANE]
    assert len(view["blocks"]) <= 100
    shown = task_lines(view)
    assert len(shown) == views.PER_PAGE and "#1059>" in shown[0]
    more = elements(view, "home_paging")[f"home_page:{views.PER_PAGE}"]
    assert more["text"]["text"] == "Show more (20)"
    await bot.interact(home_click(JANE, more))
    await bot.finished()
    second = slack.home_views[JANE]
    assert len(task_lines(second)) == 20 and "#1019>" in task_lines(second)[0]
    assert "home_page:0" in elements(second, "home_paging")


async def test_a_change_made_from_the_home_tab_publishes_it_again(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sandbox.seed_tasks()
    await bot.event(home_opened())
    await bot.finished()
    complete = blocks_by_id(slack.home_views[JANE])["home_task_12"]["elements"][0]
    assert complete["action_id"] == "task_complete"
    publishes = len(slack.calls_to("views.publish"))
    assert (await bot.interact(home_click(JANE, complete))).status_code == 200
    await bot.finished()
    [patch] = sandbox.requests_to("PATCH", "/tasks/12")
    assert patch.body["statusWithType"] == {"status": {"id": 18}}
    assert len(slack.calls_to("views.publish")) == publishes + 1
    view = slack.home_views[JANE]
    assert "<@U1> marked task #12 complete." in json.dumps(view)
    assert [line for line in task_lines(view) if "#12>" in line] == []  # no longer open


async def test_a_note_from_the_home_tab_and_a_new_task_from_it(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sandbox.seed_tasks()
    await bot.event(home_opened())
    await bot.finished()
    buttons = {
        e["action_id"]: e for e in blocks_by_id(slack.home_views[JANE])["home_task_13"]["elements"]
    }
    await bot.interact(home_click(JANE, buttons["task_note"]))
    await bot.finished()
    [opened] = slack.calls_to("views.open")
    note_form = {"id": "VN", **opened.args["view"]}
    await bot.interact(submission(note_form, {"note": text_value("Called, no answer")}))
    await bot.finished()
    assert sandbox.tasks[13]["_notes"][-1] == "Jane Doe in Slack: Called, no answer"
    assert "added a note to task #13" in json.dumps(slack.home_views[JANE])

    new_task = elements(slack.home_views[JANE], "home_top")["home_new_task:"]
    await bot.interact(home_click(JANE, new_task))
    await bot.finished()
    form = {"id": "VF", **slack.calls_to("views.open")[-1].args["view"]}
    await bot.interact(submission(form, {"name": text_value("From my Home tab")}))
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["notes"][0]["text"] == "Created from Slack by Jane Doe in a direct message"
    [parent] = slack.top_messages("DU1")  # the user's direct messages with the bot
    assert "From my Home tab" in parent.text
    assert "From my Home tab" in json.dumps(slack.home_views[JANE])  # the tab shows it at once


async def test_the_home_tab_over_socket_mode(sandbox: B2CSandbox, slack: SlackFake) -> None:
    from bot.app import build_runtime
    from bot.server import CheckedSocketModeHandler
    from bot.settings import Mode

    sandbox.seed_tasks()
    settings = make_settings(sandbox, slack, slack_signing_secret=None)
    runtime = await build_runtime(settings, Mode.SOCKET)
    handler = CheckedSocketModeHandler(runtime.app, settings.slack_app_token.get_secret_value())
    await handler.connect_async()
    try:
        envelope = {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": "Ev9",
            "event": home_opened(),
        }
        await slack.send_envelope("events_api", envelope)
        await runtime.creator.wait_idle()
        reaction = {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": "Ev10",
            "event": {
                "type": "reaction_added",
                "user": JANE,
                "reaction": "ticket",
                "item": {
                    "type": "message",
                    "channel": "C1",
                    "ts": slack.post_user_message("C1", "Call Carlos", user="U4").ts,
                },
                "event_ts": "2.2",
            },
        }
        await slack.send_envelope("events_api", reaction)
        await slack.send_envelope("events_api", reaction)  # redelivered
        link = f"{sandbox.base_url}/AgentWeb/Bookmark/Task/12"
        shared = {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": "Ev11",
            "event": link_shared(link),
        }
        await slack.send_envelope("events_api", shared)
        await runtime.creator.wait_idle()
    finally:
        await handler.close_async()
        await runtime.close()
    assert "#12>" in json.dumps(slack.home_views[JANE])
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["name"] == "Call Carlos" and create.body["contact"] == {"id": 84}
    assert [list(call["unfurls"]) for call in slack.unfurls] == [[link]]


# ------------------------------------------------------------------ 2. direct messages
def direct_messages(slack: SlackFake, user: str) -> list[Any]:
    return [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == user]


async def test_an_assignment_from_slack_is_told_to_the_assignee_not_to_oneself(
    bot: Bot, slack: SlackFake
) -> None:
    await bot.command("Call the customer back @assign <@U2|sam>", raw=True)
    await bot.command("Note to self @assign <@U1|jane>", raw=True)
    await bot.finished()
    [dm] = direct_messages(slack, SAM)
    text = json.dumps(dm.args)
    assert "<@U1> assigned you a task in <#C1>" in text
    assert "Call the customer back" in text and "task_complete" in text  # its buttons
    assert direct_messages(slack, JANE) == []


async def test_an_assignment_made_in_b2c_service_is_told_once(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await bot.command("Return customer call @contact 83")
    await bot.finished()
    sync = bot.runtime.sync
    assert sync is not None
    sandbox.agent_edit(100, {"assignedToAccount": {"id": 3}})  # an agent assigns it to Sam
    assert await sync.poll_once() == 1
    [dm] = direct_messages(slack, SAM)
    assert "You were assigned a task in B2C Service" in json.dumps(dm.args)
    sandbox.agent_edit(100, {"percentComplete": 50})  # another change: no second message
    await sync.poll_once()
    assert len(direct_messages(slack, SAM)) == 1


# ------------------------------------------------------------------ the morning digest
NINE_IN_NEW_YORK = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)  # Jane's 09:05


def digest_tasks(sandbox: B2CSandbox) -> None:
    sandbox.seed_tasks()
    sandbox.agent_edit(12, {"dueTime": "2026-11-30T17:00:00Z"})  # overdue
    sandbox.agent_edit(13, {"dueTime": "2026-12-01T20:00:00Z"})  # today, 15:00 in New York
    sandbox.agent_edit(14, {"dueTime": "2026-11-30T17:00:00Z"})  # completed: not told
    sandbox.tasks[15] = sandbox._new_task(
        15,
        {"name": "Tomorrow's", "assignedToAccount": {"id": 2}, "dueTime": "2026-12-02T20:00:00Z"},
    )


def restarted(bot: Bot, clock: datetime) -> Digests:
    home = bot.runtime.home
    assert home is not None and home.digests is not None
    return Digests(replace(home.digests.tools, clock=lambda: clock))


async def test_the_morning_digest_is_sent_at_nine_local_once_even_after_a_restart(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    digest_tasks(sandbox)
    assert await restarted(bot, NINE_IN_NEW_YORK - timedelta(minutes=10)).run_once() == 0
    assert await restarted(bot, NINE_IN_NEW_YORK).run_once() == 1
    [dm] = direct_messages(slack, JANE)  # Sam (Paris, 15:05) and Carlos (08:05): not theirs
    text = json.dumps(dm.args)
    assert "1 overdue, 1 due today" in text
    assert "#12>" in text and "#13>" in text and "#14>" not in text and "#15>" not in text
    assert text.index("Overdue") < text.index("#12>") < text.index("Due today") < text.index("#13>")
    # the next minute, and a restart the same morning: nothing more
    assert await restarted(bot, NINE_IN_NEW_YORK + timedelta(minutes=1)).run_once() == 0
    assert await restarted(bot, NINE_IN_NEW_YORK + timedelta(hours=2)).run_once() == 0
    assert len(direct_messages(slack, JANE)) == 1
    # the next morning, again
    assert await restarted(bot, NINE_IN_NEW_YORK + timedelta(days=1)).run_once() == 1


async def test_the_digest_reads_every_page_of_accounts_and_tasks(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of one row: every staff account and every due task is still read, whatever
    order Oracle keeps its rows in (the sandbox shuffles what it was not asked to order)."""
    from bot.home import digest

    monkeypatch.setattr(digest, "PAGE", 1)
    digest_tasks(sandbox)
    assert await restarted(bot, NINE_IN_NEW_YORK).run_once() == 1
    [dm] = direct_messages(slack, JANE)
    text = json.dumps(dm.args)
    assert "#12>" in text and "#13>" in text and "#14>" not in text and "#15>" not in text


async def test_remind_off_stops_the_digest_and_remind_shows_the_setting(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    digest_tasks(sandbox)
    await bot.command("remind off")
    await bot.finished()
    assert "You get no morning digest" in slack.responses[-1]["text"]
    assert await restarted(bot, NINE_IN_NEW_YORK).run_once() == 0
    await bot.command("remind on")
    await bot.finished()
    await bot.command("remind")
    await bot.finished()
    assert "09:00 your time (America/New_York)" in slack.responses[-1]["text"]
    assert await restarted(bot, NINE_IN_NEW_YORK + timedelta(days=1)).run_once() == 1


async def test_no_tasks_due_means_no_digest(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sandbox.seed_tasks()  # due later, or not at all
    assert await restarted(bot, NINE_IN_NEW_YORK).run_once() == 0
    assert direct_messages(slack, JANE) == []


# ------------------------------------------------------------------ 3. link previews
def link_shared(*urls: str) -> dict[str, Any]:
    return {
        "type": "link_shared",
        "channel": "C1",
        "user": SAM,
        "message_ts": "1700000000.000900",
        "links": [{"url": url, "domain": "x"} for url in urls],
        "event_ts": "9.9",
    }


async def test_a_task_link_is_unfurled_into_a_card(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sandbox.seed_tasks()
    link = f"{sandbox.base_url}/AgentWeb/Bookmark/Task/12"
    missing = f"{sandbox.base_url}/AgentWeb/Bookmark/Task/999"
    assert await bot.event(link_shared(link, missing, "https://example.com/12")) == 200
    await bot.finished()
    [call] = slack.unfurls
    assert call["channel"] == "C1" and call["ts"] == "1700000000.000900"
    assert list(call["unfurls"]) == [link]  # a task that does not exist stays a plain link
    card = json.dumps(call["unfurls"][link])
    assert "Call back about the invoice" in card and "Not Started" in card
    assert "assigned to Jane Doe" in card and "task_complete" in card


async def test_task_unfurl_off_leaves_links_alone(
    sandbox: B2CSandbox, slack: SlackFake, tmp_path: Any
) -> None:
    sandbox.seed_tasks()
    settings = make_settings(sandbox, slack, task_unfurl="off")
    async with serving(settings, slack) as bot:
        await bot.event(link_shared(f"{sandbox.base_url}/AgentWeb/Bookmark/Task/12"))
        await bot.finished()
    assert slack.unfurls == []


async def test_a_missing_scope_turns_its_feature_off_with_one_line_at_start(
    sandbox: B2CSandbox, slack: SlackFake, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.seed_tasks()
    gone = ("links:write", "reactions:read", "groups:read")
    slack.scopes = [s for s in slack.scopes if s not in gone]
    with caplog.at_level(logging.WARNING):
        async with serving(make_settings(sandbox, slack), slack) as bot:
            message = slack.post_user_message("C1", "Call Carlos", user="U4")
            for n in range(3):
                await bot.event(link_shared(f"{sandbox.base_url}/AgentWeb/Bookmark/Task/12"))
                await bot.event(reaction(message.ts, event_ts=f"3.{n}"))
            await bot.finished()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.home.scopes"]
    assert lines == [
        "telling Slack Connect channels apart (every channel is taken as not shared): off, the "
        "app lacks the groups:read scope (add it in manifest.yaml's scopes and reinstall the "
        "app)",
        "tasks from an emoji: off, the app lacks the reactions:read scope (add it in "
        "manifest.yaml's scopes and reinstall the app)",
        "link previews: off, the app lacks the links:write scope (add it in manifest.yaml's "
        "scopes and reinstall the app)",
    ]
    assert slack.unfurls == [] and sandbox.requests_to("POST", "/tasks") == []


# ------------------------------------------------------------------ 4. channel defaults
async def test_channel_defaults_apply_to_commands_and_what_the_user_types_wins(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await bot.command("defaults @type Call @priority High @org Acme")
    await bot.finished()
    said = slack.responses[-1]["text"]
    assert "`@org` Acme" in said and "`@priority` High" in said and "`@type` Call" in said
    await bot.command("Call the customer")
    await bot.command("Email the customer @priority Low")
    await bot.command("Elsewhere", channel="C9")
    await bot.finished()
    # (the three are created side by side: Oracle may get them in any order)
    made = {r.body["name"]: r.body for r in sandbox.requests_to("POST", "/tasks")}
    first, second = made["Call the customer"], made["Email the customer"]
    elsewhere = made["Elsewhere"]
    # kept as what they resolved to when set: the site's ids
    assert first["priority"] == {"id": 3} and first["taskType"] == {"id": 1}
    assert first["organization"] == {"id": 1}
    assert second["priority"] == {"id": 1} and second["taskType"] == {"id": 1}
    assert "priority" not in elsewhere and "taskType" not in elsewhere
    await bot.command("defaults")
    await bot.finished()
    assert "`@type` Call" in slack.responses[-1]["text"]
    await bot.command("defaults clear")
    await bot.finished()
    await bot.command("Plain one")
    await bot.finished()
    made = {r.body["name"]: r.body for r in sandbox.requests_to("POST", "/tasks")}
    assert "priority" not in made["Plain one"]


async def test_channel_defaults_are_checked_against_the_site_when_set(
    bot: Bot, slack: SlackFake
) -> None:
    await bot.command("defaults @priority Urgent")
    await bot.command("defaults @assign nobody_here")
    await bot.command("defaults @org Nowhere Inc")
    await bot.command("defaults @contact 209")
    mistaken = await bot.command("defaults Acme")
    await bot.finished()
    assert "`/task defaults @org Acme @type Call` sets this channel's defaults" in mistaken.text
    said = [r["text"] for r in slack.responses]  # (answered side by side: in any order)
    assert len(said) == 4 and all("The defaults were not set" in text for text in said)
    for problem in (
        "Priority must be one of: Low, Normal, High, Critical (not “Urgent”)",
        "No Oracle B2C Service staff account has the login “nobody_here”",
        "No organization in B2C Service is named “Nowhere Inc”",
        "No contact in B2C Service has the ID 209",
    ):
        assert any(problem in text for text in said), problem
    await bot.command("defaults")
    await bot.finished()
    assert "This channel has no task defaults" in slack.responses[-1]["text"]


async def test_channel_defaults_are_kept_as_the_site_has_them(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    """Typed as people type (``acme``, ``high``), kept as the site's ids and shown by the
    site's names: Oracle matches a lookupName exactly, so the name as typed could fail every
    task of the channel."""
    await bot.command("defaults @org acme @priority high @contact 83")
    await bot.finished()
    said = slack.responses[-1]["text"]
    assert "`@org` Acme" in said and "`@priority` High" in said and "`@contact` 83" in said
    await bot.command("Call the customer")
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["organization"] == {"id": 1} and create.body["priority"] == {"id": 3}
    assert create.body["contact"] == {"id": 83}


async def test_a_task_refused_for_a_channel_default_says_so(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await bot.command("defaults @contact 83 @priority High")
    await bot.finished()
    sandbox.data["contacts"][83]["disabled"] = True  # since then, in B2C Service
    await bot.command("Call the customer")
    await bot.finished()
    said = json.dumps(slack.responses[-1], ensure_ascii=False)
    assert "This channel's defaults filled in @contact, @priority" in said
    assert "`/task defaults` to see or change them" in said
    sandbox.data["contacts"][83]["disabled"] = False
    # typed, and refused at once (the site's values are known by now): no word of defaults
    answer = await bot.command("Call the customer @priority Urgent")
    said = answer.text
    assert "Priority must be one of" in said and "defaults" not in said
    await bot.command("Call the customer @status completed")  # as the site has it: created
    await bot.finished()
    assert len(sandbox.requests_to("POST", "/tasks")) == 2


async def test_channel_defaults_prefill_the_form(bot: Bot, slack: SlackFake) -> None:
    await bot.command("defaults @priority High @assign <@U2|sam>", raw=True)
    await bot.finished()
    await bot.command("")
    await bot.finished()
    view = (slack.calls_to("views.update") or slack.calls_to("views.open"))[-1].args["view"]
    fields = blocks_by_id(view)
    assert fields["priority"]["element"]["initial_option"]["text"]["text"] == "High"
    assert fields["assign"]["element"]["initial_user"] == SAM


# ------------------------------------------------------------------ 5. a task from an emoji
def reaction(ts: str, *, user: str = JANE, name: str = "ticket", event_ts: str = "5.1") -> dict:
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": name,
        "item": {"type": "message", "channel": "C1", "ts": ts},
        "item_user": "U4",
        "event_ts": event_ts,
    }


async def test_an_emoji_makes_one_task_of_a_message_however_many_react(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await bot.command("defaults @priority High")
    await bot.finished()
    message = slack.post_user_message(
        "C1", "Printer is on fire &amp; smoking\nsecond line for <@U1>", user="U4"
    )
    assert await bot.event(reaction(message.ts)) == 200
    assert await bot.event(reaction(message.ts, user=SAM, event_ts="5.2")) == 200
    assert await bot.event(reaction(message.ts), retry=1) == 200
    assert await bot.event(reaction(message.ts, name="eyes", event_ts="5.3")) == 200
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    body = create.body
    assert body["name"] == "Printer is on fire & smoking"
    assert body["contact"] == {"id": 84}  # the author, by e-mail
    assert body["priority"] == {"id": 3}  # the channel's default
    assert body["notes"][0]["text"] == (
        "Created from Slack by Jane Doe in a message (an emoji reaction)"
    )
    note = body["notes"][1]["text"]
    assert "second line for @Jane Doe" in note and f"p{message.ts.replace('.', '')}" in note
    [reply] = slack.thread_replies("C1", message.ts)  # answered in the message's thread
    assert "Task #100 created" in reply.text


async def test_an_emoji_on_a_reply_answers_in_its_thread(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent = slack.post_user_message("C1", "Customer escalation", user="U2")
    reply = slack.post_user_message("C1", "Please call Mary today", user="U4", thread_ts=parent.ts)
    await bot.event(reaction(reply.ts))
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["name"] == "Please call Mary today"
    answers = [m.text for m in slack.thread_replies("C1", parent.ts) if m.user is None]
    assert any("Task #100 created" in text for text in answers)
    assert slack.thread_replies("C1", reply.ts) == []


async def test_an_emoji_on_a_message_the_bot_cannot_read_is_told_privately(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    slack.fail("conversations.history", "not_in_channel")
    await bot.event(reaction("1700000000.999999"))
    await bot.finished()
    assert sandbox.requests_to("POST", "/tasks") == []
    [told] = slack.calls_to("chat.postEphemeral")
    assert told.args["user"] == JANE and "not_in_channel" in json.dumps(told.args)


async def test_an_emoji_task_waits_for_slack_when_slack_is_away(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.flows import procedure

    monkeypatch.setattr(procedure, "SLACK_AWAY_WAIT", 0.0)
    message = slack.post_user_message("C1", "Call Carlos back", user="U4")
    slack.fail("conversations.history", "service_unavailable")
    await bot.event(reaction(message.ts))
    await bot.finished()
    assert sandbox.requests_to("POST", "/tasks") == []  # kept, not refused
    assert slack.calls_to("chat.postEphemeral") == []
    assert slack.calls_to("chat.postMessage") == []  # nothing to tell yet
    assert await bot.runtime.creator.resume() == 1  # the sweep takes it up again
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["name"] == "Call Carlos back"
    # and the task is told in the message's thread, as an emoji task is
    [reply] = slack.thread_replies("C1", message.ts)
    assert "Call Carlos back" in json.dumps(reply.blocks)


# ------------------------------------------------------------------ 6. a whole thread
async def test_the_shortcut_in_a_thread_can_add_the_whole_thread_to_the_note(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent = slack.post_user_message("C1", "Customer says the <https://x.example|portal> is down")
    slack.post_user_message(
        "C1",
        "Logs attached for <@U2>",
        user="U1",
        thread_ts=parent.ts,
        files=[{"name": "portal.log", "permalink": "https://files.example/portal.log"}],
    )
    last = slack.post_user_message("C1", "Restarted it", user="U4", thread_ts=parent.ts)
    shortcut = {
        "type": "message_action",
        "callback_id": "create_task_from_message",
        "team": {"id": "T1"},
        "user": {"id": JANE},
        "channel": {"id": "C1", "name": "support"},
        "trigger_id": "5.5",
        "response_url": slack.response_url("wt"),
        "message_ts": last.ts,
        "message": {
            "type": "message",
            "user": "U4",
            "ts": last.ts,
            "thread_ts": parent.ts,
            "text": "Restarted it",
        },
    }
    await bot.interact(shortcut)
    await bot.finished()
    view = {"id": "V1", **slack.calls_to("views.open")[0].args["view"]}
    assert "whole_thread" in blocks_by_id(view)
    values = {
        "name": text_value("Portal down"),
        "note": text_value("See the thread"),
        "contact": option("84"),
    }
    payload = submission(view, values)
    payload["view"]["state"]["values"]["whole_thread"] = {
        "value": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}
    }
    await bot.interact(payload)
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    note = next(n["text"] for n in create.body["notes"] if "Slack thread" in n["text"])
    assert note.startswith("See the thread\n\nSlack thread (3 messages):\n")
    assert "Sam Agent, " in note and "Customer says the portal (https://x.example) is down" in note
    assert "Jane Doe, " in note and "Logs attached for @Sam Agent" in note
    assert "[file: portal.log https://files.example/portal.log]" in note
    assert note.index("Customer says") < note.index("Logs attached") < note.index("Restarted")


# ------------------------------------------------------------------ pure parts, table by table
@pytest.mark.parametrize(
    ("limit", "expect_in", "expect_out"),
    [
        (10_000, ["Slack thread (3 messages):", "a" * 300, "b" * 300, "c" * 300], ["shortened"]),
        (900, ["the oldest 2 shortened", "a" * 199 + "…", "b" * 199 + "…", "c" * 300], []),
        (500, ["left out", "c" * 300], ["a" * 20]),
    ],
)
def test_thread_note_shortens_the_oldest_first_and_says_so(
    limit: int, expect_in: list[str], expect_out: list[str]
) -> None:
    messages = [
        {"user": "U1", "ts": "1700000000.0", "text": "a" * 300},
        {"user": "U2", "ts": "1700000060.0", "text": "b" * 300},
        {"user": "U1", "ts": "1700000120.0", "text": "c" * 300},
    ]
    note = thread_note(messages, {"U1": "Jane", "U2": "Sam"}, limit)
    assert len(note) <= limit
    for text in expect_in:
        assert text in note
    for text in expect_out:
        assert text not in note
    assert "Jane, 2023-11-14 22:13 UTC: " in note or limit < 900


def test_merge_fills_only_what_the_user_left_empty() -> None:
    from bot.domain.drafts import IdOrName, SlackUser, TaskDraft

    defaults = {
        "priority": {"kind": "ref", "id": None, "name": "High"},
        "assignee": {"kind": "slack_user", "user_id": "U2"},
    }
    assert merge(TaskDraft(name="x"), defaults) == TaskDraft(
        name="x", priority=IdOrName(name="High"), assignee=SlackUser("U2")
    )
    mine = TaskDraft(name="x", priority=IdOrName(name="Low"))
    assert merge(mine, defaults).priority == IdOrName(name="Low")
    assert merge(mine, {}) is mine
    assert describe(defaults) == ["`@assign` <@U2>", "`@priority` High"]


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (views.Row(1, "a<b", "Open", due=datetime(2020, 1, 1, tzinfo=UTC)), ["a&lt;b", "overdue"]),
        (views.Row(2, "x", "Done", "Completed", due=datetime(2020, 1, 1, tzinfo=UTC)), ["Done"]),
        (views.Row(3, "y", "Open", contact="M & M"), ["contact M &amp; M"]),
    ],
)
def test_task_line(row: views.Row, words: list[str]) -> None:
    line = views.task_line(row, "https://s/3", datetime(2026, 1, 1, tzinfo=UTC))
    for word in words:
        assert word in line
    if row.complete:
        assert "overdue" not in line
