"""Channel subscriptions, driven as people would: someone subscribes a channel, an agent
creates and changes tasks in B2C Service (the sandbox), the poll runs, and the cards and
threaded lines appear in the Slack fake, or do not; the Oracle calls of a quiet round are a
budget."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.domain.drafts import IdOrName, SlackUser
from bot.domain.grammar import GrammarError, parse
from bot.standins.sandbox import B2CSandbox
from bot.standins.slack_fake import SlackFake
from bot.subscriptions.feed import SubscriptionFeed
from bot.subscriptions.filters import USAGE, describe, matches, parse_filter, subject
from tests.conftest import Bot, make_settings, serving
from tests.test_budgets import oracle
from tests.test_e2e_interactive import click
from tests.test_home import home_opened


def feed_of(bot: Bot) -> SubscriptionFeed:
    sync = bot.runtime.sync
    assert sync is not None and sync.followers
    feed = sync.followers[0].__self__  # type: ignore[attr-defined]
    assert isinstance(feed, SubscriptionFeed)
    feed.per_second = 1000.0  # Slack's one a second per channel, shortened for the tests
    return feed


async def subscribe(bot: Bot, slack: SlackFake, text: str, channel: str = "C1") -> str:
    """``/task subscribe text`` in a channel; the private answer."""
    before = len(slack.responses)
    await bot.command(f"subscribe {text}", channel=channel)
    await bot.finished()
    [answer] = slack.responses[before:]
    return answer["text"]


async def poll(bot: Bot) -> int:
    sync = bot.runtime.sync
    assert sync is not None
    return await sync.poll_once()


def cards(slack: SlackFake, channel: str = "C1") -> list[Any]:
    return [
        m
        for m in slack.top_messages(channel)
        if m.text.startswith("Task #") and " created: " not in m.text  # (a task message)
    ]


async def test_a_new_matching_task_gets_one_card_and_its_changes_go_in_its_thread(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed_of(bot)
    said = await subscribe(bot, slack, "@priority High")
    assert said == "Subscribed: Priority: High."
    [told] = slack.top_messages("C1")
    assert "<@U1> subscribed this channel to B2C Service tasks with Priority: High" in told.text
    await poll(bot)  # the first round: nothing matched yet
    high = sandbox.agent_create(
        {"name": "Replace the pump", "priority": {"id": 3}, "contact": {"id": 83}}
    )
    sandbox.agent_create({"name": "Tidy the archive", "priority": {"id": 1}})
    sandbox.later()
    assert await poll(bot) == 1
    [card] = cards(slack)
    assert card.text == f"Task #{high}: Replace the pump"
    shown = card.blocks[0]["text"]["text"]  # type: ignore[index]
    assert f"*#{high}* Replace the pump" in shown and "*Not Started*" in shown
    assert "Priority High" in shown and "Contact Mary Major" in shown
    assert card.blocks[1]["elements"][0]["action_id"] == "task_complete"  # type: ignore[index]

    sandbox.agent_edit(high, {"statusWithType": {"status": {"id": 17}}})
    sandbox.later()
    assert await poll(bot) == 1
    [line] = slack.thread_replies("C1", card.ts)
    assert line.text.endswith("Status: Not Started → In Progress · changed in B2C Service")
    [card] = cards(slack)
    assert "*In Progress*" in card.blocks[0]["text"]["text"]  # type: ignore[index]  # in place

    sandbox.later()
    assert await poll(bot) == 0  # read again in the overlap: told once
    sandbox.agent_edit(high, {"priority": {"id": 1}})
    sandbox.later()
    assert await poll(bot) == 1
    gone = slack.thread_replies("C1", card.ts)[-1]
    assert "no longer matches this channel's filter (Priority: High → Low" in gone.text
    sandbox.agent_edit(high, {"name": "Replace the pump, now"})
    sandbox.later()
    assert await poll(bot) == 0  # no longer followed: nothing more said
    assert len(cards(slack)) == 1


async def test_filters_negated_and_several_values_and_one_card_for_several_subscriptions(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed_of(bot)
    assert await subscribe(bot, slack, "@priority -Low,Normal")
    assert await subscribe(bot, slack, "@priority High,Critical @org Acme")
    await poll(bot)
    made = {
        "high": sandbox.agent_create({"name": "High", "priority": {"id": 3}}),
        "none": sandbox.agent_create({"name": "No priority"}),
        "low": sandbox.agent_create({"name": "Low", "priority": {"id": 1}}),
        "critical acme": sandbox.agent_create(
            {"name": "Critical", "priority": {"id": 4}, "organization": {"id": 1}}
        ),
    }
    sandbox.later()
    await poll(bot)
    carded = sorted(int(m.text.split("#")[1].split(":")[0]) for m in cards(slack))
    assert carded == sorted([made["high"], made["none"], made["critical acme"]])


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("@priority Urgent", "Priority must be one of: Low, Normal, High, Critical"),
        ("@org Nowhere Inc", "No organization in B2C Service is named “Nowhere Inc”"),
        ("@contact 999", "No contact in B2C Service has the ID 999"),
        ("@assign nobody", "No Oracle B2C Service staff account has the login “nobody”"),
        ("@due tomorrow", "@due cannot filter a subscription"),
        ("", "Say which tasks this channel follows"),
        ("@priority High due-soon soon", "due-soon needs how long before the due time"),
    ],
)
async def test_a_filter_the_site_does_not_know_makes_nothing_and_says_why(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, text: str, said: str
) -> None:
    answer = await subscribe(bot, slack, text)
    assert answer.startswith("No subscription was made: ") and said in answer
    assert slack.top_messages("C1") == []  # nothing said in the channel
    await bot.command("subscriptions")
    await bot.finished()
    assert "This channel follows no B2C Service tasks" in slack.responses[-1]["text"]


async def test_listed_numbered_and_unsubscribed(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed_of(bot)
    await subscribe(bot, slack, "@priority High")
    await subscribe(bot, slack, "@assign me")
    await bot.command("subscriptions")
    await bot.finished()
    listed = slack.responses[-1]["text"]
    assert "1. Priority: High  ·  by <@U1>" in listed
    assert "2. Assigned to: Jane Doe  ·  by <@U1>" in listed
    await bot.command("unsubscribe 1")
    await bot.finished()
    assert slack.responses[-1]["text"] == "Stopped: Priority: High."
    assert "stopped this channel following" in slack.top_messages("C1")[-1].text
    await bot.command("unsubscribe 5")
    await bot.finished()
    assert "There is no subscription 5 here" in slack.responses[-1]["text"]
    await poll(bot)
    sandbox.agent_create({"name": "High again", "priority": {"id": 3}})
    sandbox.later()
    await poll(bot)
    assert cards(slack) == []  # the High filter stopped; Jane's is not assigned to her
    await bot.command("unsubscribe all")
    await bot.finished()
    assert slack.responses[-1]["text"] == "Stopped: Assigned to: Jane Doe."


async def test_a_private_channel_without_the_bot_is_told_to_invite_it(
    bot: Bot, slack: SlackFake
) -> None:
    slack.fail("chat.postMessage", "channel_not_found")
    answer = await subscribe(bot, slack, "@priority High", channel="G9")
    assert "the bot cannot post here" in answer and "`/invite` the bot" in answer
    await bot.command("subscriptions", channel="G9")
    await bot.finished()
    assert "follows no B2C Service tasks" in slack.responses[-1]["text"]


async def test_a_channel_shared_with_another_organization_gets_no_feed(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed_of(bot)
    slack.shared_channels.add("C7")
    answer = await subscribe(bot, slack, "@priority High", channel="C7")
    assert "this channel is shared with another organization" in answer
    assert slack.top_messages("C7") == []
    # a channel shared after it subscribed is told nothing from then on
    await subscribe(bot, slack, "@priority High", channel="C8")
    await poll(bot)
    feed_of(bot).restricted = lambda channel: _shared(channel, "C8")  # (Slack said so since)
    sandbox.agent_create({"name": "High", "priority": {"id": 3}})
    sandbox.later()
    await poll(bot)
    assert cards(slack, "C8") == []


async def _shared(channel: str, shared: str) -> bool:
    return channel == shared


async def test_a_task_the_channel_follows_already_gets_no_second_card(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed_of(bot)
    await subscribe(bot, slack, "@priority High")
    await bot.command("Call the customer back @priority High @contact 83")
    await bot.finished()
    sandbox.later()
    await poll(bot)
    assert cards(slack) == []  # its own thread serves (the task message is not a card)


async def test_a_burst_of_matches_is_a_handful_of_cards_then_one_list(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed_of(bot)
    await subscribe(bot, slack, "@priority Critical")
    await poll(bot)
    made = [sandbox.agent_create({"name": f"Rule {n}", "priority": {"id": 4}}) for n in range(9)]
    sandbox.later()
    await poll(bot)
    assert len(cards(slack)) == 5
    [listed] = [m for m in slack.top_messages("C1") if "more tasks matched" in m.text]
    assert listed.text.startswith(":bell: 4 more tasks matched")
    assert all(f"#{task_id}*" in listed.blocks[0]["text"]["text"] for task_id in made[5:])  # type: ignore[index]


async def test_past_a_handful_of_changes_in_a_round_a_channel_gets_one_list(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed = feed_of(bot)
    await subscribe(bot, slack, "@priority Critical")
    await poll(bot)
    made = [sandbox.agent_create({"name": f"Rule {n}", "priority": {"id": 4}}) for n in range(5)]
    sandbox.later()
    await poll(bot)
    made += [sandbox.agent_create({"name": f"Rule {n}", "priority": {"id": 4}}) for n in range(4)]
    feed._minute.clear()  # (a minute later)
    sandbox.later()
    await poll(bot)
    assert len(cards(slack)) == 9
    for task_id in made:  # a rule moves all nine at once
        sandbox.agent_edit(task_id, {"statusWithType": {"status": {"id": 19}}})
    sandbox.later()
    before = len(slack.calls_to("chat.postMessage"))
    assert await poll(bot) == 5
    assert len(slack.calls_to("chat.postMessage")) - before == 5  # not nine
    [listed] = [m for m in slack.top_messages("C1") if "more changes to tasks" in m.text]
    shown = listed.blocks[0]["text"]["text"]  # type: ignore[index]
    assert listed.text.startswith(":arrows_counterclockwise: 5 more changes")
    assert all(f"*#{task_id}*>" in shown for task_id in made[4:])
    assert "Status: Not Started → Waiting" in shown


async def test_an_overdue_task_is_told_once_broadcast_and_its_assignee_hears(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed = feed_of(bot)
    now = datetime.now(UTC).replace(microsecond=0)
    feed.clock = lambda: now
    await subscribe(bot, slack, "@assign 2")
    await poll(bot)  # the first round: the due-time cursor starts now
    due = (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    task_id = sandbox.agent_create(
        {"name": "Call back", "assignedToAccount": {"id": 2}, "dueTime": due}
    )
    sandbox.later()
    await poll(bot)
    [card] = cards(slack)
    assert slack.thread_replies("C1", card.ts) == []
    feed.clock = lambda: now + timedelta(minutes=2)
    await poll(bot)
    [line] = slack.thread_replies("C1", card.ts)
    assert f"*#{task_id}* Call back> is overdue since" in line.text
    [posted] = [c for c in slack.calls_to("chat.postMessage") if "overdue" in str(c.args)][:1]
    assert posted.args.get("reply_broadcast") in (True, "true", "1")
    direct = [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == "U1"]
    assert len(direct) == 1 and "It is assigned to you" in str(direct[0].args)
    feed.clock = lambda: now + timedelta(minutes=3)
    await poll(bot)
    assert len(slack.thread_replies("C1", card.ts)) == 1  # once


async def test_notes_added_in_b2c_service_when_the_subscription_asks_for_them(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed_of(bot)
    answer = await subscribe(bot, slack, "notes @priority High")
    assert answer == "Subscribed: Priority: High · with their notes."
    await subscribe(bot, slack, "@priority High", channel="C2")  # (no notes there)
    await poll(bot)
    task_id = sandbox.agent_create(
        {"name": "Pump", "priority": {"id": 3}, "notes": [{"text": "Old note"}]}
    )
    sandbox.later()
    await poll(bot)
    [card] = cards(slack)
    since = len(sandbox.requests)
    sandbox.agent_edit(task_id, {"notes": [{"text": "Called: <!channel> no answer"}]})
    sandbox.later()
    assert await poll(bot) == 1
    [line] = slack.thread_replies("C1", card.ts)
    assert line.text.endswith(">Called: &lt;!channel&gt; no answer")  # escaped
    assert [c for c in cards(slack, "C2") if slack.thread_replies("C2", c.ts)] == []
    reads = [r for r in sandbox.requests[since:] if r.path.endswith("/notes")]
    assert len(reads) == 1  # once for both channels, and only where asked


async def test_a_heads_up_before_the_due_time_once(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed = feed_of(bot)
    now = datetime.now(UTC).replace(microsecond=0)
    feed.clock = lambda: now
    answer = await subscribe(bot, slack, "@priority High due-soon 1h")
    assert answer == "Subscribed: Priority: High · heads-up 1 hour before the due time."
    await poll(bot)
    due = (now + timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    task_id = sandbox.agent_create({"name": "Quote", "priority": {"id": 3}, "dueTime": due})
    sandbox.later()
    await poll(bot)
    [card] = cards(slack)
    feed.clock = lambda: now + timedelta(minutes=31)  # within the hour before it is due
    await poll(bot)
    [soon] = slack.thread_replies("C1", card.ts)
    assert f"*#{task_id}* Quote> is due " in soon.text
    feed.clock = lambda: now + timedelta(minutes=45)
    await poll(bot)
    assert len(slack.thread_replies("C1", card.ts)) == 1  # once
    feed.clock = lambda: now + timedelta(minutes=91)
    await poll(bot)
    assert "is overdue since" in slack.thread_replies("C1", card.ts)[-1].text


async def test_a_channel_the_allow_list_leaves_out_is_told_nothing(
    sandbox: B2CSandbox, slack: SlackFake
) -> None:
    settings = make_settings(sandbox, slack, allowed_channels="C1")
    async with serving(settings, slack) as bot:
        feed = feed_of(bot)
        await subscribe(bot, slack, "@priority High")
        # (made before C2 was left out of ALLOWED_CHANNELS)
        await feed.store.add(
            team_id="T1", channel_id="C2", made_by="U1", conditions=[], due_soon=None
        )
        await poll(bot)
        sandbox.agent_create({"name": "High", "priority": {"id": 3}})
        sandbox.later()
        await poll(bot)
        assert len(cards(slack, "C1")) == 1 and slack.top_messages("C2") == []


async def test_a_task_gathered_in_a_list_has_its_changes_told_in_the_lists_thread(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed_of(bot)
    await subscribe(bot, slack, "@priority Critical")
    await poll(bot)
    made = [sandbox.agent_create({"name": f"Rule {n}", "priority": {"id": 4}}) for n in range(6)]
    sandbox.later()
    await poll(bot)
    [listed] = [m for m in slack.top_messages("C1") if "more tasks matched" in m.text]
    sandbox.agent_edit(made[-1], {"statusWithType": {"status": {"id": 19}}})
    sandbox.later()
    assert await poll(bot) == 1
    [line] = slack.thread_replies("C1", listed.ts)
    assert line.text.startswith(f"#{made[-1]}: :arrows_counterclockwise: Status: Not Started")


async def test_an_overdue_task_created_from_slack_is_told_in_its_own_thread(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed = feed_of(bot)
    now = datetime.now(UTC).replace(microsecond=0)
    feed.clock = lambda: now
    await subscribe(bot, slack, "@priority High")
    await poll(bot)
    await bot.command("Call the customer back @priority High @contact 83 @due in 2 hours")
    await bot.finished()
    [parent] = [m for m in slack.top_messages("C1") if " created: " in m.text]
    sandbox.later()
    await poll(bot)
    assert cards(slack) == []
    feed.clock = lambda: now + timedelta(hours=3)
    await poll(bot)
    overdue = [m for m in slack.thread_replies("C1", parent.ts) if "is overdue since" in m.text]
    assert len(overdue) == 1 and cards(slack) == []  # its thread, no card


async def test_a_quiet_round_costs_one_due_time_query_however_many_subscriptions(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed_of(bot)
    await poll(bot)
    since = len(sandbox.requests)
    await poll(bot)
    quiet = oracle(sandbox, since)
    assert quiet == ["GET /queryResults tasks"]  # the sync's own: what changed
    for n in range(20):
        await subscribe(bot, slack, "@priority High", channel=f"C{n + 10}")
    await poll(bot)
    since = len(sandbox.requests)
    await poll(bot)
    assert oracle(sandbox, since) == [*quiet, "GET /queryResults tasks"]
    assert "dueTime >" in sandbox.requests[-1].query["query"]  # the one due-time query


async def test_nothing_is_told_twice_across_a_restart(
    sandbox: B2CSandbox, slack: SlackFake, database_url: str
) -> None:
    settings = make_settings(sandbox, slack, database_url=database_url)
    async with serving(settings, slack) as bot:
        feed_of(bot)
        await subscribe(bot, slack, "@priority High")
        await poll(bot)
        high = sandbox.agent_create({"name": "Replace the pump", "priority": {"id": 3}})
        sandbox.later()
        await poll(bot)
        assert len(cards(slack)) == 1
    async with serving(settings, slack) as bot:  # the next process, on the same journal
        feed_of(bot)
        await poll(bot)  # (the cursor's overlap reads the task again)
        assert len(cards(slack)) == 1
        sandbox.agent_edit(high, {"statusWithType": {"status": {"id": 17}}})
        sandbox.later()
        assert await poll(bot) == 1
        [card] = cards(slack)
        assert len(slack.thread_replies("C1", card.ts)) == 1


async def test_a_personal_feed_in_the_bots_direct_messages_shows_on_the_home_tab(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed_of(bot)
    assert await subscribe(bot, slack, "@assign me", channel="D1") == (
        "Subscribed: Assigned to: Jane Doe."
    )
    await bot.command("subscriptions", channel="D1")
    await bot.finished()
    assert slack.responses[-1]["text"].startswith("You follow B2C Service tasks with:")
    await poll(bot)
    mine = sandbox.agent_create({"name": "For Jane", "assignedToAccount": {"id": 2}})
    sandbox.later()
    await poll(bot)
    [card] = cards(slack, "D1")
    assert card.text == f"Task #{mine}: For Jane"
    await bot.event(home_opened("U1"))
    await bot.finished()
    view = slack.calls_to("views.publish")[-1].args["view"]
    shown = json.dumps(view["blocks"])
    assert "Your subscriptions" in shown and "1. Assigned to: Jane Doe" in shown


async def test_a_card_claimed_but_never_posted_is_posted_at_the_next_change(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed = feed_of(bot)
    await subscribe(bot, slack, "@priority High")
    await poll(bot)
    task_id = sandbox.agent_create({"name": "Pump", "priority": {"id": 3}})
    # a process claimed its card, then stopped before posting it
    assert await feed.store.claim_card("C1", task_id, {"name": "Pump"})
    sandbox.later()
    await poll(bot)
    [card] = cards(slack)
    assert card.text == f"Task #{task_id}: Pump"


async def test_a_cards_button_changes_the_task_and_the_feed_does_not_tell_it_back(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    feed_of(bot)
    await subscribe(bot, slack, "@priority High")
    await poll(bot)
    task_id = sandbox.agent_create({"name": "Pump", "priority": {"id": 3}})
    sandbox.later()
    await poll(bot)
    [card] = cards(slack)
    complete = card.blocks[1]["elements"][0]  # type: ignore[index]
    assert (await bot.interact(click(card, complete))).status_code == 200
    await bot.finished()
    assert sandbox.tasks[task_id]["statusWithType"]["status"]["lookupName"] == "Completed"
    [said] = slack.thread_replies("C1", card.ts)
    assert said.text.startswith(f"<@U2> marked task #{task_id} complete")
    sandbox.later()
    await poll(bot)
    assert len(slack.thread_replies("C1", card.ts)) == 1  # not told again as made in B2C
    [card] = cards(slack)
    shown = card.blocks[0]["text"]["text"]  # type: ignore[index]
    assert "*Completed*" in shown and "Priority High" in shown  # still the card, redrawn
    assert "created task" not in shown


async def test_subscriptions_off(sandbox: B2CSandbox, slack: SlackFake) -> None:
    settings = make_settings(sandbox, slack, task_subscriptions=False)
    async with serving(settings, slack) as bot:
        assert bot.runtime.sync is not None and bot.runtime.sync.followers == []
        answer = await subscribe(bot, slack, "@priority High")
    assert "Channel subscriptions are off for this bot (`TASK_SUBSCRIPTIONS=off`" in answer


# ------------------------------------------------------------------ the filter, table by table
@pytest.mark.parametrize(
    ("text", "fields", "negated", "due_soon"),
    [
        ("@priority High", ["priority"], [False], None),
        ("@priority High,Critical @org Acme", ["priority", "org"], [False, False], None),
        ("@org -Acme @priority -Low", ["priority", "org"], [True, True], None),
        ("@assign me", ["assign"], [False], None),
        ("@type Call due-soon 1h", ["type"], [False], 3600),
        ("due-soon 30m @status Waiting", ["status"], [False], 1800),
        ("@priority High due-soon 2d", ["priority"], [False], 172800),
        ("notes @template Notes review", ["template"], [False], None),
        ("@organization Acme", ["org"], [False], None),
    ],
)
def test_a_filter_is_read(
    text: str, fields: list[str], negated: list[bool], due_soon: int | None
) -> None:
    read = parse_filter(text, "U1")
    assert [c.field for c in read.conditions] == fields
    assert [c.negated for c in read.conditions] == negated
    assert read.due_soon == due_soon


@pytest.mark.parametrize(
    ("text", "notes", "template"),
    [
        ("notes @template Onboarding", True, "Onboarding"),
        ("NOTES @template Onboarding", True, "Onboarding"),
        ("@template Release notes", False, "Release notes"),  # a value's own word
        ("@template Onboarding", False, "Onboarding"),
    ],
)
def test_notes_are_asked_for_before_the_fields(text: str, notes: bool, template: str) -> None:
    read = parse_filter(text, "U1")
    assert read.notes is notes
    assert read.conditions[0].values == (IdOrName(name=template),)


def test_values_are_read_as_the_task_command_reads_them() -> None:
    read = parse_filter("@assign me,<@U2>,42 @priority High, Critical @contact 83", "U1")
    assign, priority, contact = read.conditions
    assert assign.values == (SlackUser("U1"), SlackUser("U2"), IdOrName(id=42))
    assert priority.values == (IdOrName(name="High"), IdOrName(name="Critical"))
    assert contact.values == (83,)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", USAGE),
        ("high things", f"“high things” is not a filter. {USAGE}"),
        ("x" * 100 + " @priority High", f"“{'x' * 80}” is not a filter. {USAGE}"),
        (
            "@priority",
            "@priority needs a value (or several, separated by commas), e.g. @priority High.",
        ),
        (
            "@priority High,,Low",
            "@priority needs a value (or several, separated by commas), e.g. @priority High.",
        ),
        (
            "@priority High @priority Low",
            "Give @priority once, with its values separated by commas (e.g. @priority High,…).",
        ),
        (
            "@note hello",
            "@note cannot filter a subscription: use @assign, @priority, @status, "
            "@type, @template, @org, @contact.",
        ),
        ("@contact Mary", "@contact needs a contact ID, a whole number like 83, not “Mary”."),
        (
            "@priority High due-soon",
            "due-soon needs how long before the due time, like 30m, 2h or 1d (at most 7 days).",
        ),
        (
            "@priority High due-soon 8d",
            "due-soon needs how long before the due time, like "
            "30m, 2h or 1d (at most 7 days), not “8d”.",
        ),
        (
            "@priority High due-soon 0m",
            "due-soon needs how long before the due time, like "
            "30m, 2h or 1d (at most 7 days), not “0m”.",
        ),
        ("@priority High due-soon 1h due-soon 2h", "Give due-soon once, e.g. due-soon 1h."),
        ("@priority " + ",".join(["High"] * 21), "@priority takes at most 20 values."),
    ],
)
def test_a_filter_that_cannot_be_read_says_why(text: str, said: str) -> None:
    with pytest.raises(GrammarError) as raised:
        parse_filter(text, "U1")
    assert raised.value.message == said


def test_at_most_twenty_values_and_seven_days_ahead() -> None:
    assert len(parse_filter("@priority " + ",".join(["High"] * 20)).conditions[0].values) == 20
    assert parse_filter("@priority High due-soon 7d").due_soon == 7 * 86400


def test_assign_me_needs_who_asks() -> None:
    with pytest.raises(GrammarError) as raised:
        parse_filter("@assign me", None)
    assert raised.value.message == "@assign me needs to know who is asking."


def _condition(field: str, *names: str, negated: bool = False, ids: bool = False) -> dict:
    values = [{"id": int(n), "name": None} if ids else {"id": 1, "name": n} for n in names]
    return {"field": field, "negated": negated, "values": values}


@pytest.mark.parametrize(
    ("conditions", "shown", "matched"),
    [
        ([_condition("priority", "High")], {"priority": "High"}, True),
        ([_condition("priority", "High")], {"priority": "high"}, True),  # the site's capitals
        ([_condition("priority", "High")], {"priority": "Low"}, False),
        ([_condition("priority", "High")], {}, False),
        ([_condition("priority", "Low", negated=True)], {}, True),
        ([_condition("priority", "Low", negated=True)], {"priority": "Low"}, False),
        ([_condition("priority", "High", "Critical")], {"priority": "Critical"}, True),
        ([_condition("assign", "2", ids=True)], {"assignee_id": "2"}, True),
        ([_condition("assign", "2", ids=True)], {"assignee_id": "3"}, False),
        ([_condition("org", "1", ids=True)], {"org_id": "1", "org": "Acme"}, True),
        ([_condition("contact", "83", ids=True)], {"contact_id": "84"}, False),
        (
            [_condition("priority", "High"), _condition("org", "1", ids=True)],
            {"priority": "High", "org_id": "2"},
            False,  # all conditions
        ),
        ([_condition("type", "Call")], {"type": "Call"}, True),
        ([_condition("status", "Waiting")], {"status": "Waiting"}, True),
        ([_condition("template", "Onboarding")], {"template": "Onboarding"}, True),
        ([_condition("contact", "83", ids=True)], {"contact_id": "83"}, True),
        ([_condition("template", "Onboarding")], {"template": "Renewal call"}, False),
        ([_condition("status", "Waiting", negated=True)], {"status": "In Progress"}, True),
    ],
)
def test_a_task_matches(conditions: list[dict], shown: dict[str, Any], matched: bool) -> None:
    assert matches(conditions, subject(shown)) is matched


@pytest.mark.parametrize(
    ("conditions", "due_soon", "notes", "said"),
    [
        ([_condition("priority", "High", "Critical")], None, False, "Priority: High or Critical"),
        ([_condition("contact", "83", ids=True)], None, False, "Contact: 83"),  # no name known
        (
            [_condition("type", "Call")],
            2 * 86400,
            False,
            "Type: Call · heads-up 2 days before the due time",
        ),
        (
            [_condition("type", "Call")],
            86400,
            True,
            "Type: Call · heads-up 1 day before the due time · with their notes",
        ),
        (
            [_condition("type", "Call")],
            1800,
            False,
            "Type: Call · heads-up 30 minutes before the due time",
        ),
        (
            [_condition("type", "Call")],
            60,
            False,
            "Type: Call · heads-up 1 minute before the due time",
        ),
        (
            [_condition("type", "Call")],
            7200,
            False,
            "Type: Call · heads-up 2 hours before the due time",
        ),
    ],
)
def test_a_filter_in_words(
    conditions: list[dict], due_soon: int | None, notes: bool, said: str
) -> None:
    assert describe(conditions, due_soon, notes) == said


def test_a_filter_in_words_escapes_the_sites_names() -> None:
    said = describe(
        [
            _condition("priority", "High", "Critical", "<!channel>"),
            _condition("org", "Acme & Co", negated=True),
        ],
        due_soon=3600,
    )
    assert said == (
        "Priority: High, Critical or &lt;!channel&gt; · Organization: not Acme &amp; Co · "
        "heads-up 1 hour before the due time"
    )


@pytest.mark.parametrize(
    ("text", "kind", "option"),
    [
        ("subscribe @priority High", "subscribe", "@priority High"),
        ("subscribe", "subscribe", ""),
        ("subscribe due-soon 1h @type Call", "subscribe", "due-soon 1h @type Call"),
        ("subscribe notes @type Call", "subscribe", "notes @type Call"),
        ("subscriptions", "subscriptions", None),
        ("unsubscribe 2", "unsubscribe", "2"),
        ("unsubscribe all", "unsubscribe", "all"),
        ("subscribe to the newsletter", "create", None),  # a task: not the form
        ("unsubscribe from the list", "create", None),
        ("unsubscribe me", "unclear", "unsubscribe"),
    ],
)
def test_the_grammar_knows_the_subscription_commands_by_their_form(
    text: str, kind: str, option: str | None
) -> None:
    parsed = parse(text, "U1")
    assert parsed.kind == kind
    if kind != "create":
        assert parsed.option == option
