"""The site's named IDs for tasks (priorities, statuses, types, templates), cached.

Named IDs are site-configurable, so the bot never hard-codes them: it lists them from Oracle
(``GET /namedIDs/tasks/...``) and keeps them for a while.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.domain.drafts import IdOrName, TaskDraft
from bot.oracle.client import B2CClient
from bot.oracle.errors import B2CError

log = logging.getLogger(__name__)

# kind -> path under namedIDs/tasks/ (paths by analogy with Oracle's documented
# namedIDs/incidents/severity; unverified for tasks, hence kept here in one place)
KINDS = {
    "priority": "priority",
    "status": "statusWithType/status",
    "type": "taskType",
    "template": "taskTemplate",
}


@dataclass(frozen=True)
class NamedID:
    id: int
    name: str


LABELS = {"priority": "Priority", "status": "Status", "type": "Type", "template": "Template"}


# the draft's attribute for each kind of named ID
ATTRIBUTES = {
    "priority": "priority",
    "status": "status",
    "type": "task_type",
    "template": "template",
}


def _match(value: IdOrName, choices: list[NamedID]) -> NamedID | None:
    if value.id is not None:
        return next((choice for choice in choices if choice.id == value.id), None)
    wanted = (value.name or "").casefold()
    return next((choice for choice in choices if choice.name.casefold() == wanted), None)


def unknown_field(
    draft: TaskDraft, values: dict[str, list[NamedID]] | None
) -> tuple[str, str] | None:
    """The first named value the site does not have (``@priority Urgent``): its draft
    attribute and a line with the site's choices; or None. Only kinds the site listed are
    checked: an empty or unknown list leaves the value to Oracle."""
    for kind, attribute in ATTRIBUTES.items():
        value = getattr(draft, attribute)
        choices = (values or {}).get(kind) or []
        if value is None or not choices or _match(value, choices) is not None:
            continue
        names = ", ".join(choice.name for choice in choices)
        return attribute, f"{LABELS[kind]} must be one of: {names} (not “{value}”)."
    return None


def unknown_named(draft: TaskDraft, values: dict[str, list[NamedID]] | None) -> str | None:
    """The line ``unknown_field`` gives, or None."""
    found = unknown_field(draft, values)
    return found[1] if found else None


def resolve_named(draft: TaskDraft, values: dict[str, list[NamedID]] | None) -> TaskDraft:
    """The draft with each named value the site has given as its id and the site's own name
    (``@priority high`` → 3, "High"): Oracle is sent the id, people are shown the name."""
    changes = {}
    for kind, attribute in ATTRIBUTES.items():
        value = getattr(draft, attribute)
        found = _match(value, (values or {}).get(kind) or []) if value is not None else None
        if found is not None:
            changes[attribute] = IdOrName(id=found.id, name=found.name)
    return replace(draft, **changes) if changes else draft


class Catalog:
    """Named IDs per kind, loaded together and kept for ``ttl`` seconds."""

    def __init__(
        self, b2c: B2CClient, *, ttl: float = 600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._b2c = b2c
        self._ttl = ttl
        self._clock = clock
        self._values: dict[str, list[NamedID]] | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    def cached(self) -> dict[str, list[NamedID]] | None:
        """What is known now without asking Oracle (None when nothing fresh is known)."""
        return self._values if self._values is not None and self._clock() < self._expires else None

    async def get(self) -> dict[str, list[NamedID]]:
        """All kinds; a kind Oracle will not list comes back empty (the form then takes text)."""
        fresh = self.cached()
        if fresh is not None:
            return fresh
        async with self._lock:
            fresh = self.cached()
            if fresh is not None:
                return fresh
            results = await asyncio.gather(*(self._load(path) for path in KINDS.values()))
            values = {kind: items or [] for kind, items in zip(KINDS, results, strict=True)}
            # a kind Oracle failed to list is asked for again soon, not after the full ttl
            ttl = self._ttl if all(items is not None for items in results) else min(self._ttl, 30)
            self._values, self._expires = values, self._clock() + ttl
            return values

    async def _load(self, path: str) -> list[NamedID] | None:
        try:
            data = await self._b2c.named_ids(path)
        except B2CError as error:
            log.warning("could not list named IDs %s: %s", path, error.reason)
            return None
        return [
            NamedID(int(item["id"]), str(item["lookupName"]))
            for item in data
            if isinstance(item, dict) and "id" in item and "lookupName" in item
        ]

    async def status_named(self, name: str) -> NamedID | None:
        for status in (await self.get())["status"]:
            if status.name.lower() == name.lower():
                return status
        return None
