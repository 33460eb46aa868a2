"""Call budgets: what each user action costs Oracle and Slack, counted exactly where the
stand-ins receive it (timing is noisy; counting is not). A change that adds a call to an
action fails here; the budgets are written in docs/benchmarks.md."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.standins.sandbox import B2CSandbox
from bot.standins.slack_fake import SlackFake
from tests.conftest import Bot
from tests.test_e2e_interactive import click, created_task
from tests.test_home import home_opened

BURST = 20


def oracle(sandbox: B2CSandbox, since: int = 0) -> list[str]:
    """The Oracle calls since the ``since``-th, as ``METHOD path`` (a query by its table)."""
    said = []
    for r in sandbox.requests[since:]:
        what = f"{r.method} {r.path}"
        if r.path == "/queryResults":
            words = r.query.get("query", "").split()
            what += " " + words[words.index("from") + 1] if "from" in words else ""
        said.append(what)
    return said


def slack_calls(slack: SlackFake, since: int = 0) -> list[str]:
    return [c.method for c in slack.calls[since:]]


async def test_a_burst_costs_oracle_one_post_a_task_and_slack_two_messages(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await bot.command("Warm up @contact 83")  # the first costs the one-time reads (names)
    await bot.finished()
    oracle_from, slack_from = len(sandbox.requests), len(slack.calls)
    await asyncio.gather(*(bot.command(f"Call back {n} @contact 83") for n in range(BURST)))
    await bot.finished()
    assert oracle(sandbox, oracle_from) == ["POST /tasks"] * BURST  # no read after the create
    calls = slack_calls(slack, slack_from)
    assert sorted(set(calls)) == ["chat.postMessage"] and len(calls) == 2 * BURST
    assert len(sandbox.tasks) == BURST + 1


async def test_a_poll_round_after_a_burst_costs_two_calls_then_stays_quiet(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sync = bot.runtime.sync
    assert sync is not None
    await asyncio.gather(*(bot.command(f"Call back {n} @contact 83") for n in range(BURST)))
    await bot.finished()
    for _round in range(5):  # the burst is inside the poll's overlap: read again, told never
        oracle_from, slack_from = len(sandbox.requests), len(slack.calls)
        assert await sync.poll_once() == 0
        # one query for what changed, one for the rolling deletion check: no notes read for
        # tasks the bot created itself
        assert oracle(sandbox, oracle_from) == ["GET /queryResults tasks"] * 2
        assert slack_calls(slack, slack_from) == []


async def test_a_change_right_after_the_create_is_told_and_costs_no_more(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sync = bot.runtime.sync
    assert sync is not None
    parent, _buttons = await created_task(bot, slack)
    # an agent (or a rule) sets it In Progress at once, in the same second as the create
    sandbox.agent_edit(100, {"statusWithType": {"status": {"id": 17}}})
    oracle_from = len(sandbox.requests)
    assert await sync.poll_once() == 1
    [said] = [m.text for m in slack.thread_replies("C1", parent.ts)][-1:]
    assert said.endswith("Status: Not Started → In Progress · changed in B2C Service")
    assert "*In Progress*" in parent.blocks[0]["text"]["text"]
    # a field moved at the create's own second: its notes are read once, in case
    assert oracle(sandbox, oracle_from) == [
        "GET /queryResults tasks",
        "GET /tasks/100/notes",
        "GET /queryResults tasks",
    ]


async def test_a_changed_task_has_its_notes_read_once_its_second_is_over(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sync = bot.runtime.sync
    assert sync is not None
    await created_task(bot, slack)
    sandbox.later(2)
    sandbox.agent_edit(100, {"notes": [{"text": "an agent's note"}]})
    sandbox.later(2)  # the poll reads it after its second is over
    assert await sync.poll_once() == 1
    for _round in range(3):  # quiet again: read once, never again
        oracle_from = len(sandbox.requests)
        assert await sync.poll_once() == 0
        assert oracle(sandbox, oracle_from) == ["GET /queryResults tasks"] * 2


async def test_a_button_press_costs_a_patch_and_one_read(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    first, buttons = await created_task(bot, slack)
    await bot.interact(click(first, buttons["task_complete"]))  # who is pressing: read once
    await bot.finished()
    await bot.command("Second task @contact 83")
    await bot.finished()
    parent = slack.top_messages("C1")[-1]
    press = next(
        e
        for b in parent.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("action_id") == "task_complete"
    )
    oracle_from, slack_from = len(sandbox.requests), len(slack.calls)
    await bot.interact(click(parent, press))
    await bot.finished()
    said = oracle(sandbox, oracle_from)
    assert said == ["PATCH /tasks/101", "GET /tasks/101", "GET /queryResults tasks"], said
    assert sorted(slack_calls(slack, slack_from)) == ["chat.postMessage", "chat.update"]
    sync = bot.runtime.sync
    assert sync is not None
    oracle_from = len(sandbox.requests)
    assert await sync.poll_once() == 0  # its own change: not read again, not told
    assert oracle(sandbox, oracle_from) == ["GET /queryResults tasks"] * 2


async def test_a_reply_that_becomes_a_note_costs_one_call(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    from tests.test_sync import reply_event, send_event

    parent, _buttons = await created_task(bot, slack)
    await send_event(bot, reply_event(parent, "500.1", "On it"))  # who replies: read once
    await bot.finished()
    sandbox.later(2)  # a while after the create: the note moves updatedTime
    oracle_from, slack_from = len(sandbox.requests), len(slack.calls)
    await send_event(bot, reply_event(parent, "500.2", "Called the customer back"))
    await bot.finished()
    said = oracle(sandbox, oracle_from)
    assert said == ["POST /tasks/100/notes"], said
    assert slack_calls(slack, slack_from) == ["reactions.add"]
    sync = bot.runtime.sync
    assert sync is not None
    sandbox.later(2)
    oracle_from = len(sandbox.requests)
    assert await sync.poll_once() == 0  # its own note: not told back
    # a note moved updatedTime to a version the bot did not read: its notes, once
    assert oracle(sandbox, oracle_from) == [
        "GET /queryResults tasks",
        "GET /tasks/100/notes",
        "GET /queryResults tasks",
    ]
    oracle_from = len(sandbox.requests)
    assert await sync.poll_once() == 0
    assert oracle(sandbox, oracle_from) == ["GET /queryResults tasks"] * 2


async def test_the_home_tab_costs_one_query(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await bot.event(home_opened())  # the first opening reads the site's names once
    await bot.finished()
    oracle_from, slack_from = len(sandbox.requests), len(slack.calls)
    await bot.event(home_opened())
    await bot.finished()
    said: Any = oracle(sandbox, oracle_from)
    assert said == ["GET /queryResults tasks"], said  # the tasks assigned to the user
    assert slack_calls(slack, slack_from) == ["views.publish"]
    await bot.command("Warm up @contact 83 @assign me")
    await bot.finished()
    oracle_from, slack_from = len(sandbox.requests), len(slack.calls)
    await bot.event(home_opened())
    await bot.finished()
    said = oracle(sandbox, oracle_from)
    # and, once they have created some from Slack, those tasks' current status
    assert said == ["GET /queryResults tasks"] * 2, said
    assert slack_calls(slack, slack_from) == ["views.publish"]
