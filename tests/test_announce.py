"""Where a settled request's result goes, path by path, as the Slack fake receives it.

The task message and its thread first; where the bot may not post, the requester's
``response_url``, else a direct message; a task Oracle refused is told to the requester alone
(``response_url``, else an ephemeral message where they asked, else a direct message). Slack
being away keeps the result for later.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.requests import TaskRequest
from bot.flows.announce import Announcement, ResultDelivery
from bot.journal import Entry
from bot.oracle.catalog import NamedID
from bot.slack.delivery import SlackPoster
from bot.standins.slack_fake import SlackFake

TASK = {
    "id": 12,
    "lookupName": "Call back",
    "name": "Call back",
    "statusWithType": {
        "status": {"id": 16, "lookupName": "Not Started"},
        "statusType": {"id": 14, "lookupName": "Not Complete"},
    },
}
COMPOSED = {
    "name": "Call back",
    "details": [["Contact", "83"], ["Priority", "High"]],
    "refs": {"Contact": ["contacts", 83]},
}
REASON = json.dumps(["Oracle B2C Service refused the task", "No such Contact", "Fix it."])


class Catalog:
    async def get(self) -> dict[str, list[NamedID]]:
        return {"status": [NamedID(16, "Not Started"), NamedID(17, "In Progress")]}


class Names:
    async def name(self, table: str, record_id: int) -> str | None:
        return {
            ("contacts", 83): "Mary <Major>",
            ("accounts", 2): "Jane Agent",
            ("organizations", 7): "O" * 300,
        }.get((table, record_id))


class Responses:
    """``response_url``: records what was sent; answers ``ok`` (False: expired or refused)."""

    def __init__(self, ok: bool = True) -> None:
        self.ok = ok
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, url: str, message: dict[str, Any]) -> bool:
        self.sent.append((url, message))
        return self.ok


def entry(**changes: Any) -> Entry:
    values: dict[str, Any] = {
        "id": "req-1",
        "dedupe_key": "k",
        "kind": "command",
        "state": "created",
        "delivery": "pending",
        "request": {},
        "draft": {"name": "Call back"},
        "composed": COMPOSED,
        "task_id": 12,
        "task": TASK,
        "reason": None,
        "reason_kind": None,
        "parent_ts": None,
        "attempts": 1,
        "first_attempt_at": None,
        "created_at": 0.0,
    }
    return Entry(**{**values, **changes})


def refused(**changes: Any) -> Entry:
    return entry(state="rejected", task_id=None, task=None, reason=REASON, **changes)


REQUEST = TaskRequest(
    user_id="U1",
    channel_id="C1",
    response_url="https://hooks/r1",
    text="x",
    correlation_id="corr-1",
)
SHORTCUT = TaskRequest(
    user_id="U1", channel_id="C1", response_url="https://hooks/r1", thread_ts="5.5"
)


@pytest.fixture
async def client(slack: SlackFake) -> AsyncIterator[AsyncWebClient]:
    yield AsyncWebClient(token="xoxb-test", base_url=slack.api_url)


def delivery(client: AsyncWebClient, responses: Responses) -> ResultDelivery:
    return ResultDelivery(
        poster=SlackPoster(client),
        respond=responses,
        catalog=Catalog(),  # type: ignore[arg-type]
        link=lambda task_id: f"https://site/task/{task_id}",
        names=Names(),  # type: ignore[arg-type]
    )


def texts(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks"))


async def test_a_created_task_gets_its_message_and_thread(client, slack: SlackFake) -> None:
    responses = Responses()
    done, how = await delivery(client, responses).deliver(entry(), REQUEST)
    assert how == "thread"
    [parent] = slack.top_messages("C1")
    assert done.parent_ts == parent.ts
    assert "#12" in json.dumps(parent.blocks) and "task_complete" in json.dumps(parent.blocks)
    [reply] = slack.thread_replies("C1", parent.ts)
    assert "Mary &lt;Major&gt; (83)" in json.dumps(reply.blocks)  # Oracle's name for the id
    assert "High" in json.dumps(reply.blocks)
    assert responses.sent == []


async def test_a_creating_message_is_updated_into_the_task_message(client, slack) -> None:
    done, how = await delivery(client, Responses()).deliver(entry(parent_ts="7.7"), REQUEST)
    assert (how, done.parent_ts) == ("thread", "7.7")
    [update] = slack.calls_to("chat.update")
    assert (update.args["channel"], update.args["ts"]) == ("C1", "7.7")
    assert "#12" in json.dumps(update.args["blocks"])
    [posted] = slack.calls_to("chat.postMessage")
    assert posted.args["thread_ts"] == "7.7"


async def test_a_shortcut_result_is_the_reply_in_the_message_thread(client, slack) -> None:
    done, how = await delivery(client, Responses()).deliver(entry(), SHORTCUT)
    assert how == "thread"
    [posted] = slack.calls_to("chat.postMessage")
    assert posted.args["thread_ts"] == "5.5" and done.parent_ts is not None
    assert "task_complete" in json.dumps(posted.args["blocks"])  # the buttons are in the reply


@pytest.mark.parametrize("request_", [REQUEST, SHORTCUT], ids=["command", "shortcut"])
async def test_where_the_bot_may_not_post_the_result_goes_by_response_url_with_a_hint(
    client, slack: SlackFake, request_: TaskRequest
) -> None:
    slack.fail("chat.postMessage", "not_in_channel")
    responses = Responses()
    _done, how = await delivery(client, responses).deliver(entry(), request_)
    assert how == "response_url"
    [(url, message)] = responses.sent
    assert url == "https://hooks/r1"
    assert "Invite it" in texts(message)  # the hint, last
    assert "Task #12 created" in message["text"]


async def test_then_by_direct_message_without_the_hint(client, slack: SlackFake) -> None:
    slack.fail("chat.postMessage", "not_in_channel")
    _done, how = await delivery(client, Responses(ok=False)).deliver(entry(), REQUEST)
    assert how == "direct_message"
    dm = slack.calls_to("chat.postMessage")[-1]
    assert dm.args["channel"] == "U1" and "Invite it" not in json.dumps(dm.args["blocks"])


async def test_nowhere_to_post_is_lost_and_logged(client, slack: SlackFake, caplog) -> None:
    slack.fail("chat.postMessage", "not_in_channel", "cannot_dm_bot")
    with caplog.at_level(logging.ERROR, logger="bot.flows.announce"):
        _done, how = await delivery(client, Responses(ok=False)).deliver(entry(), REQUEST)
    assert how == "lost"
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert said == ["[corr-1] the result could not be delivered to Slack"]


@pytest.mark.parametrize(
    ("errors", "parent_posted"),
    [(["service_unavailable"], False), (["", "service_unavailable"], True)],
    ids=["the task message", "its thread reply"],
)
async def test_slack_away_keeps_the_result_and_says_so_once_for_the_operator(
    client, slack: SlackFake, caplog, errors: list[str], parent_posted: bool
) -> None:
    slack.fail("chat.postMessage", *errors)
    with caplog.at_level(logging.INFO, logger="bot.flows.announce"):
        done, how = await delivery(client, Responses()).deliver(entry(), REQUEST)
    assert how is None  # not delivered: kept, to be posted later
    assert (done.parent_ts is not None) is parent_posted  # what was done is kept with it
    said = [r.getMessage() for r in caplog.records if r.name == "bot.flows.announce"]
    assert said == [
        "[corr-1] Slack is not taking messages (service_unavailable): the result is kept and "
        "will be posted later"
    ]


async def test_a_thread_reply_refused_after_the_task_message_falls_back_without_the_hint(
    client, slack: SlackFake
) -> None:
    responses = Responses()
    poster = delivery(client, responses)
    original = poster.poster.post
    calls = 0

    async def post(**kwargs: Any) -> str | None:
        nonlocal calls
        calls += 1
        return None if calls == 2 else await original(**kwargs)  # the reply is refused

    poster.poster.post = post  # type: ignore[method-assign]
    done, how = await poster.deliver(entry(), REQUEST)
    assert how == "response_url" and done.parent_ts is not None
    [(_url, message)] = responses.sent
    assert "Invite it" not in texts(message)


async def test_slack_away_in_the_middle_keeps_what_was_posted(client, slack: SlackFake) -> None:
    poster = delivery(client, Responses())
    original = poster.poster.post
    calls = 0

    async def post(**kwargs: Any) -> str | None:
        nonlocal calls
        calls += 1
        if calls == 2:
            slack.fail("chat.postMessage", "internal_error")
        return await original(**kwargs)

    poster.poster.post = post  # type: ignore[method-assign]
    done, how = await poster.deliver(entry(), REQUEST)
    assert how is None  # to be posted later
    [parent] = slack.top_messages("C1")
    assert done.parent_ts == parent.ts  # the task message is not posted twice


async def test_slack_away_before_anything_keeps_the_result(client, slack: SlackFake) -> None:
    slack.fail("chat.postMessage", "service_unavailable")
    done, how = await delivery(client, Responses()).deliver(entry(), REQUEST)
    assert how is None and done.parent_ts is None


async def test_a_failed_request_is_posted_with_retry(client, slack: SlackFake) -> None:
    failed = entry(state="failed", task_id=None, task=None, reason=REASON)
    _done, how = await delivery(client, Responses()).deliver(failed, REQUEST)
    assert how == "thread"
    [parent] = slack.top_messages("C1")
    assert "tried to create a task" in json.dumps(parent.blocks)
    [reply] = slack.thread_replies("C1", parent.ts)
    assert "request_retry" in json.dumps(reply.blocks) and "No such Contact" in json.dumps(
        reply.blocks
    )


async def test_a_refused_task_is_told_to_the_requester_alone(client, slack: SlackFake) -> None:
    responses = Responses()
    _done, how = await delivery(client, responses).deliver(refused(), REQUEST)
    assert how == "response_url"
    [(_url, message)] = responses.sent
    assert "request_edit" in texts(message) and "No such Contact" in texts(message)
    assert slack.calls_to("chat.postMessage") == [] and slack.calls_to("chat.update") == []


async def test_a_public_creating_message_of_a_refused_task_says_so_briefly(client, slack) -> None:
    _done, how = await delivery(client, Responses()).deliver(refused(parent_ts="7.7"), REQUEST)
    assert how == "response_url"
    [update] = slack.calls_to("chat.update")
    assert (update.args["channel"], update.args["ts"]) == ("C1", "7.7")
    assert "they were told why" in json.dumps(update.args["blocks"])
    assert "&lt;@U1&gt;" not in json.dumps(update.args["blocks"])
    assert "<@U1>" in json.dumps(update.args["blocks"])


@pytest.mark.parametrize(
    ("request_", "thread"), [(REQUEST, None), (SHORTCUT, "5.5")], ids=["command", "shortcut"]
)
async def test_a_refusal_without_response_url_is_whispered_where_they_asked(
    client, slack: SlackFake, request_: TaskRequest, thread: str | None
) -> None:
    _done, how = await delivery(client, Responses(ok=False)).deliver(refused(), request_)
    assert how == "ephemeral"
    [whisper] = slack.calls_to("chat.postEphemeral")
    assert (whisper.args["channel"], whisper.args["user"]) == ("C1", "U1")
    assert whisper.args.get("thread_ts") == thread
    assert "request_edit" in json.dumps(whisper.args["blocks"])


async def test_then_in_a_direct_message_then_lost(client, slack: SlackFake) -> None:
    slack.fail("chat.postEphemeral", "not_in_channel", "not_in_channel")
    _done, how = await delivery(client, Responses(ok=False)).deliver(refused(), REQUEST)
    assert how == "direct_message"
    [dm] = slack.calls_to("chat.postMessage")
    assert dm.args["channel"] == "U1" and "request_edit" in json.dumps(dm.args["blocks"])
    slack.fail("chat.postMessage", "cannot_dm_bot")
    _done, how = await delivery(client, Responses(ok=False)).deliver(refused(), REQUEST)
    assert how == "lost"


class Journal:
    def __init__(self) -> None:
        self.parents: list[str] = []

    async def set_parent(self, entry: Entry, ts: str) -> None:
        self.parents.append(ts)


def announcement_of(client: AsyncWebClient, name: str) -> tuple[Announcement, Journal]:
    journal = Journal()
    made = Announcement(SlackPoster(client), journal, entry(), REQUEST, name)  # type: ignore[arg-type]
    return made, journal


async def test_retrying_posts_the_task_message_once_then_updates_it(client, slack) -> None:
    announcement, journal = announcement_of(client, "Call <b>")
    await announcement.retrying()
    [posted] = slack.calls_to("chat.postMessage")
    assert posted.args["channel"] == "C1" and "retrying" in json.dumps(posted.args["blocks"])
    assert "<@U1>" in json.dumps(posted.args["blocks"])
    assert journal.parents == [announcement.ts]
    await announcement.retrying()
    [update] = slack.calls_to("chat.update")
    assert (update.args["channel"], update.args["ts"]) == ("C1", announcement.ts)
    assert "retrying" in json.dumps(update.args["blocks"])
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_the_thread_names_what_was_given_by_id_or_login(client, slack: SlackFake) -> None:
    composed = {
        "name": "Call back",
        "details": [["Contact", "83"], ["Assigned to", "jdoe"], ["Organization", "7"]],
        "refs": {
            "Contact": ["contacts", 83],
            "Assigned to": ["accounts", 2],
            "Organization": ["organizations", 7],
        },
    }
    await delivery(client, Responses()).deliver(entry(composed=composed), REQUEST)
    [parent] = slack.top_messages("C1")
    [reply] = slack.thread_replies("C1", parent.ts)
    fields = [f["text"] for b in reply.blocks if "fields" in b for f in b["fields"]]
    assert "*Contact*\nMary &lt;Major&gt; (83)" in fields
    assert "*Assigned to*\nJane Agent" in fields  # a login is not repeated
    assert "*Organization*\n" + "O" * 199 + "… (7)" in fields  # a long name is cut


async def test_a_request_with_nothing_composed_is_still_told(client, slack: SlackFake) -> None:
    _done, how = await delivery(client, Responses()).deliver(
        entry(composed={"name": "Call back"}), REQUEST
    )
    assert how == "thread"


async def test_pending_posts_the_creating_message_once(client, slack: SlackFake) -> None:
    announcement, journal = announcement_of(client, "Call back")
    await announcement.pending()
    await announcement.pending()
    [posted] = slack.calls_to("chat.postMessage")
    assert "<@U1> is creating a task" in json.dumps(posted.args["blocks"])
    assert journal.parents == [announcement.ts]


CONFIRM = {
    "due": "2026-12-01T17:00:00+00:00",
    "asked": "2026-11-30T09:00:00+00:00",  # the due date was ahead when the user asked
    "tz": "Europe/Paris",
}


async def test_the_private_confirmation_judges_the_dates_when_the_user_asked(client) -> None:
    responses = Responses()
    composed = {**COMPOSED, "confirm": CONFIRM}
    await delivery(client, responses).confirm_privately(entry(composed=composed), REQUEST)
    [(url, message)] = responses.sent
    assert url == "https://hooks/r1"
    assert "Task *#12* Call back was created." in message["text"]
    assert "Due Tuesday 1 December 2026 at 18:00" in message["text"]
    assert "in the past" not in message["text"]  # the clock says 2 December; asked on the 30th


@pytest.mark.parametrize(
    "changes",
    [
        {"task_id": None, "task": None, "state": "failed"},  # no task: nothing to confirm
        {"kind": "form"},  # the form shows its own confirmation
        {"composed": COMPOSED},  # no dates
    ],
    ids=["no task", "form", "no dates"],
)
async def test_no_private_confirmation_without_a_command_task_with_dates(
    client, changes: dict
) -> None:
    responses = Responses()
    confirmed = entry(**{"composed": {**COMPOSED, "confirm": CONFIRM}, **changes})
    await delivery(client, responses).confirm_privately(confirmed, REQUEST)
    assert responses.sent == []
