"""Searching Oracle for the form's pickers: contacts by name or e-mail, organizations by name.

The queries are in ``bot.roql`` (user text only enters them quoted there). A ``like`` search
cannot escape ``%`` and ``_``, so they match any one character in Oracle, and the rows are kept
only when they hold the typed text itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import roql
from bot.b2c import B2CClient

MAX_OPTION_TEXT = 75  # Slack's limit for an option's text
MAX_OPTIONS = 20


@dataclass(frozen=True)
class Choice:
    value: str
    label: str

    def option(self) -> dict[str, object]:
        text = self.label if len(self.label) <= MAX_OPTION_TEXT else self.label[:74] + "…"
        return {"text": {"type": "plain_text", "text": text}, "value": self.value}


def _label(name: str | None, email: str | None, fallback: str) -> str:
    parts = [p for p in (name, email) if p]
    return " · ".join(parts) if parts else fallback


async def search_contacts(b2c: B2CClient, text: str) -> list[Choice]:
    words = " ".join(text.split())
    if not words:
        return []
    choices = [
        Choice(contact_id, _label(name, email, f"Contact {contact_id}"))
        for contact_id, name, email, *_ in await b2c.rows(roql.contact_search(words))
        if contact_id and (roql.contains(name, words) or roql.starts(email, words))
    ]
    return choices[:MAX_OPTIONS]


async def search_organizations(b2c: B2CClient, text: str) -> list[Choice]:
    words = " ".join(text.split())
    if not words:
        return []
    choices = [
        Choice(org_id, name or f"Organization {org_id}")
        for org_id, name, *_ in await b2c.rows(roql.organization_search(words))
        if org_id and roql.contains(name, words)
    ]
    return choices[:MAX_OPTIONS]


async def contact_by_email(b2c: B2CClient, email: str) -> Choice | None:
    """The one contact with this e-mail, or None (none or several)."""
    rows = await b2c.rows(roql.contact_by_email(email))
    if len(rows) != 1 or not rows[0][0]:
        return None
    contact_id, name, *_ = rows[0]
    return Choice(str(contact_id), _label(name, email, "Contact"))
