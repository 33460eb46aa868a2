"""Channel defaults (``/task defaults @org Acme @type Call``): stored as a draft without a
name, merged into every task made in that channel, whatever the user gave winning.

``merge`` and ``describe`` are pure; ``ChannelDefaults`` checks a new set against the site
(the same private errors as the command) and keeps it in the journal's database."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from bot.domain.drafts import AccountLogin, IdOrName, SlackUser, TaskDraft, draft_from_dict
from bot.domain.grammar import FIELDS
from bot.domain.slack_text import escape
from bot.home.tools import Tools
from bot.oracle import roql
from bot.oracle.catalog import unknown_named
from bot.oracle.errors import B2CError
from bot.oracle.staff import IdentityError, Staff

_NAMES = {spec.attribute: spec.name for spec in FIELDS}


def merge(draft: TaskDraft, defaults: dict[str, Any]) -> TaskDraft:
    """``draft`` with the channel's defaults filled in where the user gave nothing."""
    if not defaults:
        return draft
    base = draft_from_dict({**defaults, "name": ""})
    missing = {
        f.name: getattr(base, f.name)
        for f in fields(TaskDraft)
        if f.name != "name" and getattr(draft, f.name) is None and getattr(base, f.name) is not None
    }
    return replace(draft, **missing) if missing else draft


def _shown(value: Any) -> str:
    if isinstance(value, SlackUser):
        return f"<@{value.user_id}>"
    if isinstance(value, AccountLogin):
        return escape(value.login)
    if isinstance(value, IdOrName):
        return escape(str(value))
    return escape(str(value))


def describe(defaults: dict[str, Any]) -> list[str]:
    """One ``@field value`` per default, in the command's order (Slack text, escaped)."""
    if not defaults:
        return []
    draft = draft_from_dict({**defaults, "name": ""})
    return [
        f"`@{spec.name}` {_shown(getattr(draft, spec.attribute))}"
        for spec in FIELDS
        if getattr(draft, spec.attribute) is not None
    ]


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
