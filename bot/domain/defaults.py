"""Channel defaults (``/task defaults @org Acme @type Call``) as drafts: a draft without a
name, merged into every task made in that channel, whatever the user gave winning. Pure; the
feature that checks and keeps them is ``bot.home.defaults``."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from bot.domain.drafts import AccountLogin, IdOrName, SlackUser, TaskDraft, draft_from_dict
from bot.domain.grammar import FIELDS
from bot.domain.slack_text import escape


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


def hint(attributes: list[str], command: str = "/task") -> str:
    """What to tell a requester whose task met a problem in fields the channel's defaults
    filled in (draft attributes, shown as the command's fields)."""
    names = {spec.attribute: spec.name for spec in FIELDS}
    given = ", ".join(f"@{names.get(attribute, attribute)}" for attribute in attributes)
    return f"This channel's defaults filled in {given}: `{command} defaults` to see or change them."


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
