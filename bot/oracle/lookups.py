"""Searching Oracle for the form's pickers: contacts by name or e-mail, organizations by name.

The queries are in ``bot.oracle.roql`` (user text only enters them quoted there). A ``like`` search
cannot escape ``%`` and ``_``, so they match any one character in Oracle, and the rows are kept
only when they hold the typed text itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass

from bot.oracle import roql
from bot.oracle.client import B2CClient
from bot.oracle.errors import B2CError

log = logging.getLogger(__name__)

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


class Names:
    """Oracle's names (lookupName) of contacts, organizations and staff accounts by id, each
    fetched once and kept (the most recent ``size``): the thread shows "Mary Major", not
    "Contact: 83". Concurrent requests for one id share one query; a failed look-up is not
    kept, and the caller shows the id instead."""

    def __init__(self, b2c: B2CClient, size: int = 2000) -> None:
        self._b2c = b2c
        self._size = size
        self._known: OrderedDict[tuple[str, int], asyncio.Future[str | None]] = OrderedDict()

    def prefetch(self, table: str, record_id: int) -> None:
        """Start looking the name up now (beside the create), to have it when the reply is
        posted."""
        if (table, record_id) not in self._known:
            self._start(table, record_id)

    def _start(self, table: str, record_id: int) -> asyncio.Future[str | None]:
        known = asyncio.ensure_future(self._fetch(table, record_id))
        self._known[(table, record_id)] = known
        while len(self._known) > self._size:
            self._known.popitem(last=False)
        return known

    async def name(self, table: str, record_id: int) -> str | None:
        key = (table, record_id)
        known = self._known.get(key)
        if known is None:
            known = self._start(table, record_id)
        else:
            self._known.move_to_end(key)
        name = await asyncio.shield(known)
        if name is None and self._known.get(key) is known:
            del self._known[key]  # not found or failed: ask again next time
        return name

    async def _fetch(self, table: str, record_id: int) -> str | None:
        try:
            rows = await self._b2c.rows(roql.name_by_id(table, record_id), bounded=False)
        except B2CError as error:
            log.info("could not look up the name of %s %d: %s", table, record_id, error.reason)
            return None
        return rows[0][0] if rows and rows[0] and rows[0][0] else None
