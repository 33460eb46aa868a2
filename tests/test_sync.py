"""Synced threads, Oracle → Slack: what an agent changes in B2C Service reaches the task's
thread and task message; the bot's own changes are not echoed; a round's Oracle calls grow with
the changed tasks, not the tracked ones; two processes tell each change once."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app import build_runtime
from bot.oracle import roql
from bot.settings import Mode
from bot.standins.sandbox import B2CSandbox, Fault
from bot.standins.slack_fake import SlackFake
from tests.conftest import Bot, make_settings, serving
from tests.test_e2e_interactive import buttons_of, click, created_task

IN_PROGRESS = 17  # the sandbox's status ids (seeded named IDs)


# ------------------------------------------------------------------ driven as Slack and an agent
def replies(slack: SlackFake, parent: Any) -> list[str]:
    return [m.text for m in slack.thread_replies("C1", parent.ts)]


async def test_an_agents_change_reaches_the_thread_and_the_task_message(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent, sync = await followed_task(bot, slack)
    assert await sync.poll_once() == 0  # nothing changed yet: nothing said
    before = len(replies(slack, parent))
    sandbox.agent_edit(
        100,
        {
            "statusWithType": {"status": {"id": IN_PROGRESS}},
            "assignedToAccount": {"id": 2},
            "notes": [{"text": "Called <the> customer & left a message"}],
        },
    )
    assert await sync.poll_once() == 2
    said = replies(slack, parent)[before:]
    assert said[0] == (
        ":arrows_counterclockwise: Status: Not Started → In Progress · Assigned to: Jane Doe "
        "· changed in B2C Service"
    )
    assert said[1].startswith(":memo: Note added in B2C Service (<http")
    assert said[1].endswith("|task #100>):\n>Called &lt;the&gt; customer &amp; left a message")
    text = parent.blocks[0]["text"]["text"]  # the task message, updated in place
    assert "*In Progress*" in text and "Jane Doe" in text and "<@U1> created task" in text
    assert "task_status" in buttons_of(parent)  # the status menu is still there
    # the cursor is the newest change told; the next round asks from just before it
    newest = datetime.fromisoformat(sandbox.tasks[100]["updatedTime"])
    assert datetime.fromisoformat(await sync.store.cursor() or "") == newest
    assert await sync.poll_once() == 0  # told once
    [*_, last] = [
        r.query["query"]
        for r in sandbox.requests_to("GET", "/queryResults")
        if "updatedTime >" in r.query["query"]
    ]
    assert roql.time_literal(newest - timedelta(seconds=5)) in last


async def test_a_note_added_in_oracle_is_cut_to_fit_and_a_failing_listener_stops_nothing(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, caplog
) -> None:
    parent, sync = await followed_task(bot, slack)

    async def broken(task_id: int, before: dict, after: dict) -> None:
        raise RuntimeError("a listener's bug")

    heard: list[tuple] = []

    async def listening(task_id: int, before: dict, after: dict) -> None:
        heard.append((task_id, before.get("status"), after.get("status")))

    sync.on_change[:0] = [broken, listening]
    sandbox.later()  # a note alone, a moment later: a newer updatedTime
    sandbox.agent_edit(100, {"notes": [{"text": "n" * 2000}, {"text": "second"}]})
    assert await sync.poll_once() == 2  # a line for each note
    said = replies(slack, parent)[-2]
    assert said.endswith(">" + "n" * 1499 + "…")
    assert "/AgentWeb/Bookmark/Task/100|task #100>" in said
    assert "thread sync: after task 100's change" in caplog.text
    assert heard == [(100, "Not Started", "Not Started")]  # the others are still told


async def test_the_bots_own_changes_are_not_echoed(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent, buttons = await created_task(bot, slack)
    sync = bot.runtime.sync
    assert sync is not None
    await bot.interact(click(parent, buttons["task_complete"]))
    await bot.finished()
    assert await sync.poll_once() == 0
    assert not any("changed in B2C Service" in r for r in replies(slack, parent))
    assert not any("Note added in B2C Service" in r for r in replies(slack, parent))
    assert "*Completed*" in parent.blocks[0]["text"]["text"]
    assert "task_complete" not in buttons_of(parent)
    # and an agent's change after it is told
    sandbox.agent_edit(100, {"statusWithType": {"status": {"id": IN_PROGRESS}}})
    assert await sync.poll_once() == 1
    assert "Status: Completed → In Progress" in replies(slack, parent)[-1]


async def test_a_rounds_oracle_calls_grow_with_the_changed_tasks_not_the_tracked(
    sandbox: B2CSandbox, slack: SlackFake, database_url: str
) -> None:
    # the in-process sandbox answers each query over 10,000 tasks on this test's own event
    # loop, holding it for a second or more: a longer heartbeat, so that the bot does not
    # take that for a lost database (a real Oracle answers from another machine)
    settings = make_settings(sandbox, slack, database_url=database_url, journal_heartbeat=20)
    async with serving(settings, slack) as bot:
        await _calls_grow_with_the_changed_tasks(bot, sandbox, slack)


async def followed_task(bot: Bot, slack: SlackFake) -> tuple[Any, Any]:
    """A task created by /task, its thread followed: (its task message, the thread sync)."""
    parent, _ = await created_task(bot, slack)
    sync = bot.runtime.sync
    assert sync is not None
    return parent, sync


async def follow(store: Any, task_id: int, ts: str) -> None:
    """A thread in C1 (its message at ``ts``) that follows a Not Started task."""
    await store.track(
        task_id,
        team_id="T1",
        channel_id="C1",
        message_ts=ts,
        thread_ts=ts,
        requester="U1",
        shown={"status": "Not Started"},
        notes_seen=0,
    )


async def _calls_grow_with_the_changed_tasks(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sync = bot.runtime.sync
    assert sync is not None
    sandbox.bulk_tasks(1_000_000, 10_000)

    async def track(number: int) -> None:
        await follow(sync.store, 1_000_000 + number, f"{number}.1")

    # ten thousand threads follow tasks nobody changes
    for start in range(0, 10_000, 500):
        await asyncio.gather(*(track(n) for n in range(start, start + 500)))
    await created_task(bot, slack)
    await sync.poll_once()
    sandbox.agent_edit(100, {"statusWithType": {"status": {"id": IN_PROGRESS}}})
    calls_before = len(sandbox.requests)
    assert await sync.poll_once() == 1
    calls = [f"{r.method} {r.path}" for r in sandbox.requests[calls_before:]]
    # one page of changes; for the one changed tracked task, its notes (its message is
    # redrawn from the row); and one query for whether a few tracked tasks were deleted
    assert sorted(calls) == ["GET /queryResults", "GET /queryResults", "GET /tasks/100/notes"]
    assert await sync.store.count() == 10_001


async def test_two_processes_tell_each_change_once(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    if not bot.settings.journal_url.startswith("postgresql"):
        pytest.skip("several processes share a PostgreSQL journal")
    other = await build_runtime(bot.settings, Mode.HTTP)  # a second bot on the same database
    try:
        parent, _ = await created_task(bot, slack)
        assert bot.runtime.sync is not None and other.sync is not None
        await bot.runtime.sync.poll_once()
        sandbox.agent_edit(100, {"statusWithType": {"status": {"id": IN_PROGRESS}}})
        told = await asyncio.gather(
            bot.runtime.sync.poll_once(), other.sync.poll_once(), other.sync.poll_once()
        )
        assert sum(told) == 1
        # even two pollers at once (the poller row just changed hands) say it once
        sandbox.agent_edit(100, {"statusWithType": {"status": {"id": 16}}})
        rows = await bot.runtime.b2c.rows("select id from tasks where id = 100")
        assert rows
        item = (await other.sync.store.tracked([100]))[100]
        racing = await asyncio.gather(
            bot.runtime.sync._follow(item, await sync_row(bot)),
            other.sync._follow(item, await sync_row(bot)),
        )
        assert sorted(racing) == [0, 1]
        lines = [r for r in replies(slack, parent) if "changed in B2C Service" in r]
        assert len(lines) == 2
    finally:
        await other.close()


async def sync_row(bot: Bot) -> list[Any]:
    from bot.oracle import roql

    [row] = await bot.runtime.b2c.rows(roql.task_sync_row(100))
    return row


# ------------------------------------------------------------------ Slack → Oracle
async def send_event(bot: Bot, event: dict[str, Any], *, retry: int = 0) -> int:
    """Deliver an Events API event as Slack does (signed JSON; a retry carries its number)."""
    return await bot.event({"type": "message", "channel_type": "channel", **event}, retry=retry)


def reply_event(parent: Any, ts: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"channel": "C1", "user": "U2", "text": text, "ts": ts, "thread_ts": parent.ts, **extra}


def notes_of(sandbox: B2CSandbox, task_id: int = 100) -> list[str]:
    return list(sandbox.tasks[task_id]["_notes"])


async def test_a_reply_in_the_thread_becomes_one_note_even_if_slack_delivers_it_twice(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent, _ = await created_task(bot, slack)
    before = notes_of(sandbox)
    event = reply_event(
        parent,
        "500.1",
        "Spoke to <@U1> &amp; left a message, see <https://example.com/x|the log>",
        files=[{"name": "call.txt", "permalink": "https://files.example/call.txt"}],
    )
    statuses = await asyncio.gather(send_event(bot, event), send_event(bot, event, retry=1))
    assert statuses == [200, 200]
    await bot.finished()
    assert notes_of(sandbox)[len(before) :] == [
        "Sam Agent in Slack: Spoke to @Jane Doe & left a message, see the log "
        "(https://example.com/x)\nFiles: call.txt (https://files.example/call.txt)"
    ]
    [reaction] = slack.calls_to("reactions.add")
    assert reaction.args["name"] == "memo" and reaction.args["timestamp"] == "500.1"
    assert reaction.args["channel"] == "C1"
    sync = bot.runtime.sync
    assert sync is not None
    assert await sync.poll_once() == 0  # the note the bot added is not told back as Oracle's


async def test_what_is_not_a_reply_to_a_followed_task_makes_no_note(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent, _ = await created_task(bot, slack)
    before = notes_of(sandbox)
    events = [
        reply_event(parent, "501.1", "from a bot", bot_id="B1"),
        reply_event(parent, "502.1", "edited", subtype="message_changed"),
        reply_event(parent, "503.1", "gone", subtype="message_deleted"),
        {"channel": "C1", "user": "U2", "text": "not in a thread", "ts": "504.1"},
        {"channel": "C1", "user": "U2", "text": "other thread", "ts": "505.1", "thread_ts": "9.9"},
        # the thread's own first message, a reply with no ts or no channel
        {
            "channel": "C1",
            "user": "U2",
            "text": "the parent",
            "ts": parent.ts,
            "thread_ts": parent.ts,
        },
        {"channel": "C1", "user": "U2", "text": "no ts", "thread_ts": parent.ts},
        {"user": "U2", "text": "no channel", "ts": "506.1", "thread_ts": parent.ts},
    ]
    for event in events:
        assert await send_event(bot, event) == 200
    await bot.finished()
    assert notes_of(sandbox) == before
    assert not slack.calls_to("reactions.add")


async def test_sync_off_keeps_a_channels_replies_in_slack(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent, _ = await created_task(bot, slack)
    before = notes_of(sandbox)
    answer = (await bot.command("sync")).json()
    assert "become notes on the task" in answer["text"]
    answer = (await bot.command("sync off")).json()
    assert "stay in Slack" in answer["text"]
    await send_event(bot, reply_event(parent, "510.1", "just between us"))
    await bot.finished()
    assert notes_of(sandbox) == before
    assert "stay in Slack" in (await bot.command("sync")).json()["text"]
    await bot.command("sync on")
    await send_event(bot, reply_event(parent, "511.1", "for the record"))
    await bot.finished()
    assert notes_of(sandbox)[len(before) :] == ["Sam Agent in Slack: for the record"]
    mistake = (await bot.command("sync maybe")).json()
    assert "`/task sync on` or `off`: whether replies" in mistake["text"]


async def test_a_note_oracle_refuses_is_told_in_the_thread_once(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, caplog: Any
) -> None:
    from bot.standins.sandbox import Fault

    parent, _ = await created_task(bot, slack)
    sandbox.denied.add("Update Task")
    await send_event(bot, reply_event(parent, "520.1", "this will not go"))
    await bot.finished()
    said = [r for r in replies(slack, parent) if "could not be saved as a note" in r]
    assert len(said) == 1 and "<@U2>'s reply" in said[0]
    # refused again while Slack is away: the operator reads it, with the task
    slack.fail("chat.postMessage", "service_unavailable")
    with caplog.at_level(logging.WARNING, logger="bot.sync"):
        await send_event(bot, reply_event(parent, "520.2", "nor will this"))
        await bot.finished()
    assert warned(caplog) == ["could not say in Slack that a note on task 100 was refused"]
    caplog.clear()
    sandbox.denied.clear()
    sandbox.later()  # a note alone, a moment later: a newer updatedTime
    sandbox.agent_edit(100, {"notes": [{"text": "an agent's note"}]})  # the refusal hid none
    sync = bot.runtime.sync
    assert sync is not None and await sync.poll_once() == 1
    # Oracle away: the note waits in the journal and is saved when Oracle is back
    sandbox.inject(Fault(method="POST", path="/tasks/100/notes", status=503, times=1000))
    with caplog.at_level(logging.WARNING, logger="bot.sync"):
        await send_event(bot, reply_event(parent, "521.1", "kept for later"))
        await bot.finished()
    assert "Sam Agent in Slack: kept for later" not in notes_of(sandbox)
    assert warned(caplog) == [
        "note for task 100 waits for Oracle: The service is temporarily unavailable"
    ]
    sandbox.faults.clear()
    notes = bot.runtime.notes
    assert notes is not None
    [pending] = await notes.pending()
    assert await notes.run(pending) == "saved"
    assert notes_of(sandbox)[-1] == "Sam Agent in Slack: kept for later"


async def test_a_task_deleted_in_oracle_is_told_once_and_its_buttons_go(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, http: Any
) -> None:
    parent, sync = await followed_task(bot, slack)
    assert (await http.delete("/tasks/100")).status_code == 200  # an agent deletes it
    assert await sync.poll_once() == 1
    assert replies(slack, parent)[-1] == ":wastebasket: Task #100 was deleted in B2C Service."
    assert parent.blocks[0]["text"]["text"] == (
        ":wastebasket: <@U1> created task *#100*, since deleted in B2C Service"
    )
    assert all(block["type"] != "actions" for block in parent.blocks)  # no buttons
    assert await sync.poll_once() == 0  # said once
    assert await sync.store.count() == 0


async def test_a_task_made_by_the_message_shortcut_is_followed_in_that_thread(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    thread_ts = await shortcut_task(bot, slack)
    sync = bot.runtime.sync
    assert sync is not None
    assert await sync.store.task_of_thread("C1", thread_ts) == 100
    sandbox.agent_edit(100, {"statusWithType": {"status": {"id": IN_PROGRESS}}})
    assert await sync.poll_once() == 1
    [line] = [m for m in slack.thread_replies("C1", thread_ts) if "changed in B2C" in m.text]
    assert "Status: Not Started → In Progress" in line.text


async def shortcut_task(bot: Bot, slack: SlackFake) -> str:
    """A task made with the message shortcut on a message in channel C1; the thread's ts."""
    from tests.test_e2e_interactive import blocks_by_id, submission, text_value

    shortcut = {
        "type": "message_action",
        "callback_id": "create_task_from_message",
        "team": {"id": "T1"},
        "user": {"id": "U1", "username": "jane"},
        "channel": {"id": "C1", "name": "support"},
        "trigger_id": "5.6",
        "response_url": slack.response_url("sc2"),
        "message_ts": "1700000000.000300",
        "message": {"type": "message", "user": "U4", "ts": "1700000000.000300", "text": "Fix it"},
    }
    await bot.interact(shortcut)
    await bot.finished()
    [update] = slack.calls_to("views.update")
    view = {"id": update.args["view_id"], **update.args["view"]}
    name = blocks_by_id(view)["name"]["element"]["initial_value"]
    await bot.interact(submission(view, {"name": text_value(name)}))
    await bot.finished()
    return "1700000000.000300"


async def test_one_poller_at_a_time_and_another_takes_over_when_it_dies(
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes share a PostgreSQL journal")
    from bot.journal import Journal
    from bot.sync.store import SyncStore

    first = await Journal.open(database_url, heartbeat=0.2)
    second = await Journal.open(database_url, heartbeat=0.2)
    try:
        stores = [SyncStore(first), SyncStore(second)]
        await stores[0].create()
        assert await stores[0].hold_poller() is True
        assert await stores[1].hold_poller() is False  # the first polls
        assert await stores[0].hold_poller() is True  # and keeps it
        await first.holder.stop()  # the first process dies: its heartbeat stops
        await asyncio.sleep(3 * 0.2 + 0.2)
        assert await stores[1].hold_poller() is True  # within a round of its death
        assert await stores[1].hold_poller() is True
    finally:
        await second.close()
        await first.db.close()


async def test_retention_forgets_settled_replies(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent, _ = await created_task(bot, slack)
    await send_event(bot, reply_event(parent, "530.1", "old news"))
    await bot.finished()
    notes = bot.runtime.notes
    assert notes is not None
    assert await notes.forget_settled(3600) == 0  # not old enough
    [kept] = await notes.saved_notes()
    assert (kept["state"], kept["ts"], kept["task_id"]) == ("saved", "530.1", 100)
    assert await notes.forget_settled(-1) == 1  # (everything counts as old)
    assert await notes.saved_notes() == []


async def test_the_events_url_answers_slacks_challenge(bot: Bot) -> None:
    import json

    from bot.demo import signed_headers

    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"})
    secret = bot.settings.slack_signing_secret.get_secret_value()  # type: ignore[union-attr]
    headers = {**signed_headers(secret, body), "Content-Type": "application/json"}
    response = await bot.http.post(bot.url, content=body, headers=headers)
    assert response.status_code == 200 and "c-123" in response.text
    # a message event with a bad signature is refused, not journaled
    event = json.dumps({"type": "event_callback", "event": {"type": "message", "ts": "1.1"}})
    bad = {**signed_headers("not-the-secret", event), "Content-Type": "application/json"}
    assert (await bot.http.post(bot.url, content=event, headers=bad)).status_code == 401


async def test_a_round_reads_every_page_of_changes(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changes past the first page are told too, whatever order Oracle keeps its rows in
    (the sandbox answers a query without ``order by`` in an order of its own each time)."""
    from bot.sync import poller

    sync = bot.runtime.sync
    assert sync is not None
    await sync.poll_once()  # the cursor starts now
    monkeypatch.setattr(poller, "PAGE", 3)
    sandbox.bulk_tasks(500, 7)
    for task_id in range(500, 507):
        await follow(sync.store, task_id, f"{task_id}.1")
        sandbox.agent_edit(task_id, {"statusWithType": {"status": {"id": IN_PROGRESS}}})
    queries = len(sandbox.requests_to("GET", "/queryResults"))
    assert await sync.poll_once() == 7  # three pages of three at most
    changed = [
        r
        for r in sandbox.requests_to("GET", "/queryResults")[queries:]
        if "updatedTime >" in r.query["query"]
    ]
    assert len(changed) == 3  # each page starts after the last row of the one before
    for task_id in range(500, 507):
        [line] = slack.thread_replies("C1", f"{task_id}.1")
        assert "In Progress" in line.text


# ------------------------------------------------------------------ a note whose fate is unknown


async def test_a_note_whose_answer_was_lost_is_looked_for_not_sent_again(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent, _ = await created_task(bot, slack)
    before = notes_of(sandbox)
    # Oracle saves the note, then the connection drops before its answer arrives
    sandbox.inject(
        Fault(method="POST", path="/tasks/100/notes", status=200, after_create=True, drop=True)
    )
    assert await send_event(bot, reply_event(parent, "500.3", "Called, no answer")) == 200
    await bot.finished()
    assert notes_of(sandbox)[len(before) :] == ["Sam Agent in Slack: Called, no answer"]
    assert len(sandbox.requests_to("POST", "/tasks/100/notes")) == 1  # looked for, not sent again
    assert sandbox.requests_to("GET", "/tasks/100/notes")
    assert [c.args["name"] for c in slack.calls_to("reactions.add")] == ["memo"]
    sync = bot.runtime.sync
    assert sync is not None and await sync.poll_once() == 0  # the bot's own note, not told
    sandbox.later()  # a note alone, a moment later: a newer updatedTime
    sandbox.agent_edit(100, {"notes": [{"text": "an agent's note"}]})
    assert await sync.poll_once() == 1  # and it hides no later one


@pytest.mark.parametrize(
    ("there", "look_refused"),
    [(True, False), (False, False), (False, True)],
    ids=["saved before the crash", "not saved", "the look refused: sent, not lost"],
)
async def test_a_reply_resumed_after_a_crash_is_looked_for_first(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, there: bool, look_refused: bool
) -> None:
    parent, _ = await created_task(bot, slack)
    notes = bot.runtime.notes
    assert notes is not None
    reply = await notes.accept(reply_event(parent, "500.4", "Left a voicemail"))
    assert reply is not None
    # what a process that died right after sending the PATCH leaves: one attempt, no outcome
    await notes.db.execute(
        "UPDATE thread_notes SET attempts = 1, lease_owner = NULL WHERE id = ?", reply.id
    )
    text = "Sam Agent in Slack: Left a voicemail"
    if there:
        sandbox.tasks[100]["_notes"].append(text)
    before = len(notes_of(sandbox))
    patches = len(sandbox.requests_to("POST", "/tasks/100/notes"))
    if look_refused:  # Oracle will not list the notes: a note twice is better than none
        sandbox.inject(Fault(method="GET", path="/tasks/100/notes", status=403))
    await notes.resume(bot.runtime.creator.spawn)  # the sweep
    await bot.finished()
    assert sandbox.requests_to("GET", "/tasks/100/notes")  # Oracle was asked first
    reaction = slack.calls_to("reactions.add")[-1].args
    assert (reaction["channel"], reaction["timestamp"]) == ("C1", "500.4")  # on that reply
    sent = len(sandbox.requests_to("POST", "/tasks/100/notes")) - patches
    assert sent == (0 if there else 1)
    assert notes_of(sandbox)[before - (1 if there else 0) :] == [text]
    assert await notes.pending() == []
    await notes.resume(bot.runtime.creator.spawn)  # nothing left to do
    await bot.finished()
    assert len(sandbox.requests_to("POST", "/tasks/100/notes")) - patches == sent


async def test_a_reply_from_someone_slack_cannot_name_is_signed_with_their_id(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent, _ = await created_task(bot, slack)
    event = {**reply_event(parent, "530.1", "Checked the logs"), "user": "U404"}
    assert await send_event(bot, event) == 200
    await bot.finished()
    assert notes_of(sandbox)[-1] == "U404 in Slack: Checked the logs"


async def test_a_change_made_while_the_bot_changes_the_task_itself_is_not_told_as_oracles(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent, sync = await followed_task(bot, slack)
    before = len(replies(slack, parent))
    await sync.own_change(100)  # the bot is about to change it (a button, a note)
    sandbox.agent_edit(100, {"statusWithType": {"status": {"id": IN_PROGRESS}}})
    assert await sync.poll_once() == 0  # not while its own change is under way
    await sync.own_change_done(100)  # what the thread shows now is the bot's doing
    assert await sync.poll_once() == 0
    assert len(replies(slack, parent)) == before
    sandbox.agent_edit(100, {"statusWithType": {"status": {"id": 16}}})  # an agent, later
    assert await sync.poll_once() == 1
    sandbox.later()  # a note alone, a moment later: a newer updatedTime
    sandbox.agent_edit(100, {"notes": [{"text": "an agent's note"}]})  # none was the bot's
    assert await sync.poll_once() == 1
    assert replies(slack, parent)[-1].endswith(">an agent's note")
    assert "/AgentWeb/Bookmark/Task/100|" in parent.blocks[0]["text"]["text"]


async def test_a_saved_reply_costs_one_call_and_hides_no_later_note(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent, sync = await followed_task(bot, slack)
    calls = len(sandbox.requests)
    event = reply_event(
        parent, "540.1", "", files=[{"title": "Call log", "permalink": "https://f/l"}]
    )
    assert await send_event(bot, event) == 200
    await bot.finished()
    assert notes_of(sandbox)[-1] == "Sam Agent in Slack: Files: Call log (https://f/l)"
    made = [(r.method, r.path) for r in sandbox.requests[calls:]]
    assert made == [("POST", "/tasks/100/notes")]  # no look first, no read after
    assert await sync.poll_once() == 0  # the bot's own note is not told back
    sandbox.later()  # a note alone, a moment later: a newer updatedTime
    sandbox.agent_edit(100, {"notes": [{"text": "an agent's answer"}]})
    assert await sync.poll_once() == 1  # and the next note, an agent's, is
    assert replies(slack, parent)[-1].endswith(">an agent's answer")


async def test_a_note_in_the_same_second_as_a_read_is_told_and_a_second_over_is_read_once(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    """updatedTime has whole seconds: a read made within a change's second may miss a note
    added later in that second (same updatedTime), so that version is read again; once
    Oracle's clock (the Date of its answers) is past the second, it is read no more."""
    parent, sync = await followed_task(bot, slack)

    def notes_reads() -> int:
        return len(sandbox.requests_to("GET", "/tasks/100/notes"))

    # Oracle's clock held at a moment 5 s on (not the create's second), 0.2 s into it
    sandbox.stopped = datetime.now(UTC).replace(microsecond=200_000) + timedelta(seconds=5)
    sandbox.agent_edit(100, {"notes": [{"text": "first"}]})
    assert await sync.poll_once() == 1
    sandbox.agent_edit(100, {"notes": [{"text": "second, same second"}]})
    assert await sync.poll_once() == 1  # the same updatedTime, read again: told
    assert replies(slack, parent)[-1].endswith(">second, same second")
    sandbox.later()  # Oracle's clock past that second: one more read finds nothing new ...
    assert await sync.poll_once() == 0
    reads = notes_reads()
    for _round in range(3):  # ... and then that version's notes are known
        assert await sync.poll_once() == 0
    assert notes_reads() == reads


async def test_undated_answers_keep_reading_a_changed_tasks_notes(
    sandbox: B2CSandbox, slack: SlackFake
) -> None:
    """Without a Date from Oracle (a proxy strips it), no second is known to be over: a changed
    task's notes are read each round rather than a note missed."""
    sandbox.dated = False
    async with serving(make_settings(sandbox, slack), slack) as bot:
        _, sync = await followed_task(bot, slack)
        assert bot.runtime.b2c.oracle_time() is None
        sandbox.later(5)
        sandbox.agent_edit(100, {"notes": [{"text": "first"}]})
        assert await sync.poll_once() == 1
        sandbox.later()
        before = len(sandbox.requests_to("GET", "/tasks/100/notes"))
        assert await sync.poll_once() == 0
        assert len(sandbox.requests_to("GET", "/tasks/100/notes")) == before + 1


async def test_a_first_quiet_round_starts_the_cursor_now_and_two_deletions_are_both_told(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sync = bot.runtime.sync
    assert sync is not None
    assert await sync.store.cursor() is None
    started = datetime.now(UTC)
    assert await sync.poll_once() == 0
    cursor = datetime.fromisoformat(await sync.store.cursor() or "")
    assert abs((cursor - started).total_seconds()) < 6  # from (just before) now on
    sandbox.bulk_tasks(599, 3)
    for task_id in (599, 600, 601):  # checked in this order: the first is still there
        await follow(sync.store, task_id, f"{task_id}.1")
    sandbox.tasks.pop(600)
    sandbox.tasks.pop(601)
    assert await sync.poll_once() == 2
    assert slack.thread_replies("C1", "599.1") == []
    for task_id in (600, 601):
        [line] = slack.thread_replies("C1", f"{task_id}.1")
        assert line.text == f":wastebasket: Task #{task_id} was deleted in B2C Service."


async def test_one_reply_run_twice_at_once_in_a_process_is_sent_once(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    parent, _ = await created_task(bot, slack)
    notes = bot.runtime.notes
    assert notes is not None
    reply = await notes.accept(reply_event(parent, "550.1", "Once only"))
    assert reply is not None
    patches = len(sandbox.requests_to("POST", "/tasks/100/notes"))
    states = await asyncio.gather(notes.run(reply.id), notes.run(reply.id), notes.run(reply))
    assert sorted(states, key=str) == [None, None, "saved"]
    assert len(sandbox.requests_to("POST", "/tasks/100/notes")) == patches + 1


def warned(caplog: Any) -> list[str]:
    """The thread sync's WARNING lines, as an operator reads them."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("bot.sync") and r.levelno >= logging.WARNING
    ]


async def test_what_the_sync_could_not_do_is_logged_with_the_task_and_the_cause(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, http: Any, caplog: Any
) -> None:
    """An operator reads which task was not told, and why, in one WARNING line each."""
    parent, sync = await followed_task(bot, slack)
    caplog.set_level(logging.WARNING, logger="bot.sync")
    # Slack does not take the thread's line: the change is not told, and the log says whose
    slack.fail("chat.postMessage", "service_unavailable")
    sandbox.agent_edit(100, {"statusWithType": {"status": {"id": IN_PROGRESS}}})
    assert await sync.poll_once() == 0
    assert warned(caplog) == ["thread sync: Slack is away; task 100's change is not shown"]
    caplog.clear()
    # Oracle will not list the task's notes: the change is still told, the notes are not
    sandbox.inject(Fault(method="GET", path="/tasks/100/notes", status=403))
    sandbox.agent_edit(100, {"statusWithType": {"status": {"id": 18}}})
    assert await sync.poll_once() == 1
    assert warned(caplog) == [  # Oracle's own words (the sandbox's, for a fault)
        "thread sync: notes of task 100 unreadable: The service is temporarily unavailable"
    ]
    caplog.clear()
    # the task is deleted while Slack is away
    assert (await http.delete("/tasks/100")).status_code == 200
    slack.fail("chat.postMessage", "service_unavailable")
    assert await sync.poll_once() == 0
    assert warned(caplog) == ["thread sync: Slack is away; task 100's deletion"]
    assert replies(slack, parent)[-1] != ":wastebasket: Task #100 was deleted in B2C Service."


async def test_a_created_task_is_followed_from_oracles_answer_without_a_read(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, caplog: Any
) -> None:
    sync = bot.runtime.sync
    assert sync is not None
    caplog.set_level(logging.WARNING, logger="bot.sync")
    read = "select id, updatedTime"  # a read of the task it has just created: none is made
    sandbox.inject(Fault(method="GET", path="/queryResults", status=403, query=read))
    await bot.command("Return customer call @contact 83")
    await bot.finished()
    assert "Task #100 created" in slack.thread_replies("C1", slack.top_messages("C1")[0].ts)[0].text
    assert warned(caplog) == []
    assert await sync.store.count() == 1  # followed, from what Oracle answered the POST
    [item] = (await sync.store.tracked([100])).values()
    assert item.shown["status"] == "Not Started"
    assert item.shown["version"] == "20" + sandbox.tasks[100]["updatedTime"][2:19] + "+00:00"
    assert [r for r in sandbox.requests if read in r.query.get("query", "")] == []
