"""Slack Connect: which channels are shared with another organization, and who is from one.

Slack marks a shared channel (``is_ext_shared``) and a person's organization (their team) and
nothing else, so the bot tells them apart by these alone (Slack's guidance for apps in
Slack Connect channels)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.people import People

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Home:
    """The organization that installed the bot: its workspace, its Enterprise Grid org (if
    any), and its name for messages."""

    team_id: str | None = None
    enterprise_id: str | None = None
    name: str = "this workspace"


class Organizations:
    """Who is from another organization: a person whose team is not the installing one. An
    Enterprise Grid organization's own workspaces are not another organization."""

    def __init__(
        self, slack: AsyncWebClient, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.slack = slack
        self.clock = clock
        self.home = Home()
        self._asked_at: float | None = None

    @property
    def known(self) -> bool:
        return self.home.team_id is not None

    async def learn(self, *, every: float = 0.0) -> Home:
        """Ask Slack (``auth.test``) which organization installed the bot; with ``every``, not
        again within that many seconds of the last time (Slack away at start-up)."""
        now = self.clock()
        if self._asked_at is not None and now - self._asked_at < every:
            return self.home
        self._asked_at = now
        try:
            answer = await self.slack.auth_test()
        except Exception as error:  # Slack away: nobody is an outsider until it answers
            log.warning("could not learn the bot's own workspace: %s", type(error).__name__)
            return self.home
        self.home = Home(
            team_id=answer.get("team_id"),
            enterprise_id=answer.get("enterprise_id") or None,
            name=answer.get("team") or "this workspace",
        )
        return self.home

    def outsider(self, team: str | None, enterprise: str | None = None) -> bool:
        """Whether a person of this team (a ``T…`` workspace, or an ``E…`` organization as
        Slack gives some events' ``user_team``) is from another organization; False when the
        team is not known (the caller asks Slack where it must know)."""
        home = self.home
        if not team or home.team_id is None:
            return False
        if team.startswith("E"):
            return team != home.enterprise_id
        if team == home.team_id:
            return False
        return not (home.enterprise_id and enterprise == home.enterprise_id)

    def refusal(self) -> str:
        return (
            f"Only {self.home.name}'s support team can act on B2C Service tasks from Slack. "
            "Nothing was changed."
        )


class SharedChannels:
    """Whether a channel is shared with another organization: what Slack said last (an event's
    ``is_ext_shared_channel``, ``channel_shared``/``channel_unshared``), else
    ``conversations.info``, at most once per channel per ``ttl``. Channels the operator opened
    fully (``SLACK_CONNECT_OPEN_CHANNELS``) are treated as any other."""

    def __init__(
        self,
        slack: AsyncWebClient,
        *,
        opened: frozenset[str] = frozenset(),
        ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self.slack = slack
        self.opened = opened
        self.ttl = ttl
        self.clock = clock
        self.max_entries = max_entries
        self._known: dict[str, tuple[float, bool]] = {}

    def said(self, channel: str | None, shared: bool) -> None:
        """What Slack said of a channel (an event's envelope, a share or unshare)."""
        if not channel:
            return
        if len(self._known) >= self.max_entries:
            self._known.clear()
        self._known[channel] = (self.clock() + self.ttl, shared)

    def peek(self, channel: str | None) -> bool | None:
        """Whether the channel is shared, if known and fresh (no call)."""
        if not channel:
            return None
        known = self._known.get(channel)
        return known[1] if known and known[0] > self.clock() else None

    async def shared(self, channel: str | None) -> bool:
        """Whether the channel is shared with another organization (direct messages never
        are). Unknown because Slack is away: treated as shared (nothing internal shown there)
        and asked again next time."""
        if not channel or channel.startswith("D"):
            return False
        known = self.peek(channel)
        if known is not None:
            return known
        try:
            answer = await self.slack.conversations_info(channel=channel)
        except SlackApiError as error:
            data = error.response.data  # (an HTML page, from a proxy: no error code)
            code = (
                data.get("error")
                if isinstance(data, dict)
                else f"HTTP {error.response.status_code}"
            )
            if code in ("channel_not_found", "missing_scope"):  # no way to know: not shared
                log.warning("conversations.info %s for %s: taken as not shared", code, channel)
                self.said(channel, False)
                return False
            log.warning("conversations.info failed for %s: %s", channel, code)
            return True
        except Exception as error:
            log.warning("conversations.info failed for %s: %s", channel, type(error).__name__)
            return True
        info = answer.get("channel") or {}
        self.said(channel, bool(info.get("is_ext_shared")))
        return bool(info.get("is_ext_shared"))

    async def restricted(self, channel: str | None) -> bool:
        """Whether only what its people may read goes there: shared and not opened fully."""
        if channel in self.opened:
            return False
        return await self.shared(channel)


class SlackConnect:
    """Where the bot is and who is asking: the one place the surfaces ask."""

    def __init__(self, orgs: Organizations, channels: SharedChannels, people: People) -> None:
        self.orgs = orgs
        self.channels = channels
        self.people = people

    async def outsider(
        self,
        user: str,
        *,
        team: str | None = None,
        enterprise: str | None = None,
        channel: str | None = None,
    ) -> bool:
        """Whether this person is from another organization: by the team Slack gave with
        their action when it did (``user.team_id``, ``user_team``), else, in a shared channel
        only, by their ``users.info`` (cached; nobody else can be there)."""
        if not self.orgs.known:  # Slack was away at start-up: ask again (every 5 s at most)
            await self.orgs.learn(every=5.0)
        if team and self.orgs.outsider(team, enterprise):
            return True
        if channel is None or not await self.channels.shared(channel):
            return False
        if not self.orgs.known:  # who is who is not known yet: nobody acts from a shared channel
            return True
        person = await self.people.get(user)
        return person is not None and self.orgs.outsider(person.team, person.enterprise)

    def refusal(self) -> str:
        return self.orgs.refusal()

    async def restricted(self, channel: str | None) -> bool:
        return await self.channels.restricted(channel)

    def heard(self, body: dict) -> None:
        """An event's envelope says whether its channel is shared (``is_ext_shared_channel``):
        remembered, so no ``conversations.info`` is needed for it."""
        if not isinstance(body, dict) or not isinstance(body.get("is_ext_shared_channel"), bool):
            return
        event = body.get("event")
        if not isinstance(event, dict):
            return
        item = event.get("item") if isinstance(event.get("item"), dict) else {}
        channel = event.get("channel") or item.get("channel")
        if isinstance(channel, str):
            self.channels.said(channel, body["is_ext_shared_channel"])
