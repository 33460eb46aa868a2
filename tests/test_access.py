"""The allow-lists, table by table, against the Slack fake: who may create tasks, and where;
user groups read from Slack and kept for a while; Slack failing never lets anyone in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.access import Gate
from bot.standins.slack_fake import SlackFake

NOT_HERE = (
    "Tasks can't be created from this channel. Ask your Slack admin which channels the task "
    "bot works in."
)
NOT_YOU = (
    "You are not on the list of people who can create Oracle B2C Service tasks from Slack. "
    "Ask your Slack admin to add you."
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def client(slack: SlackFake) -> AsyncIterator[AsyncWebClient]:
    slack.usergroups = {"S1": {"U2"}, "S2": {"U3"}}
    yield AsyncWebClient(token="xoxb-test", base_url=slack.api_url)


CASES = [
    # (channels, users, groups, user, channel, refusal)
    ((), (), (), "U1", "C1", None),  # no lists: everyone, everywhere
    (("C1",), (), (), "U1", "C1", None),
    (("C1",), (), (), "U1", "C2", NOT_HERE),
    (("C1",), (), (), "U1", None, None),  # no channel (a Home tab form): the channel list is moot
    ((), ("U1",), (), "U1", "C1", None),
    ((), ("U1",), (), "U2", "C1", NOT_YOU),
    ((), (), ("S1",), "U2", "C1", None),  # only groups: a member may
    ((), (), ("S1",), "U1", "C1", NOT_YOU),  # only groups: anyone else may not
    ((), (), ("S1", "S2"), "U3", "C1", None),  # a member of the second group
    ((), ("U1",), ("S1",), "U2", "C1", None),  # a user or a member
    ((), ("U1",), ("S1",), "U4", "C1", NOT_YOU),
    (("C1",), ("U1",), (), "U1", "C2", NOT_HERE),  # the channel first, whoever asks
]


@pytest.mark.parametrize(("channels", "users", "groups", "user", "channel", "refusal"), CASES)
async def test_who_may_and_where(
    client: AsyncWebClient,
    channels: tuple[str, ...],
    users: tuple[str, ...],
    groups: tuple[str, ...],
    user: str,
    channel: str | None,
    refusal: str | None,
) -> None:
    gate = Gate(
        client, channels=frozenset(channels), users=frozenset(users), usergroups=frozenset(groups)
    )
    assert gate.open == (not (channels or users or groups))
    assert await gate.refusal(user, channel) == refusal


@pytest.mark.parametrize(
    ("channels", "channel", "allowed"),
    [
        ((), "C1", True),  # no list: every channel
        (("C1",), "C1", True),
        (("C1",), "C2", False),
        (("C1", "D9"), "D9", True),
        (("C1",), "", False),
    ],
)
def test_where_the_bot_may_post_of_its_own_accord(
    client: AsyncWebClient, channels: tuple[str, ...], channel: str, allowed: bool
) -> None:
    """A subscription's posts: only in channels ALLOWED_CHANNELS names, when it names any."""
    gate = Gate(client, channels=frozenset(channels), users=frozenset({"U1"}))
    assert gate.channel_allowed(channel) is allowed


async def test_group_members_are_kept_for_their_lifetime_then_read_again(
    client: AsyncWebClient, slack: SlackFake
) -> None:
    clock = Clock()
    gate = Gate(client, usergroups=frozenset({"S1"}), ttl=300.0, clock=clock)
    assert await gate.refusal("U2", "C1") is None
    clock.now += 299
    assert await gate.refusal("U2", "C1") is None
    assert len(slack.calls_to("usergroups.users.list")) == 1  # kept
    slack.usergroups["S1"] = {"U1"}  # U2 leaves the group, U1 joins
    clock.now += 2  # the lifetime is over: read again
    assert await gate.refusal("U2", "C1") == NOT_YOU
    assert await gate.refusal("U1", "C1") is None
    assert len(slack.calls_to("usergroups.users.list")) == 2


async def test_slack_failing_keeps_the_members_it_knew_and_lets_no_one_new_in(
    client: AsyncWebClient, slack: SlackFake
) -> None:
    clock = Clock()
    gate = Gate(client, usergroups=frozenset({"S1"}), ttl=300.0, clock=clock)
    slack.fail("usergroups.users.list", "internal_error")
    assert await gate.refusal("U2", "C1") == NOT_YOU  # never read: no one is let in
    clock.now += 301
    assert await gate.refusal("U2", "C1") is None  # read now
    clock.now += 301
    slack.fail("usergroups.users.list", "internal_error")
    assert await gate.refusal("U2", "C1") is None  # Slack failing: the members it knew
    assert await gate.refusal("U1", "C1") == NOT_YOU
    # the failure is not asked again at once: the known members are kept for a lifetime
    calls = len(slack.calls_to("usergroups.users.list"))
    assert await gate.refusal("U2", "C1") is None
    assert len(slack.calls_to("usergroups.users.list")) == calls
