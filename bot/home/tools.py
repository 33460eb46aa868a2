"""What every Home feature works with, in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.home.pace import SlackPace
from bot.home.store import HomeStore
from bot.oracle.catalog import Catalog
from bot.oracle.client import B2CClient
from bot.slack.delivery import SlackPoster


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Tools:
    """Slack, Oracle and the site's named IDs, the task link (``TaskCreator.link``), the
    journal's database, Slack's rate limits, and the clock."""

    slack: AsyncWebClient
    b2c: B2CClient
    catalog: Catalog
    store: HomeStore
    link: Callable[[int], str]
    pace: SlackPace
    clock: Callable[[], datetime] = field(default=_now)

    @property
    def poster(self) -> SlackPoster:
        return SlackPoster(self.slack)
