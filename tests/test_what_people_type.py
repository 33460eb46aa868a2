"""What people type, driven as Slack drives the bot: task names that start with a subcommand's
word, and a day/month date read in the requester's own order (their Slack language) or asked
about, with one button per reading."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.domain.grammar import SUBCOMMANDS, parse
from bot.standins.sandbox import B2CSandbox
from bot.standins.slack_fake import SlackFake
from tests.conftest import Bot, block_action, slash_form, socket_mode_bot

TASK_NAMES = [  # ordinary support tasks: each created at once, as typed
    "Remind customer about renewal",
    "Show the new portal to Acme",
    "Sync with billing team",
    "Defaults to review",
    "Mine the logs for errors",
    "Show 3 demos to Acme",
    "Help customer reset password",
    "Show 12 to the customer",
    "Sync on the billing call",
]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        *[(name, "create") for name in TASK_NAMES],
        ("help", "help"),
        ("?", "help"),
        ("mine", "mine"),
        ("MINE", "mine"),
        ("show 12", "show"),
        ("show #12", "show"),
        ("sync", "sync"),
        ("sync on", "sync"),
        ("remind off", "remind"),
        ("defaults", "defaults"),
        ("defaults clear", "defaults"),
        ("defaults @org Acme", "defaults"),
        ("", "form"),
        # two words that start like a subcommand and do not fit it: asked
        ("show abc", "unclear"),
        ("show", "unclear"),
        ("sync please", "unclear"),
        ("remind tomorrow", "unclear"),
        ("help me", "unclear"),
        ("mine all", "unclear"),
        ("defaults acme", "unclear"),
        ("show abc @contact 83", "unclear"),
        # three words or more: a task
        ("show abc please", "create"),
        ("mine all the logs", "create"),
        ("Sync billing now @contact 83", "create"),
    ],
)
def test_a_subcommand_only_when_it_fits_its_form(text: str, kind: str) -> None:
    parsed = parse(text)
    assert parsed.kind == kind
    if kind == "unclear":
        assert parsed.option in SUBCOMMANDS and parsed.draft is not None
        assert parsed.draft.name == text.split(" @")[0]


def test_every_subcommand_has_its_usage_for_the_question() -> None:
    words = {parse(text).option for text in ("show x", "sync x", "remind x", "help x")}
    words |= {parse(text).option for text in ("mine x", "defaults x")}
    words |= {parse(text).option for text in ("subscribe x", "subscriptions x", "unsubscribe x")}
    assert words == set(SUBCOMMANDS)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in message.get("blocks", [])
        if block.get("type") == "actions"
        for element in block["elements"]
        if element.get("action_id") == "create_as_task"
    ]


def press(
    slack: SlackFake, button: dict[str, Any], *, user: str = "U1", ts: str = "55.1"
) -> dict[str, Any]:
    """A click on a button of the ephemeral answer (Slack marks the message ephemeral)."""
    payload = block_action(
        {"action_id": button["action_id"], "value": button["value"], "type": "button"},
        user=user,
        message_ts=ts,
    )
    payload["container"]["is_ephemeral"] = True
    payload["response_url"] = slack.response_url("q")
    return payload


def local(moment: str, tz: str = "America/New_York") -> str:
    return (
        datetime.fromisoformat(moment.replace("Z", "+00:00"))
        .astimezone(ZoneInfo(tz))
        .strftime("%m-%d %H:%M")
    )


@pytest.mark.parametrize("name", TASK_NAMES)
async def test_a_name_starting_with_a_subcommands_word_is_a_task(
    bot: Bot, sandbox: B2CSandbox, name: str
) -> None:
    response = await bot.command(f"{name} @contact 83")
    await bot.finished()
    assert response.status_code == 200
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["name"] == name


async def test_an_unclear_command_shows_the_usage_beside_one_button_that_creates_it(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    answer = (await bot.command("show abc")).json()
    assert answer["response_type"] == "ephemeral"
    shown = json.dumps(answer, ensure_ascii=False)
    assert "`/task show 12` shows task 12" in shown
    [button] = buttons(answer)
    assert button["text"]["text"] == "Create task “show abc”"
    assert sandbox.requests == []
    for _ in range(2):  # pressed twice (or Slack redelivers): one task
        response = await bot.interact(press(slack, button))
        assert response.status_code == 200
        await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["name"] == "show abc"
    assert {"delete_original": True}.items() <= slack.responses[0].items()  # the question goes
    [parent] = slack.top_messages("C1")
    assert "show abc" in json.dumps(parent.blocks)


async def test_a_button_for_a_task_that_cannot_be_created_says_why(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    button = {"action_id": "create_as_task", "value": json.dumps({"text": "x @percent 400"})}
    await bot.interact(press(slack, button))
    await bot.finished()
    assert sandbox.requests == []
    assert "from 0 to 100" in json.dumps(slack.responses[-1])
    for junk in ("not json", "[1]", json.dumps({"text": ""}), json.dumps({"text": 5})):
        response = await bot.interact(press(slack, {"action_id": "create_as_task", "value": junk}))
        assert response.status_code == 200
    await bot.finished()
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("user", "due"),
    [
        ("U1", "04-03 17:00"),  # en-US: the month first, 3 April
        ("U2", "03-04 17:00"),  # fr-FR: the day first, 4 March
        ("U3", "04-03 17:00"),  # ja-JP: the month first
    ],
)
async def test_a_day_and_month_follow_the_requesters_language(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, user: str, due: str
) -> None:
    await bot.command("Call back @due 04/03 @contact 83", user=user)
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    tz = slack.users[user]["tz"]
    assert local(create.body["dueTime"], tz) == due
    assert len(slack.calls_to("users.info")) == 1  # the language comes with the zone: no more


async def test_an_unclear_date_nothing_settles_is_asked_with_both_readings(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    del slack.users["U1"]["locale"]  # Slack did not say the requester's language
    answer = (await bot.command("Call 04/03 back @due 04/03 3pm @contact 83")).json()
    assert answer["response_type"] == "ephemeral"
    assert "Which date did you mean?" in answer["text"]
    first, second = buttons(answer)
    assert (first["text"]["text"], second["text"]["text"]) == ("Due 4 March", "Due 3 April")
    assert sandbox.requests == []
    await bot.interact(press(slack, second))
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert local(create.body["dueTime"]) == "04-03 15:00"
    assert create.body["name"] == "Call 04/03 back"  # only the date was rewritten
    await bot.interact(press(slack, first))  # the other button of the same question: still one task
    await bot.finished()
    assert len(sandbox.requests_to("POST", "/tasks")) == 1


async def test_an_unclear_date_waits_no_longer_than_the_ack_allows(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    slack.fail("users.info", "ratelimited")
    answer = (await bot.command("Call back @due 4/3")).json()
    assert "Which date did you mean?" in answer["text"]
    assert len(buttons(answer)) == 2


async def test_over_socket_mode_the_questions_and_their_buttons_work(
    sandbox: B2CSandbox, slack: SlackFake
) -> None:
    del slack.users["U1"]["locale"]
    async with socket_mode_bot(sandbox, slack) as runtime:
        command = slash_form("/task sync maybe", response_url=slack.response_url("s"))
        ack = await slack.send_envelope("slash_commands", command)
        [button] = buttons(ack["payload"])
        await slack.send_envelope("interactive", press(slack, button))
        command = slash_form("/task Call back @due 4/3", response_url=slack.response_url("s"))
        ack = await slack.send_envelope("slash_commands", command)
        day_first, _ = buttons(ack["payload"])
        await slack.send_envelope("interactive", press(slack, day_first, ts="56.1"))
        await runtime.creator.wait_idle()
    first, second = sandbox.requests_to("POST", "/tasks")
    assert first.body["name"] == "sync maybe"
    assert second.body["name"] == "Call back"
    moment = datetime.fromisoformat(second.body["dueTime"].replace("Z", "+00:00"))
    assert (moment.month, moment.day) == (3, 4)
    assert moment > datetime.now(UTC)


# ------------------------------------------------------------------ clearer answers
async def test_assign_me_is_the_requester_and_an_email_finds_the_staff_account(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await bot.command("Call back @assign me", user="U2")  # Sam: staff account 3
    await bot.command("Email back @assign jane@example.com")  # not a login: an e-mail
    await bot.finished()
    made = {r.body["name"]: r.body for r in sandbox.requests_to("POST", "/tasks")}
    assert made["Call back"]["assignedToAccount"] == {"id": 3}
    assert made["Email back"]["assignedToAccount"] == {"id": 2}
    await bot.command("Write back @assign nobody@example.net")
    await bot.finished()
    said = json.dumps(slack.responses[-1], ensure_ascii=False)
    assert "No Oracle B2C Service staff account has the login or e-mail" in said
    assert "No task was created in B2C Service" in said
    assert len(sandbox.requests_to("POST", "/tasks")) == 2


async def test_an_incident_as_b2c_service_shows_it(bot: Bot, sandbox: B2CSandbox) -> None:
    await bot.command("Call back @incident #261128-000123")
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["serviceSettings"]["incident"] == {"lookupName": "261128-000123"}


async def test_the_thread_shows_the_sites_names_once(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await bot.command("Call back @priority high @status in progress @type call")
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["priority"] == {"id": 3}  # the site's own, by id
    [parent] = slack.top_messages("C1")
    [reply] = slack.thread_replies("C1", parent.ts)
    shown = json.dumps(reply.blocks, ensure_ascii=False)
    assert "*Priority*\\nHigh" in shown and "*Type*\\nCall" in shown
    assert "*Status*\\nIn Progress" in shown and "Requested status" not in shown
    assert "high" not in shown and "in progress" not in shown


async def test_a_command_with_a_mistake_opens_the_form_with_the_contacts_name(
    bot: Bot, slack: SlackFake
) -> None:
    await bot.command("Call back @contact 83 @percent 400")
    await bot.finished()
    view = (slack.calls_to("views.update") or slack.calls_to("views.open"))[-1].args["view"]
    contact = next(b for b in view["blocks"] if b.get("block_id") == "contact")
    assert contact["element"]["initial_option"]["text"]["text"] == "Mary Major"


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("@org acme", "No organization in B2C Service is named “acme” (exactly so"),
        ("@incident 261128-999999", "No incident in B2C Service has the reference number"),
        ("@contact 209", "No contact in B2C Service has the ID 209."),
        ("@contact 86", "Contact 86 is disabled in B2C Service."),
    ],
)
async def test_oracles_refusals_of_a_reference_in_plain_words(
    bot: Bot, slack: SlackFake, typed: str, said: str
) -> None:
    await bot.command(f"Call back {typed}")
    await bot.finished()
    assert said in json.dumps(slack.responses[-1], ensure_ascii=False)
