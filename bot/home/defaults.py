"""Channel defaults (``/task defaults @org Acme @type Call``): ``ChannelDefaults`` checks a new
set against the site (the same private errors as the command) and keeps it in the journal's
database. Merging them into a draft and describing them is pure (``bot.domain.defaults``)."""

from __future__ import annotations

from typing import Any

from bot.domain.drafts import TaskDraft
from bot.home.tools import Tools
from bot.oracle import roql
from bot.oracle.catalog import unknown_named
from bot.oracle.errors import B2CError
from bot.oracle.staff import IdentityError, Staff


class ChannelDefaults:
    def __init__(self, tools: Tools, staff: Staff) -> None:
        self.store, self.catalog, self.b2c = tools.store, tools.catalog, tools.b2c
        self.staff = staff

    async def for_channel(self, channel_id: str) -> dict[str, Any]:
        return await self.store.defaults(channel_id) if channel_id else {}

    async def problem(self, draft: TaskDraft) -> str | None:
        """What the site does not have among new defaults (as the command says it), or None."""
        problem = unknown_named(draft, await self.catalog.get())
        if problem is not None:
            return problem
        if draft.assignee is not None:
            try:
                await self.staff.resolve(draft.assignee)
            except IdentityError as error:
                return str(error)
        org = draft.organization
        if org is not None and org.name is not None:
            try:
                found = await self.b2c.query_one_column(roql.organization_by_name(org.name))
            except B2CError:
                return None  # Oracle decides when the task is made
            if not found:
                return f"No organization in B2C Service is named “{org.name}”."
        return None
