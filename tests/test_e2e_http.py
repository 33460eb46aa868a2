"""End to end over real HTTP: signed slash commands in; what reaches Oracle and Slack out."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.demo import signed_headers
from bot.standins.sandbox import PASSWORD, USERNAME, B2CSandbox
from bot.standins.slack_fake import SlackFake
from tests.conftest import Bot, block_action, make_settings, serving


def all_text(message: dict[str, Any] | Any) -> str:
    """Everything a message shows: its text and every string inside its blocks."""
    if not isinstance(message, dict):
        message = {"text": message.text, "blocks": message.blocks}
    return message.get("text", "") + json.dumps(message.get("blocks") or [])


def the_thread(slack: SlackFake, channel: str = "C1") -> tuple[Any, Any]:
    """The one parent message in ``channel`` and the one reply in its thread."""
    [parent] = slack.top_messages(channel)
    [reply] = slack.thread_replies(channel, parent.ts)
    return parent, reply


def private_answer(slack: SlackFake) -> dict[str, Any]:
    """The last message only the requester saw (by the command's response_url)."""
    return slack.responses[-1]


def posted(slack: SlackFake) -> list[dict[str, Any]]:
    return [c.args for c in slack.calls if c.method in ("chat.postMessage", "chat.update")]


async def test_happy_path_creates_task_and_answers_in_thread(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    response = await bot.command("Return customer call @contact 83")
    assert response.status_code == 200
    assert response.content == b""  # a bare ack: the result comes in the thread
    await bot.finished()

    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body == {
        "name": "Return customer call",
        "contact": {"id": 83},
        "notes": [{"text": "Created from Slack by Jane Doe in #support"}],
    }
    expected_auth = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert create.headers["Authorization"] == expected_auth
    assert create.headers["OSvC-CREST-Application-Context"] == "Slack task bot"
    assert create.headers["Content-Type"] == "application/json"
    assert create.headers["Accept"] == "application/json"
    # every call asks for times in UTC, whatever the site's own zone
    assert {r.headers.get("OSvC-CREST-Time-UTC") for r in sandbox.requests} == {"yes"}
    assert len(sandbox.requests) > 1  # (the lookups and the POST)
    [task_id] = sandbox.tasks

    [parent] = slack.top_messages("C1")
    assert "<@U1>" in parent.text + json.dumps(parent.blocks)
    [reply] = slack.thread_replies("C1", parent.ts)
    reply_text = all_text(reply)
    link = f"{sandbox.base_url}/AgentWeb/Bookmark/Task/{task_id}"
    assert f"Task #{task_id} created" in reply_text
    assert "Not Started" in reply_text
    assert link in reply_text
    # Oracle answered at once: the task message was posted once, in its final state
    assert parent.history == []
    assert f"#{task_id}" in all_text(parent) and "Not Started" in all_text(parent)
    assert "task_complete" in all_text(parent)
    assert slack.responses == []


async def test_all_fields_reach_oracle(bot: Bot, sandbox: B2CSandbox, slack: SlackFake) -> None:
    await bot.command(
        "Send renewal quote @contact 84 @org Acme @assign <@U2|sam> @due 2026-12-01 14:30 "
        "@start 2026-11-30 @priority High @status In Progress @type Call @template Renewal call "
        "@incident 261128-000123 @answer 1234 @opportunity 77 @percent 25 "
        '@note "Call before @due, & mention <b>"',
    )
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    # U1 (Jane) is in America/New_York: 14:30 EST = 19:30 UTC; a date alone starts at 09:00
    assert create.body == {
        "name": "Send renewal quote",
        "contact": {"id": 84},
        "organization": {"lookupName": "Acme"},
        "assignedToAccount": {"id": 3},
        "dueTime": "2026-12-01T19:30:00.000Z",
        "startTime": "2026-11-30T14:00:00.000Z",
        "percentComplete": 25,
        # the names typed, checked against the site's and sent as its ids
        "priority": {"id": 3},
        "statusWithType": {"status": {"id": 17}},
        "taskType": {"id": 1},
        "taskTemplate": {"id": 2},
        "serviceSettings": {"incident": {"lookupName": "261128-000123"}, "answer": {"id": 1234}},
        "salesSettings": {"opportunity": {"id": 77}},
        "notes": [
            {"text": "Created from Slack by Jane Doe in #support"},
            {"text": "Call before @due, & mention <b>"},
        ],
    }
    queries = [r.query["query"] for r in sandbox.requests_to("GET", "/queryResults")]
    assert sorted(queries) == [
        "select id from accounts where emails.address = 'sam@example.com' limit 2",
        "select lookupName from contacts where id = 84",  # the thread shows names, not ids
    ]
    [task] = sandbox.tasks.values()
    assert task["statusWithType"]["status"]["lookupName"] == "In Progress"
    _parent, reply = the_thread(slack)
    assert "Carlos Salazar (84)" in all_text(reply)
    assert "Call before @due, &amp; mention &lt;b&gt;" in all_text(reply)  # the note, escaped
    assert "In Progress" in all_text(reply)
    assert "Sam Agent" in all_text(reply)


async def test_bad_signature_is_refused_and_nothing_reaches_oracle(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    response = await bot.command("Return customer call @contact 83", secret="not-the-secret")
    assert response.status_code == 401
    stale = await bot.command("Return customer call", timestamp=int(time.time()) - 600)
    assert stale.status_code == 401
    form = "command=%2Ftask&text=Call&user_id=U1&channel_id=C1"
    for headers in (  # no signature at all, a timestamp that is not a number: 401, not 500
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": "x"},
    ):
        unsigned = await bot.http.post(bot.url, content=form, headers=headers)
        assert unsigned.status_code == 401
    event = '{"type": "event_callback", "event": {"type": "message", "text": "hi"}}'
    unsigned = await bot.http.post(
        bot.url, content=event, headers={"Content-Type": "application/json"}
    )
    assert unsigned.status_code == 401
    await bot.finished()
    assert sandbox.requests == []
    assert posted(slack) == []


async def test_oracle_refusal_reaches_the_user_in_plain_words(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await bot.command("Return customer call @contact 209")
    await bot.finished()
    assert sandbox.tasks == {}
    assert posted(slack) == []  # the channel sees nothing: the mistake is the requester's
    answer = private_answer(slack)
    text = all_text(answer)
    assert answer["response_type"] == "ephemeral"
    assert "Oracle B2C Service refused the task" in text
    assert "No contact in B2C Service has the ID 209." in text
    assert "/task Return customer call @contact 209" in text  # the input is kept
    assert "request_edit" in text  # Edit and retry


async def test_a_refusal_after_a_public_creating_message_is_brief_in_public(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sandbox.latency = 2.5  # Oracle is slow: "creating…" goes public first
    await bot.command("Return customer call @contact 209")
    await bot.finished()
    [parent] = slack.top_messages("C1")
    assert "It could not be created; they were told why" in all_text(parent)
    assert "No such Contact" not in all_text(parent)
    assert slack.thread_replies("C1", parent.ts) == []
    assert "No contact in B2C Service has the ID 209." in all_text(private_answer(slack))


async def test_unknown_named_id_is_reported(bot: Bot, sandbox: B2CSandbox, slack: SlackFake):
    await bot.command("Call back @priority Urgentt")  # the site's values not loaded yet
    await bot.finished()
    said = all_text(private_answer(slack))
    assert "Priority must be one of: Low, Normal, High, Critical (not “Urgentt”)" in said
    assert sandbox.requests_to("POST", "/tasks") == []  # (the site's values are loaded first)


@pytest.mark.slow
async def test_slow_oracle_does_not_delay_the_ack(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sandbox.latency = 5.0
    started = time.monotonic()
    response = await bot.command("Return customer call @contact 83")
    ack_seconds = time.monotonic() - started
    assert response.status_code == 200
    assert sandbox.tasks == {}, "the ack waited for Oracle"
    assert ack_seconds < 3.0  # Slack's hard limit; Oracle alone takes 5 s here
    await slack.wait_for(lambda: slack.top_messages("C1"))  # "creating…" while Oracle works
    assert sandbox.tasks == {}
    assert "is creating a task" in all_text(slack.top_messages("C1")[0])
    await bot.finished()
    assert len(sandbox.tasks) == 1
    _parent, reply = the_thread(slack)
    assert "Not Started" in all_text(reply)


async def test_channel_the_bot_cannot_post_in_gets_the_result_by_response_url(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    slack.unreachable_channels.add("G1")
    await bot.command("Return customer call @contact 83", channel="G1", channel_name="privategroup")
    await bot.finished()
    [task_id] = sandbox.tasks
    assert slack.top_messages("G1") == []
    [response] = slack.responses
    assert response["response_type"] == "ephemeral"
    text = all_text(response)
    assert f"Task #{task_id} created" in text and "Not Started" in text
    assert f"/AgentWeb/Bookmark/Task/{task_id}" in text
    assert "could not post in this conversation" in text
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["notes"][0]["text"] == "Created from Slack by Jane Doe in a private channel"


async def test_thread_reply_failure_falls_back_to_response_url(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    original = slack._m_chat_postMessage

    def reply_fails(args: dict[str, Any]) -> dict[str, Any]:
        if args.get("thread_ts"):
            return {"ok": False, "error": "restricted_action"}
        return original(args)

    slack._m_chat_postMessage = reply_fails  # type: ignore[method-assign]
    await bot.command("Return customer call @contact 83")
    await bot.finished()
    assert len(sandbox.tasks) == 1
    [response] = slack.responses
    assert "created" in all_text(response)


async def test_mistakes_answer_ephemerally_and_send_nothing(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    cases = {
        "Call back @contat 83": "Did you mean @contact?",
        "Call back @contact 83 @contact 84": "@contact is given twice",
        "Call back @due": "@due has no value",
        "Call back @contact abc": "@contact needs a contact ID",
        "Call back @due someday maybe": "could not read “someday” in “someday maybe”",
        "Call back @percent 120": "from 0 to 100",
        "@contact 83": "The task needs a name",
    }
    for text, expected in cases.items():
        response = await bot.command(text)
        assert response.status_code == 200
        body = response.json()
        assert body["response_type"] == "ephemeral"
        shown = all_text(body)
        assert expected in shown, (text, shown)
        assert "Usage:" in shown
    await bot.finished()
    assert [r for r in sandbox.requests if r.path.startswith("/tasks")] == []
    assert posted(slack) == []
    # and each time the form opened with the mistake on it, so nothing typed is lost
    assert len(slack.calls_to("views.open")) == len(cases)


async def test_a_mistyped_show_or_mine_is_private_and_creates_nothing(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    for text in ("show abc", "show -1", "show", "mine all"):
        body = (await bot.command(text)).json()
        assert body["response_type"] == "ephemeral"
        assert "`/task show 12` shows task 12" in all_text(body) or "`/task mine`" in all_text(body)
        assert f"Create task “{text}”" in json.dumps(body, ensure_ascii=False)  # not pressed
    await bot.finished()
    assert sandbox.requests_to("POST", "/tasks") == [] and posted(slack) == []
    assert slack.calls_to("views.open") == []  # no task form for these


async def test_a_named_id_the_site_lacks_is_private_with_the_choices(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await bot.runtime.creator.catalog.get()  # loaded at start-up in a served bot
    body = (await bot.command("Call back @priority Urgent")).json()
    assert body["response_type"] == "ephemeral"
    assert "Priority must be one of: Low, Normal, High, Critical (not “Urgent”)" in all_text(body)
    body = (await bot.command("Call back @status Done")).json()
    assert "Status must be one of: Not Started, In Progress, Completed" in all_text(body)
    await bot.finished()
    assert sandbox.requests_to("POST", "/tasks") == [] and posted(slack) == []
    await bot.command("Call back @priority high @status 18")
    await bot.finished()
    assert len(sandbox.tasks) == 1


async def test_a_task_created_completed_offers_no_mark_complete(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await bot.command("Already done @status Completed")
    await bot.finished()
    [parent] = slack.top_messages("C1")
    assert "Completed" in all_text(parent)
    assert "task_complete" not in all_text(parent) and "task_note" in all_text(parent)


async def test_a_year_out_of_range_is_refused_privately_and_nothing_is_sent(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    """Whether a year is too far needs today's date: the bot tells once it has composed the
    task (the grammar, which has no clock, lets it by), and sends Oracle nothing."""
    await bot.command("Call back @due 1700-01-01")
    await bot.finished()
    assert sandbox.requests_to("POST", "/tasks") == []
    text = all_text(private_answer(slack))
    assert "“1700-01-01” is in 1700: give a date from" in text


async def test_dates_are_confirmed_privately_with_warnings(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await bot.command("Call back @contact 83")
    await bot.finished()
    assert slack.responses == []  # no dates: nothing to confirm beyond the thread
    await bot.command("Call back @due yesterday 10am @start today")
    await bot.finished()
    assert len(sandbox.tasks) == 2
    text = all_text(private_answer(slack))
    assert "at 10:00 (your time, America/New_York)" in text
    assert "The due date is in the past" in text and "The start is after the due date" in text


async def test_help_shows_usage(bot: Bot, sandbox: B2CSandbox, slack: SlackFake) -> None:
    for text in ("help", "?"):
        body = (await bot.command(text)).json()
        assert body["response_type"] == "ephemeral"
        assert "Examples:" in all_text(body) and "@contact" in all_text(body)
    assert sandbox.requests == []
    assert slack.calls_to("views.open") == []


async def test_escaping_never_produces_a_live_mention(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await bot.command("<!channel> &amp; <@U1> <!here|here> <!subteam^S1|@support>", raw=True)
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["name"] == "@channel & @Jane Doe @here @support"
    everything = "".join(all_text(m) for m in posted(slack))
    for live in ("<!channel>", "<!here", "<!subteam", "<@U1> &"):
        assert live not in everything
    assert "@channel &amp; @Jane Doe" in everything
    # the only live mention is the bot's own attribution of the requester
    assert everything.count("<@") == everything.count("<@U1>")


async def test_mistake_echo_is_escaped(bot: Bot, sandbox: B2CSandbox) -> None:
    body = (await bot.command("<!channel> @contact <!here>", raw=True)).json()
    shown = all_text(body)
    assert "<!channel>" not in shown and "<!here>" not in shown
    assert "&lt;!channel&gt;" in shown


async def test_assignee_without_staff_account_is_explained(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await bot.command("Call back @assign <@U3>", raw=True)
    await bot.finished()
    assert sandbox.requests_to("POST", "/tasks") == [] and posted(slack) == []
    answer = all_text(private_answer(slack))
    assert "No Oracle B2C Service staff account has No Match's e-mail" in answer
    assert "staff login" in answer


async def test_assignee_by_login(bot: Bot, sandbox: B2CSandbox) -> None:
    await bot.command("Call back @assign jdoe")
    await bot.finished()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["assignedToAccount"] == {"id": 2}


@pytest.mark.slow
async def test_oracle_down_is_reported_and_request_kept(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await sandbox.stop()
    await bot.command("Return customer call @contact 83")
    await bot.finished()
    _parent, reply = the_thread(slack)
    text = all_text(reply)
    assert "could not be reached" in text
    assert "/task Return customer call @contact 83" in text


async def test_burst_of_commands_all_complete(bot: Bot, sandbox: B2CSandbox, slack: SlackFake):
    responses = await asyncio.gather(*(bot.command(f"Task {i} @contact 83") for i in range(20)))
    assert {r.status_code for r in responses} == {200}
    await bot.finished()
    assert sorted(t["name"] for t in sandbox.tasks.values()) == sorted(
        f"Task {i}" for i in range(20)
    )
    assert len([m for m in slack.messages.values() if m.thread_ts]) == 20


async def test_link_button_click_is_acknowledged(bot: Bot, sandbox: B2CSandbox) -> None:
    from urllib.parse import urlencode

    from bot.demo import signed_headers

    payload = block_action({"action_id": "open_task", "type": "button", "url": "https://x"})
    body = urlencode({"payload": json.dumps(payload)})
    secret = bot.settings.slack_signing_secret.get_secret_value()
    response = await bot.http.post(bot.url, content=body, headers=signed_headers(secret, body))
    assert response.status_code == 200
    assert sandbox.requests == []


async def test_slash_commands_skip_bolts_dispatch_and_everything_else_uses_it(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    dispatched: list[str] = []
    dispatch = bot.runtime.app.async_dispatch

    async def counting(request: Any) -> Any:
        dispatched.append(
            request.body.get("type") or ("ssl_check" if "ssl_check" in request.body else "?")
        )
        return await dispatch(request)

    bot.runtime.app.async_dispatch = counting  # type: ignore[method-assign]
    created = await bot.command("Return customer call @contact 83")
    mistaken = await bot.command("Return customer call @contakt 83")
    helped = await bot.command("help")
    await bot.finished()
    assert created.status_code == 200 and created.text == ""
    assert "contact" in mistaken.json()["text"] and mistaken.json()["response_type"] == "ephemeral"
    assert "/task" in helped.text
    assert len(sandbox.tasks) == 1 and dispatched == []  # none of them went through Bolt

    key = bot.settings.slack_signing_secret.get_secret_value()  # type: ignore[union-attr]
    body = "token=x&ssl_check=1"
    ssl_check = await bot.http.post(bot.url, content=body, headers=signed_headers(key, body))
    click = await bot.interact(block_action({"action_id": "no_such_action", "value": "1"}))
    assert ssl_check.status_code == 200 and click.status_code in (200, 404)
    assert dispatched == ["ssl_check", "block_actions"]


@pytest.fixture
async def one_slot(sandbox: B2CSandbox, slack: SlackFake, database_url: str) -> AsyncIterator[Bot]:
    """A bot with one Oracle call at a time, that says "creating…" after 1 s."""
    settings = make_settings(sandbox, slack, database_url=database_url, b2c_max_concurrency=1)
    async with serving(settings, slack) as bot:
        bot.runtime.creator.procedure.announce_after = 1.0
        yield bot


@pytest.mark.slow
async def test_a_queued_burst_gets_no_creating_messages_a_slow_oracle_does(
    one_slot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    bot = one_slot
    sandbox.latency = 0.6  # each POST is quick enough; the fourth waits 1.8 s for its turn
    await asyncio.gather(*(bot.command(f"Call back customer {n} @contact 83") for n in range(4)))
    await bot.finished()
    assert len(sandbox.tasks) == 4 and len(slack.top_messages("C1")) == 4
    assert slack.calls_to("chat.update") == []  # no "creating…" message was replaced
    assert not any("is creating" in all_text(m) for m in slack.top_messages("C1"))

    sandbox.latency = 1.5  # Oracle itself is slow now
    await bot.command("Return customer call @contact 83")
    await slack.wait_for(lambda: len(slack.top_messages("C1")) == 5)
    assert "is creating a task" in all_text(slack.top_messages("C1")[-1])
    await bot.finished()
    assert len(sandbox.tasks) == 5
    assert "is creating" not in all_text(slack.top_messages("C1")[-1])  # replaced by the task


@pytest.mark.slow
async def test_a_request_queued_behind_slow_oracle_calls_is_announced(
    one_slot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    bot = one_slot
    sandbox.latency = 2.5
    await bot.command("Call back customer A @contact 83")
    await asyncio.sleep(0.6)
    await bot.command("Call back customer B @contact 83")  # waits for A's slot
    await slack.wait_for(lambda: len(slack.top_messages("C1")) == 2, limit=2.0)
    assert len(sandbox.tasks) == 0  # both told while A's POST is still out, B's not sent
    assert all("is creating" in all_text(m) for m in slack.top_messages("C1"))
    await bot.finished()
    assert len(sandbox.tasks) == 2


async def test_a_name_longer_than_the_site_allows_is_refused_privately(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    """The limit comes from the site's metadata (here 50), read at start-up."""
    sandbox.name_max_length = 50
    await bot.runtime.creator.limits.learn(bot.runtime.b2c)
    assert [r.path for r in sandbox.requests] == ["/metadata-catalog/tasks"]
    response = await bot.command("n" * 51 + " @contact 83")
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "51 characters long; B2C Service takes at most 50" in all_text(body)
    await bot.finished()
    assert sandbox.requests_to("POST", "/tasks") == [] and posted(slack) == []
    await bot.command("n" * 50 + " @contact 83")
    await bot.finished()
    assert len(sandbox.tasks) == 1


# ------------------------------------------------------------------ "creating…", quickly


async def test_a_creating_message_only_while_oracle_is_slow(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    """The slow tests above at a shorter scale: "creating…" after ``announce_after`` without
    an answer, and never for an answer that comes first."""
    bot.runtime.creator.procedure.announce_after = 0.5
    sandbox.slow["POST /tasks"] = 0.02  # only the POST is slow (or not)
    await bot.command("Quick call @contact 83")
    await bot.finished()
    [quick] = slack.top_messages("C1")
    assert "is creating" not in all_text(quick) and slack.calls_to("chat.update") == []

    sandbox.slow["POST /tasks"] = 1.2
    await bot.command("Slow call @contact 83")
    await slack.wait_for(lambda: len(slack.top_messages("C1")) == 2, limit=1.0)
    assert len(sandbox.tasks) == 1  # told while its POST is still out
    assert "<@U1> is creating a task" in all_text(slack.top_messages("C1")[-1])
    await bot.finished()
    [update] = slack.calls_to("chat.update")
    assert update.args["ts"] == slack.top_messages("C1")[-1].ts
    assert "#101" in all_text(slack.top_messages("C1")[-1])


async def test_a_request_queued_behind_a_slow_call_is_announced_quickly(
    one_slot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    bot = one_slot
    bot.runtime.creator.procedure.announce_after = 0.5
    sandbox.slow["POST /tasks"] = 1.5
    await bot.command("Call back customer A @contact 83")
    await asyncio.sleep(0.1)
    await bot.command("Call back customer B @contact 83")  # waits for A's slot
    await slack.wait_for(lambda: len(slack.top_messages("C1")) == 2, limit=1.2)
    assert sandbox.tasks == {}  # both told while A's POST is still out
    assert all("is creating" in all_text(m) for m in slack.top_messages("C1"))
    await bot.finished()
    assert len(sandbox.tasks) == 2


async def test_a_queued_burst_gets_no_creating_messages_quickly(
    one_slot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    """The slow burst test above at a shorter scale: each POST is quick (0.3 s, under the
    0.5 s of announce_after), the fourth waits 0.9 s for its turn: no "creating…" at all."""
    bot = one_slot
    bot.runtime.creator.procedure.announce_after = 0.5
    sandbox.slow["POST /tasks"] = 0.3
    await asyncio.gather(*(bot.command(f"Call back customer {n} @contact 83") for n in range(4)))
    await bot.finished()
    assert len(sandbox.tasks) == 4 and len(slack.top_messages("C1")) == 4
    assert slack.calls_to("chat.update") == []
    assert not any("is creating" in all_text(m) for m in slack.top_messages("C1"))


async def test_each_request_ends_in_one_log_line_an_operator_can_search(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, caplog: Any
) -> None:
    """One record per request outcome (README, Observability), its fields exact: what an
    operator filters JSON logs by."""
    from bot.standins.sandbox import Fault

    with caplog.at_level("INFO", logger="bot.flows.worker"):
        await bot.command("Return customer call @contact 83")
        await bot.finished()
        sandbox.inject(Fault(method="POST", path="/tasks", status=500))  # the second one fails
        await bot.command("Second call @contact 83", user="U2")
        await bot.finished()
    outcomes = [r for r in caplog.records if getattr(r, "event", None) == "task_request"]
    entries = {e.draft["name"]: e for e in await bot.runtime.journal.all()}
    created, failed = outcomes
    first, second = entries["Return customer call"], entries["Second call"]
    fields = {
        key: getattr(created, key)
        for key in (
            "correlation_id request_id team_id channel_id user_id kind state delivery task_id "
            "attempts reason_kind"
        ).split()
    }
    assert fields == {
        "correlation_id": first.request["correlation_id"],
        "request_id": first.id,
        "team_id": "T1",
        "channel_id": "C1",
        "user_id": "U1",
        "kind": "command",
        "state": "created",
        "delivery": "thread",
        "task_id": 100,
        "attempts": 1,
        "reason_kind": None,
    }
    said = f"request {first.request['correlation_id']}: created, delivery thread"
    assert created.getMessage() == said
    assert 0 <= created.run_ms <= created.age_ms  # the run is part of the request's age
    assert (failed.state, failed.user_id, failed.task_id, failed.reason_kind) == (
        "failed",
        "U2",
        None,
        "B2CServerError",
    )
    assert failed.request_id == second.id
    said = f"request {second.request['correlation_id']}: failed, delivery thread"
    assert failed.getMessage() == said
