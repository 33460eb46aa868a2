"""What the bot learns of its Oracle site at start-up: the task name's maximum length.

Oracle does not document the limit; a site describes its tasks in
``GET /metadata-catalog/tasks`` (JSON Schema). Where that cannot be read, 240 characters.
``python -m bot doctor`` reads the same schema and reports what it found.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.oracle.client import B2CClient
from bot.oracle.errors import B2CError

log = logging.getLogger(__name__)
DEFAULT_NAME_MAX = 240


def _properties(schema: Any) -> dict[str, Any]:
    """The ``properties`` of a schema, wherever Oracle nests them (top level, ``items``, or a
    single definition)."""
    if not isinstance(schema, dict):
        return {}
    if isinstance(schema.get("properties"), dict):
        return schema["properties"]
    for key in ("items", "definitions", "$defs"):
        inner = schema.get(key)
        if isinstance(inner, dict):
            found = _properties(inner) or next(
                (_properties(v) for v in inner.values() if _properties(v)), {}
            )
            if found:
                return found
    return {}


def name_max_length(schema: Any) -> int | None:
    """``properties.name.maxLength`` of the tasks schema, if the site gives one."""
    value = (_properties(schema).get("name") or {}).get("maxLength")
    return value if isinstance(value, int) and value > 0 else None


def custom_field(schema: Any, name: str) -> dict[str, Any] | None:
    """The schema of the task custom field ``customFields.c.<name>``, if the site lists it."""
    custom = _properties(_properties(schema).get("customFields"))
    field = _properties(custom.get("c")).get(name)
    return field if isinstance(field, dict) else None


def required_fields(schema: Any) -> list[str]:
    required = schema.get("required") if isinstance(schema, dict) else None
    return [str(name) for name in required] if isinstance(required, list) else []


@dataclass
class SiteLimits:
    name_max_length: int = DEFAULT_NAME_MAX
    source: str = "default"  # "metadata" once read from the site

    async def learn(self, b2c: B2CClient) -> None:
        """Read the limits from the site's metadata; keep the defaults if it will not say."""
        try:
            schema = await b2c.metadata("tasks")
        except B2CError as error:
            log.warning(
                "could not read the tasks metadata (%s); task names are limited to %d characters",
                error.reason,
                self.name_max_length,
            )
            return
        found = name_max_length(schema)
        if found is not None:
            self.name_max_length, self.source = found, "metadata"
        log.info("task names: at most %d characters (%s)", self.name_max_length, self.source)

    def name_problem(self, name: str) -> str | None:
        """What is wrong with a task name's length, for the person who typed it, or None."""
        if len(name) <= self.name_max_length:
            return None
        return (
            f"The task name is {len(name):,} characters long; B2C Service takes at most "
            f"{self.name_max_length:,}. Shorten it and put the rest in a note (`@note …`)."
        )
