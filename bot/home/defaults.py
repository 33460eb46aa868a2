"""Channel defaults (``/task defaults @org Acme @type Call``): ``ChannelDefaults`` checks a new
set against the site (the same private errors as the command) and keeps it in the journal's
database. Merging them into a draft and describing them is pure (``bot.domain.defaults``)."""

from __future__ import annotations

from typing import Any

from bot.domain.drafts import TaskDraft
from bot.flows.site_values import SiteValues
from bot.home.tools import Tools
from bot.oracle.staff import Staff


class ChannelDefaults:
    def __init__(self, tools: Tools, staff: Staff) -> None:
        self.store = tools.store
        self.values = SiteValues(tools.b2c, tools.catalog, staff)

    async def for_channel(self, channel_id: str) -> dict[str, Any]:
        return await self.store.defaults(channel_id) if channel_id else {}

    async def checked(self, draft: TaskDraft) -> TaskDraft | str:
        """New defaults checked against the site (``bot.flows.site_values``)."""
        return await self.values.checked(draft)
