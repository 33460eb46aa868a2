"""Slack users as the bot needs them: display name, time zone, language and e-mail, cached with
expiry."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    tz: str | None = None
    email: str | None = None
    team: str | None = None  # their workspace (Slack Connect: maybe another organization's)
    enterprise: str | None = None  # their Enterprise Grid organization, if any
    locale: str | None = None  # their Slack language (en-US, fr-FR): how they write dates


class People:
    """``users.info`` behind a small cache (names and zones change rarely)."""

    def __init__(
        self,
        slack: AsyncWebClient,
        *,
        ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self._slack = slack
        self._ttl = ttl
        self._clock = clock
        self._max = max_entries
        self._cache: dict[str, tuple[float, Person]] = {}

    def peek(self, user_id: str) -> Person | None:
        """The user if already known and fresh, without asking Slack."""
        cached = self._cache.get(user_id)
        return cached[1] if cached and cached[0] > self._clock() else None

    async def get(self, user_id: str) -> Person | None:
        """The user, or None when Slack cannot say (the caller falls back to what it has)."""
        cached = self._cache.get(user_id)
        now = self._clock()
        if cached and cached[0] > now:
            return cached[1]
        try:
            response = await self._slack.users_info(user=user_id, include_locale=True)
        except SlackApiError as error:
            log.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
            return None
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = (
            profile.get("real_name")
            or user.get("real_name")
            or profile.get("display_name")
            or user.get("name")
            or user_id
        )
        person = Person(
            user_id,
            name,
            user.get("tz"),
            profile.get("email"),
            user.get("team_id"),
            (user.get("enterprise_user") or {}).get("enterprise_id"),
            user.get("locale"),
        )
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[user_id] = (now + self._ttl, person)
        return person
