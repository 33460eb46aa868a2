"""Searching Oracle for the form's pickers: contacts by name or e-mail, organizations by name.

User text only ever enters ROQL through ``quote_roql`` / ``like_roql``. The ROQL column paths are
kept here in one place (``emails.address`` is unverified on a live site: Connect PHP spells it
``Emails.Address``).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.b2c import B2CClient, like_roql, quote_roql

CONTACT_SEARCH = (
    "select id, lookupName, emails.address from contacts "
    "where lookupName like {pattern} or emails.address like {prefix} limit 20"
)
ORGANIZATION_SEARCH = (
    "select id, lookupName from organizations where lookupName like {pattern} limit 20"
)
CONTACT_BY_EMAIL = "select id, lookupName from contacts where emails.address = {email} limit 2"
MAX_OPTION_TEXT = 75  # Slack's limit for an option's text


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
    roql = CONTACT_SEARCH.format(
        pattern=like_roql(words), prefix=like_roql(words, prefix_only=True)
    )
    [table, *_] = await b2c.query(roql) or [None]
    if table is None:
        return []
    return [
        Choice(
            str(r["id"]), _label(r.get("lookupName"), r.get("emails.address"), f"Contact {r['id']}")
        )
        for r in table.records()
        if r.get("id")
    ]


async def search_organizations(b2c: B2CClient, text: str) -> list[Choice]:
    words = " ".join(text.split())
    if not words:
        return []
    [table, *_] = await b2c.query(ORGANIZATION_SEARCH.format(pattern=like_roql(words))) or [None]
    if table is None:
        return []
    return [
        Choice(str(r["id"]), r.get("lookupName") or f"Organization {r['id']}")
        for r in table.records()
        if r.get("id")
    ]


async def contact_by_email(b2c: B2CClient, email: str) -> Choice | None:
    """The one contact with this e-mail, or None (none or several)."""
    [table, *_] = await b2c.query(CONTACT_BY_EMAIL.format(email=quote_roql(email))) or [None]
    if table is None or len(table.rows) != 1:
        return None
    record = table.records()[0]
    return Choice(str(record["id"]), _label(record.get("lookupName"), email, "Contact"))
