"""The site's named IDs for tasks (priorities, statuses, types, templates), cached.

Named IDs are site-configurable, so the bot never hard-codes them: it lists them from Oracle
(``GET /namedIDs/tasks/...``) and keeps them for a while.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

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


def unknown_named(draft: TaskDraft, values: dict[str, list[NamedID]] | None) -> str | None:
    """What the user named that the site does not have (``@priority Urgent``), with the site's
    choices, or None. Only kinds the site listed are checked: an empty or unknown list leaves
    the value to Oracle."""
    given: dict[str, IdOrName | None] = {
        "priority": draft.priority,
        "status": draft.status,
        "type": draft.task_type,
        "template": draft.template,
    }
    for kind, value in given.items():
        choices = (values or {}).get(kind) or []
        if value is None or not choices:
            continue
        if value.id is not None and any(choice.id == value.id for choice in choices):
            continue
        if value.name is not None and any(
            choice.name.casefold() == value.name.casefold() for choice in choices
        ):
            continue
        names = ", ".join(choice.name for choice in choices)
        return f"{LABELS[kind]} must be one of: {names} (not “{value}”)."
    return None


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
