"""Link previews: a task link pasted in a channel (any URL of ``B2C_TASK_URL``'s form) is
unfurled (``link_shared`` → ``chat.unfurl``) into a card with the task's name, status,
assignee, due date and its buttons. ``TASK_UNFURL=off`` turns it off, for workspaces where the
bot's B2C account sees more than a channel should."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.home import views
from bot.home.tools import Tools
from bot.oracle import roql
from bot.oracle.errors import B2CError

log = logging.getLogger(__name__)
MAX_LINKS = 5  # Slack sends at most a few links a message; more are left as they are


def link_pattern(template: str, site: str) -> re.Pattern[str]:
    """A pattern for the task links ``template`` makes (``{site}``, ``{id}``): group 1 the id."""
    marker = "\x00"
    example = template.format(site=site.rstrip("/"), id=marker)
    head, tail = (re.escape(part) for part in example.split(marker, 1))
    head = re.sub(r"^https?://", "https?://", head)  # Slack may show either scheme
    return re.compile(rf"^{head}(\d{{1,18}}){tail}/?$")


class Unfurls:
    def __init__(self, tools: Tools, pattern: re.Pattern[str]) -> None:
        self.slack, self.b2c, self.catalog = tools.slack, tools.b2c, tools.catalog
        self.link, self.pace, self.clock = tools.link, tools.pace, tools.clock
        self.pattern = pattern
        # whether a channel gets only a task's id and status (Slack Connect; bot.slack.connect)
        self.restricted: Callable[[str], Awaitable[bool]] | None = None

    def task_ids(self, event: dict[str, Any]) -> dict[str, int]:
        """The event's task links: url -> task id."""
        found = {}
        for link in event.get("links") or []:
            match = self.pattern.match(link.get("url") or "")
            if match:
                found[link["url"]] = int(match.group(1))
        return dict(list(found.items())[:MAX_LINKS])

    async def unfurl(self, event: dict[str, Any]) -> int:
        """Unfurl the event's task links; the number unfurled."""
        links = self.task_ids(event)
        if not links:
            return 0
        try:
            found = await self.b2c.rows(roql.tasks_by_id(sorted(set(links.values()))))
            statuses = (await self.catalog.get()).get("status")
        except B2CError as error:
            log.info("link preview: tasks unreadable: %s", error)
            return 0
        rows = {int(c[0]): views.row_from_cells(c) for c in found if c and c[0]}
        now = self.clock()
        channel = str(event.get("channel") or "")
        # a preview in the message composer (channel "COMPOSER") may be for any channel
        brief = self.restricted is not None and (
            channel[:1] not in ("C", "G", "D") or await self.restricted(channel)
        )
        unfurls = {
            url: views.brief_card(rows[task_id], self.link(task_id))
            if brief
            else views.unfurl_card(rows[task_id], self.link(task_id), statuses, now)
            for url, task_id in links.items()
            if task_id in rows  # a task that does not exist is left as a plain link
        }
        if not unfurls:
            return 0
        where: dict[str, Any] = (
            {"unfurl_id": event["unfurl_id"], "source": event.get("source", "composer")}
            if event.get("unfurl_id")
            else {"channel": event.get("channel"), "ts": event.get("message_ts")}
        )
        try:
            async with self.pace("chat.unfurl"):
                await self.slack.chat_unfurl(unfurls=unfurls, **where)
        except SlackApiError as error:
            log.info("chat.unfurl failed: %s", error.response.get("error"))
            return 0
        return len(unfurls)
