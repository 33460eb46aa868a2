"""Slack's text format: escaping what we echo, and reading what users type.

Slack treats ``&``, ``<`` and ``>`` as control characters. With "escape channels, users and
links" on, a slash command's text arrives with those entity-encoded and with mentions as
tokens (``<@U123|jane>``, ``<#C123|general>``, ``<!here>``, ``<https://x|label>``).
Everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_TOKEN = re.compile(r"<([^<>]*)>")
_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")


_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: str, limit: int | None = None) -> str:
    """Make any text safe to show in a Slack message: no live mention, link or markup token.
    With ``limit``, the result is at most that long: the text is cut (with an ellipsis) before
    it is escaped, so that an entity, a mention or a link is never cut in half."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if limit is None or len(escaped) <= limit:
        return escaped
    pieces: list[str] = []
    size = 0
    for char in text:
        piece = _ENTITIES.get(char, char)
        if size + len(piece) > limit - 1:
            break
        pieces.append(piece)
        size += len(piece)
    return "".join(pieces).rstrip() + "…"


def unescape(text: str) -> str:
    """Undo Slack's entity encoding of ``&``, ``<`` and ``>`` (and nothing else)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def user_mention_id(value: str) -> str | None:
    """The user id of a value that is exactly one escaped user mention, else None."""
    match = _USER_MENTION.match(value.strip())
    return match.group(1) if match else None


def unnamed_user_ids(text: str) -> list[str]:
    """User ids mentioned without a ``|name`` part: their names must be looked up."""
    return [m.group(1) for m in re.finditer(r"<@([UW][A-Z0-9]+)>", text)]


def _token_to_plain(body: str, names: Mapping[str, str]) -> str:
    target, _, label = body.partition("|")
    if target.startswith("@"):
        user_id = target[1:]
        return "@" + (label or names.get(user_id) or user_id)
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        special = target[1:]
        if special.startswith("subteam^"):
            return label or "@" + special.removeprefix("subteam^")
        if special.startswith("date^"):
            return label or special
        return "@" + special.partition("^")[0]
    if target.startswith("mailto:"):
        return label or target.removeprefix("mailto:")
    if label and label != target:
        return f"{label} ({target})"
    return target


def to_plain(text: str, names: Mapping[str, str] | None = None) -> str:
    """Slack-formatted text as a person reads it, for Oracle: tokens become names, entities
    become characters. ``names`` supplies display names for mentions that arrived without one.
    """
    lookup = names or {}
    return unescape(_TOKEN.sub(lambda m: _token_to_plain(m.group(1), lookup), text))


def first_line_name(text: str, names: dict[str, str] | None = None, limit: int = 80) -> str:
    """A task name from a message (Slack's text; ``names`` for its mentions): its first
    non-empty line, cut at a word to fit."""
    lines = [line.strip() for line in to_plain(text, names).splitlines() if line.strip()]
    if not lines:
        return "Follow up on a Slack message"
    line = lines[0]
    if len(line) <= limit:
        return line
    return line[: limit - 1].rsplit(None, 1)[0] + "…"  # at a space or tab (never empty:
    # the line is stripped, so its start is a word)


def bold(shown: str) -> str:
    """Escaped text in bold, for a name people typed. A name with its own asterisks
    (``*urgent* call``) is quoted instead: wrapped in more, Slack's bold breaks and the name
    comes out garbled."""
    return f"“{shown}”" if "*" in shown else f"*{shown}*"
