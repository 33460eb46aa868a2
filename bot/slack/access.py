"""Who may create tasks, and where: optional allow-lists of channels, users and user groups."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class Gate:
    """Empty lists allow everyone; user groups are read from Slack (``usergroups:read``)."""

    def __init__(
        self,
        slack: AsyncWebClient,
        *,
        channels: frozenset[str] = frozenset(),
        users: frozenset[str] = frozenset(),
        usergroups: frozenset[str] = frozenset(),
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.slack = slack
        self.channels = channels
        self.users = users
        self.usergroups = usergroups
        self.ttl = ttl
        self.clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    @property
    def open(self) -> bool:
        return not (self.channels or self.users or self.usergroups)

    def channel_allowed(self, channel_id: str) -> bool:
        """Whether the bot may post in this channel of its own accord (ALLOWED_CHANNELS)."""
        return not self.channels or channel_id in self.channels

    async def _group_members(self, group: str) -> frozenset[str]:
        cached = self._members.get(group)
        if cached and cached[0] > self.clock():
            return cached[1]
        try:
            response = await self.slack.usergroups_users_list(usergroup=group)
            members = frozenset(response.get("users") or [])
        except SlackApiError as error:
            log.warning("could not list user group %s: %s", group, error.response.get("error"))
            members = cached[1] if cached else frozenset()
        self._members[group] = (self.clock() + self.ttl, members)
        return members

    async def refusal(self, user_id: str, channel_id: str | None) -> str | None:
        """Why this user may not create tasks here, or None when they may."""
        if self.channels and channel_id and channel_id not in self.channels:
            return (
                "Tasks can't be created from this channel. Ask your Slack admin which "
                "channels the task bot works in."
            )
        if not (self.users or self.usergroups) or user_id in self.users:
            return None
        for group in self.usergroups:
            if user_id in await self._group_members(group):
                return None
        return (
            "You are not on the list of people who can create Oracle B2C Service tasks "
            "from Slack. Ask your Slack admin to add you."
        )
