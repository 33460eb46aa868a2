"""The form, the message shortcut, the task buttons and the pickers, end to end over signed HTTP."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.standins.sandbox import B2CSandbox
from bot.standins.sandbox import Fault as B2CSandboxFault
from bot.standins.slack_fake import SlackFake
from tests.conftest import Bot, block_action, make_settings, serving

EPOCH_DUE = int(datetime(2026, 12, 1, 22, 0, tzinfo=UTC).timestamp())


def blocks_by_id(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def warnings_after(view: dict[str, Any]) -> dict[str, str]:
    """Warnings shown under fields: block id -> text of the context block that follows it."""
    found, previous = {}, None
    for block in view["blocks"]:
        if block["type"] == "context" and previous and ":warning:" in json.dumps(block):
            found[previous] = block["elements"][0]["text"]
        previous = block.get("block_id")
    return found


def submission(
    view: dict[str, Any], values: dict[str, dict[str, Any]], user: str = "U1"
) -> dict[str, Any]:
    """A view_submission payload for an opened form, with the given input values."""
    return {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": user, "username": "jane", "name": "jane"},
        "api_app_id": "A1",
        "trigger_id": "9.9",
        "view": {
            "id": view.get("id", "V1"),
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view.get("private_metadata", ""),
            "hash": "h",
            "state": {"values": {k: {"value": v} for k, v in values.items()}},
        },
    }


def text_value(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def option(value: str, text: str = "") -> dict[str, Any]:
    return {
        "type": "static_select",
        "selected_option": {"value": value, "text": {"type": "plain_text", "text": text}},
    }


async def opened_form(bot: Bot, slack: SlackFake, text: str = "") -> dict[str, Any]:
    """Type ``/task text``; the form as it finally stands (after its views.update)."""
    await bot.command(text)
    await bot.finished()
    [opened] = slack.calls_to("views.open")
    view = {"id": "V1", **opened.args["view"]}
    updates = slack.calls_to("views.update")
    if updates:
        view = {"id": updates[-1].args["view_id"], **updates[-1].args["view"]}
    return view


async def test_blank_command_opens_the_form_then_fills_named_ids(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    response = await bot.command("")
    assert response.status_code == 200 and response.content == b""
    await bot.finished()
    [opened] = slack.calls_to("views.open")
    assert opened.args["trigger_id"].endswith(".demo")  # the command's own trigger
    first = opened.args["view"]
    assert first["callback_id"] == "task_form" and first["type"] == "modal"
    fields = blocks_by_id(first)
    assert fields["name"]["optional"] is False
    assert fields["contact"]["element"]["type"] == "external_select"
    assert fields["org"]["element"]["type"] == "external_select"
    assert fields["assign"]["element"]["type"] == "users_select"
    assert fields["due"]["element"]["type"] == "datetimepicker"
    assert {"incident", "opportunity", "answer", "note", "start"} <= set(fields)
    assert len(first["title"]["text"]) <= 24 and len(first["submit"]["text"]) <= 24
    # the site's named IDs arrive with views.update, from Oracle
    [update] = slack.calls_to("views.update")
    assert update.args["view_id"] == "V1" and update.args["hash"] == "h-V1"
    filled = blocks_by_id(update.args["view"])
    priorities = [o["text"]["text"] for o in filled["priority"]["element"]["options"]]
    assert priorities == ["Low", "Normal", "High", "Critical"]
    assert "Not Started" in json.dumps(filled["status"])
    assert {r.path for r in sandbox.requests} >= {
        "/namedIDs/tasks/priority",
        "/namedIDs/tasks/statusWithType/status",
    }
    # a second form opens complete at once: the named IDs are cached
    await bot.command("")
    await bot.finished()
    assert len(slack.calls_to("views.update")) == 1
    assert "High" in json.dumps(slack.calls_to("views.open")[1].args["view"])


async def test_mistaken_command_opens_the_form_prefilled_with_the_error_on_its_field(
    bot: Bot, slack: SlackFake
) -> None:
    view = await opened_form(bot, slack, "Call back @contact abc @priority High @note hi there")
    fields = blocks_by_id(view)
    assert fields["name"]["element"]["initial_value"] == "Call back"
    assert fields["priority"]["element"]["initial_option"]["text"]["text"] == "High"
    assert fields["note"]["element"]["initial_value"] == "hi there"
    assert "contact needs a contact ID" in warnings_after(view)["contact"]
    assert "mistake" in json.dumps(view["blocks"][0])


async def test_submission_creates_the_task_and_answers_in_a_thread(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    view = await opened_form(bot, slack)
    response = await bot.interact(
        submission(
            view,
            {
                "name": text_value("Send renewal quote"),
                "contact": option("84", "Carlos Salazar"),
                "org": option("1", "Acme"),
                "assign": {"type": "users_select", "selected_user": "U2"},
                "due": {"type": "datetimepicker", "selected_date_time": EPOCH_DUE},
                "priority": option("3", "High"),
                "status": option("17", "In Progress"),
                "incident": text_value("261128-000123"),
                "note": text_value("Customer asked <!here> & twice"),
            },
        )
    )
    ack = response.json()
    assert ack["response_action"] == "update"
    assert "Creating" in json.dumps(ack["view"])
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body == {
        "name": "Send renewal quote",
        "contact": {"id": 84},
        "organization": {"id": 1},
        "assignedToAccount": {"id": 3},
        "dueTime": "2026-12-01T22:00:00.000Z",
        "priority": {"id": 3},
        "statusWithType": {"status": {"id": 17}},
        "serviceSettings": {"incident": {"lookupName": "261128-000123"}},
        "notes": [
            {"text": "Created from Slack by Jane Doe in #support"},
            {"text": "Customer asked <!here> & twice"},
        ],
    }
    [task_id] = sandbox.tasks
    done = slack.calls_to("views.update")[-1].args
    assert done["view_id"] == "V1" and f"Task #{task_id} created" in json.dumps(done["view"])
    [parent] = slack.top_messages("C1")
    [reply] = slack.thread_replies("C1", parent.ts)
    assert f"Task #{task_id} created" in reply.text and "In Progress" in reply.text
    assert "<!here>" not in json.dumps(reply.blocks) + json.dumps(parent.blocks)
    actions = next(b for b in parent.blocks if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        "task_complete",
        "task_status",
        "task_note",
        "open_task",
    ]


async def test_field_errors_are_shown_and_nothing_is_sent(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    view = await opened_form(bot, slack)
    response = await bot.interact(
        submission(
            view,
            {
                "name": text_value("  "),
                "incident": text_value("ABC"),
                "assign": {"type": "users_select", "selected_user": "U2"},
                "assign_login": text_value("jdoe"),
                "start": {"type": "datetimepicker", "selected_date_time": EPOCH_DUE + 3600},
                "due": {"type": "datetimepicker", "selected_date_time": EPOCH_DUE},
            },
        )
    )
    ack = response.json()
    assert ack["response_action"] == "errors"
    assert set(ack["errors"]) == {"name", "incident", "assign_login", "start"}
    assert "incident ID" in ack["errors"]["incident"]
    await bot.finished()
    assert sandbox.requests_to("POST", "/tasks") == []


async def test_oracle_refusal_shows_on_the_field_and_keeps_the_input(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    view = await opened_form(bot, slack)
    await bot.interact(
        submission(
            view,
            {
                "name": text_value("Call the inactive one"),
                "contact": option("86", "Inactive"),
                "note": text_value("keep me"),
            },
        )
    )
    await bot.finished()
    assert sandbox.tasks == {}
    form = slack.calls_to("views.update")[-1].args["view"]
    assert form["callback_id"] == "task_form"
    assert "disabled" in warnings_after(form)["contact"]
    fields = blocks_by_id(form)
    assert fields["name"]["element"]["initial_value"] == "Call the inactive one"
    assert fields["note"]["element"]["initial_value"] == "keep me"
    assert fields["contact"]["element"]["initial_option"]["value"] == "86"
    assert slack.top_messages() == []  # the form told the user; nothing half-done in the channel
    assert slack.responses == [] and slack.calls_to("chat.postEphemeral") == []  # nor elsewhere
    [entry] = await bot.runtime.journal.all()
    assert (entry.state, entry.delivery, entry.reason_kind) == (
        "rejected",
        "form",
        "B2CValidationError",
    )


async def test_unattributable_refusal_goes_to_the_top_of_the_form(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    view = await opened_form(bot, slack)
    sandbox.inject(
        B2CSandboxFault(
            status=400,
            body={
                "type": "x",
                "title": "Bad",
                "status": 400,
                "o:errorCode": "OSC-CREST-00012",
                "detail": "A problem was encountered creating the resource",
            },
        )
    )
    await bot.interact(submission(view, {"name": text_value("Anything")}))
    await bot.finished()
    form = slack.calls_to("views.update")[-1].args["view"]
    top = form["blocks"][0]["text"]["text"]
    assert "refused the task: A problem was encountered creating the resource" in top
    assert sandbox.tasks == {}
    assert blocks_by_id(form)["name"]["element"]["initial_value"] == "Anything"


async def test_double_submission_creates_one_task(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    view = await opened_form(bot, slack)
    payload = submission(view, {"name": text_value("Only once")})
    await asyncio.gather(bot.interact(payload), bot.interact(payload))
    await bot.finished()
    await bot.interact(payload)  # and again after it was created
    await bot.finished()
    assert len(sandbox.tasks) == 1


async def test_message_shortcut_prefills_and_answers_in_the_message_thread(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    shortcut = {
        "type": "message_action",
        "callback_id": "create_task_from_message",
        "team": {"id": "T1"},
        "user": {"id": "U1", "username": "jane"},
        "channel": {"id": "C7", "name": "escalations"},
        "trigger_id": "5.5",
        "response_url": slack.response_url("sc"),
        "message_ts": "1700000000.000200",
        "message": {
            "type": "message",
            "user": "U4",
            "ts": "1700000000.000200",
            "thread_ts": "1700000000.000100",
            "text": "Printer on floor 3 is on fire &amp; smoking "
            + "x" * 100
            + "\nSecond line with details",
        },
    }
    assert (await bot.interact(shortcut)).status_code == 200
    await bot.finished()
    [opened] = slack.calls_to("views.open")
    first = blocks_by_id(opened.args["view"])
    name = first["name"]["element"]["initial_value"]
    assert name.startswith("Printer on floor 3 is on fire & smoking") and name.endswith("…")
    assert len(name) <= 80
    [update] = slack.calls_to("views.update")
    view = {"id": update.args["view_id"], **update.args["view"]}
    fields = blocks_by_id(view)
    note = fields["note"]["element"]["initial_value"]
    assert "Second line with details" in note
    assert "https://fake.slack.test/archives/C7/p1700000000000200" in note
    assert fields["contact"]["element"]["initial_option"]["value"] == "84"  # the author

    await bot.interact(
        submission(
            view, {"name": text_value(name), "contact": option("84"), "note": text_value(note)}
        )
    )
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["contact"] == {"id": 84}
    assert create.body["notes"][0]["text"] == "Created from Slack by Jane Doe in #escalations"
    assert slack.top_messages("C7") == []  # nothing new in the channel itself
    [reply] = slack.thread_replies("C7", "1700000000.000100")  # the message's parent thread
    assert "Task #100 created" in reply.text
    assert "task_complete" in json.dumps(reply.blocks)


async def created_task(bot: Bot, slack: SlackFake) -> tuple[Any, dict[str, Any]]:
    """Create a task by command; its task message and the button value on it."""
    await bot.command("Return customer call @contact 83")
    await bot.finished()
    [parent] = slack.top_messages("C1")
    return parent, buttons_of(parent)


def buttons_of(message: Any) -> dict[str, Any]:
    """The buttons (and selects) a message shows now, by action id."""
    actions = next(b for b in message.blocks if b["type"] == "actions")
    return {e["action_id"]: e for e in actions["elements"]}


def click(parent: Any, action: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return block_action({**action, **extra}, user="U2", message_ts=parent.ts, text=parent.text)


async def test_mark_complete_patches_and_updates_the_task_message(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent, buttons = await created_task(bot, slack)
    response = await bot.interact(click(parent, buttons["task_complete"]))
    assert response.status_code == 200
    await bot.finished()
    [patch] = sandbox.requests_to("PATCH", "/tasks/100")
    # Oracle only sees the bot's account: a note says who did it
    assert patch.body == {
        "statusWithType": {"status": {"id": 18}},
        "notes": [{"text": "Marked complete by Sam Agent in Slack"}],
    }
    assert "*Completed*" in parent.blocks[0]["text"]["text"]
    replies = slack.thread_replies("C1", parent.ts)
    assert "<@U2> marked task #100 complete. Status is now *Completed*." in replies[-1].text
    # the buttons follow the status: no Mark complete on a completed task, back on reopening
    buttons = buttons_of(parent)
    assert "task_complete" not in buttons and "task_status" in buttons
    reopen = next(
        o for o in buttons["task_status"]["options"] if o["text"]["text"] == "In Progress"
    )
    await bot.interact(
        click(parent, {"action_id": "task_status", "type": "static_select"}, selected_option=reopen)
    )
    await bot.finished()
    assert "task_complete" in buttons_of(parent)


async def test_change_status_from_the_select(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent, buttons = await created_task(bot, slack)
    waiting = next(o for o in buttons["task_status"]["options"] if o["text"]["text"] == "Waiting")
    await bot.interact(
        click(
            parent, {"action_id": "task_status", "type": "static_select"}, selected_option=waiting
        )
    )
    await bot.finished()
    [patch] = sandbox.requests_to("PATCH", "/tasks/100")
    assert patch.body == {
        "statusWithType": {"status": {"id": 19}},
        "notes": [{"text": "Status set to Waiting by Sam Agent in Slack"}],
    }
    assert "Waiting" in parent.blocks[0]["text"]["text"]
    assert (
        "changed the status of task #100 to *Waiting*"
        in slack.thread_replies("C1", parent.ts)[-1].text
    )


async def test_refused_change_is_reported_in_the_thread(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent, _buttons = await created_task(bot, slack)
    bogus = {
        "value": json.dumps({"t": 100, "r": "U1", "s": 99}),
        "text": {"type": "plain_text", "text": "Gone"},
    }
    await bot.interact(
        click(parent, {"action_id": "task_status", "type": "static_select"}, selected_option=bogus)
    )
    await bot.finished()
    last = slack.thread_replies("C1", parent.ts)[-1].text
    assert "could not change the status of task #100" in last
    assert "No status in B2C Service has the ID 99." in last
    assert sandbox.tasks[100]["statusWithType"]["status"]["lookupName"] == "Not Started"


async def test_add_note_opens_a_form_and_adds_the_note(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent, buttons = await created_task(bot, slack)
    await bot.interact(click(parent, buttons["task_note"]))
    await bot.finished()
    note_form = slack.calls_to("views.open")[-1].args["view"]
    assert note_form["callback_id"] == "task_note_form"
    empty = await bot.interact(submission(note_form, {"note": text_value("")}, user="U2"))
    assert empty.json()["response_action"] == "errors"
    await bot.interact(
        submission(note_form, {"note": text_value("Called, <!here> no answer")}, user="U2")
    )
    await bot.finished()
    assert sandbox.requests_to("PATCH", "/tasks/100") == []  # a note alone is appended:
    [added] = sandbox.requests_to("POST", "/tasks/100/notes")  # Oracle's own way
    assert added.body == {"text": "Sam Agent in Slack: Called, <!here> no answer"}
    last = slack.thread_replies("C1", parent.ts)[-1].text
    assert "<@U2> added a note to task #100" in last and "&lt;!here&gt;" in last


def found(value: str, text: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


@pytest.mark.parametrize(
    ("typed", "expected_literal", "options"),
    [
        ("O'Br", "'%O''Br%'", [found("85", "Zoë O'Brien · zoe@example.org")]),
        ("50%", "'%50_%'", [found("87", "50% Off Ltd · deals@fifty.example")]),
        ("under_s", "'%under_s%'", [found("89", "Ann under_score · ann@under.example")]),
        ("back\\slash", "'%back\\slash%'", [found("91", "Back\\Slash Ltd · bs@example.com")]),
        ("Zoë", "'%Zoë%'", [found("85", "Zoë O'Brien · zoe@example.org")]),
        ("東京", "'%東京%'", []),
        ("山田", "'%山田%'", [found("92", "山田 太郎 · yamada@example.jp")]),
    ],
)
async def test_contact_search_quotes_roql_as_oracle_does(
    bot: Bot, sandbox: B2CSandbox, typed: str, expected_literal: str, options: list[Any]
) -> None:
    response = await bot.interact(
        {
            "type": "block_suggestion",
            "block_id": "contact",
            "action_id": "value",
            "value": typed,
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "api_app_id": "A1",
            "view": {"id": "V1", "callback_id": "task_form", "type": "modal"},
        }
    )
    assert response.status_code == 200
    [query] = sandbox.requests_to("GET", "/queryResults")
    assert f"lookupName like {expected_literal}" in query.query["query"]
    assert response.json()["options"] == options


async def test_organization_search(bot: Bot, sandbox: B2CSandbox) -> None:
    response = await bot.interact(
        {
            "type": "block_suggestion",
            "block_id": "org",
            "action_id": "value",
            "value": "& part",
            "team": {"id": "T1"},
            "user": {"id": "U1"},
            "api_app_id": "A1",
            "view": {"id": "V1", "callback_id": "task_form", "type": "modal"},
        }
    )
    assert response.json()["options"] == [
        {"text": {"type": "plain_text", "text": "Initech & Partners"}, "value": "3"}
    ]


async def test_show_and_mine(bot: Bot, sandbox: B2CSandbox, slack: SlackFake) -> None:
    for text in (
        "Mine, open @assign <@U1>",
        "Mine, done @assign jdoe @status Completed",
        "Not mine @assign sagent",
    ):
        await bot.command(text, raw=True)
        await bot.finished()
    answers = []
    for text, user in (("show 100", "U1"), ("show 999", "U1"), ("mine", "U1"), ("mine", "U3")):
        await bot.command(text, user=user)
        await bot.finished()
        answers.append(json.dumps(slack.responses[-1]))
    shown, missing, mine, nobody = answers
    assert "Task #100" in shown and "Not Started" in shown
    assert "There is no task #999" in missing
    assert "#100" in mine and "Mine, open" in mine
    assert "Mine, done" not in mine and "Not mine" not in mine
    assert "No Oracle B2C Service staff account has No Match's e-mail" in nobody


async def test_form_refuses_a_name_longer_than_the_site_allows(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sandbox.name_max_length = 50
    await bot.runtime.creator.limits.learn(bot.runtime.b2c)
    view = await opened_form(bot, slack)
    name_input = next(b for b in view["blocks"] if b.get("block_id") == "name")
    assert name_input["element"]["max_length"] == 50  # Slack stops the typing there
    response = await bot.interact(submission(view, {"name": text_value("n" * 51)}))
    ack = response.json()
    assert ack["response_action"] == "errors"
    assert "at most 50 characters" in ack["errors"]["name"]
    await bot.finished()
    assert sandbox.requests_to("POST", "/tasks") == []


@pytest.mark.parametrize(
    ("who", "allowed", "refused"),
    [("requester", "U1", "U2"), ("assignee", "U2", "U1")],
)
async def test_task_buttons_for_limits_who_may_press_them(
    sandbox: B2CSandbox, slack: SlackFake, who: str, allowed: str, refused: str
) -> None:
    settings = make_settings(sandbox, slack, task_buttons_for=who)
    async with serving(settings, slack) as bot:
        # created by U1 (Jane), assigned to U2 (Sam, staff account 3)
        await bot.command("Return customer call @contact 83 @assign <@U2>")
        await bot.finished()
        [parent] = slack.top_messages("C1")
        complete = buttons_of(parent)["task_complete"]
        await bot.interact(
            block_action(complete, user=refused, message_ts=parent.ts, text=parent.text)
        )
        await bot.finished()
        assert sandbox.requests_to("PATCH", "/tasks/100") == []
        [whisper] = slack.calls_to("chat.postEphemeral")
        assert whisper.args["user"] == refused and "can change it from Slack" in str(
            whisper.args["text"]
        )
        await bot.interact(
            block_action(complete, user=allowed, message_ts=parent.ts, text=parent.text)
        )
        await bot.finished()
        assert len(sandbox.requests_to("PATCH", "/tasks/100")) == 1
