"""What the Home features keep, in the journal's database (SQLite or PostgreSQL, one code
path): each channel's defaults, each user's reminder setting, and which day's digest each user
was sent (so that a restart, or a second process, never sends it twice)."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.journal import Journal
from bot.journal.engines import create_all

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS channel_defaults (
        channel_id TEXT PRIMARY KEY,
        draft TEXT NOT NULL,
        set_by TEXT,
        set_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS user_reminders (
        user_id TEXT PRIMARY KEY,
        remind INTEGER NOT NULL)""",
    # one row per user and local day: written before the digest is sent (at most once)
    """CREATE TABLE IF NOT EXISTS digests (
        user_id TEXT NOT NULL,
        day TEXT NOT NULL,
        state TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (user_id, day))""",
    "CREATE INDEX IF NOT EXISTS digests_at ON digests (at)",
    # "Created by me from Slack" on the Home tab: a user's latest requests
    "CREATE INDEX IF NOT EXISTS task_requests_user ON task_requests (user_id, created_at)",
    """CREATE TABLE IF NOT EXISTS home_state (
        name TEXT PRIMARY KEY,
        owner TEXT)""",
)


class HomeStore:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.db = journal.db

    async def create(self) -> None:
        await create_all(self.db, SCHEMA)
        await self.db.execute(
            "INSERT INTO home_state (name, owner) VALUES ('digest', NULL) "
            "ON CONFLICT (name) DO NOTHING"
        )

    # ------------------------------------------------------------------ channel defaults
    async def defaults(self, channel_id: str) -> dict[str, Any]:
        """The channel's defaults as a draft dict (``bot.domain.drafts.draft_to_dict``), or {}."""
        rows = await self.db.fetch(
            "SELECT draft FROM channel_defaults WHERE channel_id = ?", channel_id
        )
        return json.loads(rows[0]["draft"]) if rows else {}

    async def set_defaults(self, channel_id: str, draft: dict[str, Any], user_id: str) -> None:
        await self.db.execute(
            "INSERT INTO channel_defaults (channel_id, draft, set_by, set_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (channel_id) DO UPDATE SET "
            "draft = excluded.draft, set_by = excluded.set_by, set_at = excluded.set_at",
            channel_id,
            json.dumps(draft, sort_keys=True),
            user_id,
            time.time(),
        )

    async def clear_defaults(self, channel_id: str) -> bool:
        return (
            await self.db.execute("DELETE FROM channel_defaults WHERE channel_id = ?", channel_id)
        ) > 0

    # ------------------------------------------------------------------ reminders
    async def reminders_on(self, user_id: str) -> bool:
        rows = await self.db.fetch("SELECT remind FROM user_reminders WHERE user_id = ?", user_id)
        return not rows or bool(rows[0]["remind"])

    async def set_reminders(self, user_id: str, on: bool) -> None:
        await self.db.execute(
            "INSERT INTO user_reminders (user_id, remind) VALUES (?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET remind = excluded.remind",
            user_id,
            1 if on else 0,
        )

    async def reminders_off(self) -> set[str]:
        rows = await self.db.fetch("SELECT user_id FROM user_reminders WHERE remind = 0")
        return {row["user_id"] for row in rows}

    # ------------------------------------------------------------------ digests
    async def digest_days(self, day_of: dict[str, str]) -> set[str]:
        """Of ``{user: local day}``, the users whose digest of that day is recorded."""
        if not day_of:
            return set()
        days = sorted(set(day_of.values()))
        marks = ", ".join("?" for _ in days)
        rows = await self.db.fetch(
            f"SELECT user_id, day FROM digests WHERE day IN ({marks})", *days
        )
        return {row["user_id"] for row in rows if day_of.get(row["user_id"]) == row["day"]}

    async def claim_digest(self, user_id: str, day: str, state: str) -> bool:
        """Record a user's digest of ``day`` (``sending`` or ``nothing``); False when it was
        recorded already (by this process before a restart, or by another)."""
        return (
            await self.db.execute(
                "INSERT INTO digests (user_id, day, state, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (user_id, day) DO NOTHING",
                user_id,
                day,
                state,
                time.time(),
            )
        ) == 1

    async def digest_sent(self, user_id: str, day: str, state: str = "sent") -> None:
        await self.db.execute(
            "UPDATE digests SET state = ?, at = ? WHERE user_id = ? AND day = ?",
            state,
            time.time(),
            user_id,
            day,
        )

    async def digest_state(self, user_id: str, day: str) -> str | None:
        rows = await self.db.fetch(
            "SELECT state FROM digests WHERE user_id = ? AND day = ?", user_id, day
        )
        return rows[0]["state"] if rows else None

    async def forget_digests(self, older_than: float) -> int:
        """Retention: the record of digests sent more than ``older_than`` seconds ago."""
        return await self.db.execute(
            "DELETE FROM digests WHERE at < ?", time.time() - max(older_than, 3 * 86400.0)
        )

    async def hold_digest(self) -> bool:
        """Whether this process is (now) the one that sends digests (as the sync poller)."""
        return await self.journal.hold("home_state", "digest")

    # ------------------------------------------------------------------ created from Slack
    async def created_by(self, user_id: str, limit: int = 10) -> list[tuple[int, str]]:
        """The tasks a user created from Slack, newest first: (task id, name)."""
        rows = await self.db.fetch(
            "SELECT task_id, composed FROM task_requests WHERE user_id = ? "
            "AND task_id IS NOT NULL ORDER BY created_at DESC LIMIT ?",
            user_id,
            limit,
        )
        found = []
        for row in rows:
            name = (json.loads(row["composed"]) if row["composed"] else {}).get("name", "")
            found.append((int(row["task_id"]), name))
        return found
