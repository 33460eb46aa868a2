"""The tracked tasks and the poller's cursor, in the journal's database (SQLite or PostgreSQL,
one code path: the journal's engine adapters).

Every change of what a thread shows is a compare-and-set on the shown state (``UPDATE ...
WHERE shown = <what this process read>``): of two processes that saw the same change, one
wins and posts, the other changes nothing and stays quiet. The poller itself is held by one
process at a time (``sync_state`` row ``poller``, good while its holder's heartbeat lives)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from bot.journal import Journal
from bot.journal.engines import create_all, fetch_by_ids

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS tracked_tasks (
        task_id BIGINT PRIMARY KEY,
        team_id TEXT,
        channel_id TEXT NOT NULL,
        message_ts TEXT NOT NULL,
        thread_ts TEXT NOT NULL,
        requester TEXT,
        shown TEXT NOT NULL,
        notes_seen INTEGER NOT NULL DEFAULT 0,
        own_change_until DOUBLE PRECISION,
        checked_at DOUBLE PRECISION NOT NULL DEFAULT 0,
        tracked_at DOUBLE PRECISION NOT NULL)""",
    # deletions are found by looking at a few tracked tasks a round, the longest unchecked
    "CREATE INDEX IF NOT EXISTS tracked_tasks_checked ON tracked_tasks (checked_at)",
    # a reply arrives with its channel and thread: which task does that thread follow?
    "CREATE INDEX IF NOT EXISTS tracked_tasks_thread ON tracked_tasks (channel_id, thread_ts)",
    """CREATE TABLE IF NOT EXISTS sync_state (
        name TEXT PRIMARY KEY,
        owner TEXT,
        value TEXT)""",
)
OWN_CHANGE = 30.0  # seconds a change the bot makes itself is not reported as made in B2C


@dataclass(frozen=True)
class Tracked:
    task_id: int
    channel_id: str
    message_ts: str
    thread_ts: str
    requester: str | None
    shown: dict[str, Any]
    shown_text: str  # as stored: the compare-and-set compares this
    notes_seen: int
    own_change: bool  # the bot itself is changing this task right now

    @classmethod
    def from_row(cls, row: dict[str, Any], now: float) -> Tracked:
        return cls(
            task_id=int(row["task_id"]),
            channel_id=row["channel_id"],
            message_ts=row["message_ts"],
            thread_ts=row["thread_ts"],
            requester=row["requester"],
            shown=json.loads(row["shown"]),
            shown_text=row["shown"],
            notes_seen=int(row["notes_seen"]),
            own_change=(row["own_change_until"] or 0) > now,
        )


def _text(shown: dict[str, Any]) -> str:
    return json.dumps(shown, sort_keys=True, separators=(",", ":"))


class SyncStore:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.db = journal.db

    async def create(self) -> None:
        await create_all(self.db, SCHEMA)
        # the poller's row, once (hold_poller only ever updates it)
        await self.db.execute(
            "INSERT INTO sync_state (name, owner, value) VALUES ('poller', NULL, NULL) "
            "ON CONFLICT (name) DO NOTHING"
        )

    async def track(
        self,
        task_id: int,
        *,
        team_id: str | None,
        channel_id: str,
        message_ts: str,
        thread_ts: str,
        requester: str | None,
        shown: dict[str, Any],
        notes_seen: int,
    ) -> None:
        """Follow a task from now on (once: a second call changes nothing)."""
        await self.db.execute(
            "INSERT INTO tracked_tasks (task_id, team_id, channel_id, message_ts, thread_ts, "
            "requester, shown, notes_seen, tracked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (task_id) DO NOTHING",
            int(task_id),
            team_id,
            channel_id,
            message_ts,
            thread_ts,
            requester,
            _text(shown),
            notes_seen,
            time.time(),
        )

    async def tracked(self, task_ids: list[int]) -> dict[int, Tracked]:
        """The tracked ones among ``task_ids`` (one query per 500)."""
        now = time.time()
        rows = await fetch_by_ids(
            self.db, "SELECT * FROM tracked_tasks WHERE task_id IN ({ids})", task_ids
        )
        items = (Tracked.from_row(row, now) for row in rows)
        return {item.task_id: item for item in items}

    async def task_of_thread(self, channel_id: str, thread_ts: str) -> int | None:
        """The task a thread follows, if any."""
        rows = await self.db.fetch(
            "SELECT task_id FROM tracked_tasks WHERE channel_id = ? AND thread_ts = ?",
            channel_id,
            thread_ts,
        )
        return int(rows[0]["task_id"]) if rows else None

    async def to_check(self, limit: int) -> list[Tracked]:
        """The ``limit`` tracked tasks looked at longest ago (for deletions), marked looked at."""
        now = time.time()
        rows = await self.db.fetch("SELECT * FROM tracked_tasks ORDER BY checked_at LIMIT ?", limit)
        items = [Tracked.from_row(row, now) for row in rows]
        if items:
            marks = ", ".join("?" * len(items))
            await self.db.execute(
                f"UPDATE tracked_tasks SET checked_at = ? WHERE task_id IN ({marks})",
                now,
                *(item.task_id for item in items),
            )
        return items

    async def forget(self, task_id: int) -> bool:
        """Stop following a task (deleted in Oracle); True for the process that did it."""
        return (
            await self.db.execute("DELETE FROM tracked_tasks WHERE task_id = ?", int(task_id)) == 1
        )

    async def count(self) -> int:
        rows = await self.db.fetch("SELECT COUNT(*) AS n FROM tracked_tasks")
        return int(rows[0]["n"])

    async def replace_shown(
        self, item: Tracked, shown: dict[str, Any], notes_seen: int | None = None
    ) -> bool:
        """Compare-and-set: True if this process moved the thread from what it read to
        ``shown`` (and so is the one to say so), False if another got there first."""
        changed = await self.db.execute(
            "UPDATE tracked_tasks SET shown = ?, notes_seen = COALESCE(?, notes_seen) "
            "WHERE task_id = ? AND shown = ? AND notes_seen = ?",
            _text(shown),
            notes_seen,
            item.task_id,
            item.shown_text,
            item.notes_seen,
        )
        return changed == 1

    async def own_change(self, task_id: int) -> None:
        """The bot is about to change this task itself (a button, a note from Slack): not a
        change "made in B2C Service" while it lasts."""
        await self.db.execute(
            "UPDATE tracked_tasks SET own_change_until = ? WHERE task_id = ?",
            time.time() + OWN_CHANGE,
            int(task_id),
        )

    async def own_change_done(
        self, task_id: int, shown: dict[str, Any] | None, notes_added: int
    ) -> None:
        """The bot's own change is in Oracle (or failed): what the thread shows now, and the
        notes it added, said by the bot itself."""
        await self.db.execute(
            "UPDATE tracked_tasks SET shown = COALESCE(?, shown), notes_seen = notes_seen + ?, "
            "own_change_until = NULL WHERE task_id = ?",
            _text(shown) if shown is not None else None,
            notes_added,
            int(task_id),
        )

    # ------------------------------------------------------------------ the poller's state
    async def hold_poller(self) -> bool:
        """Whether this process is (now) the one poller: the row is free, ours, or its
        holder is dead."""
        return await self.journal.hold("sync_state", "poller")

    async def cursor(self) -> str | None:
        rows = await self.db.fetch("SELECT value FROM sync_state WHERE name = 'cursor'")
        return rows[0]["value"] if rows else None

    async def set_cursor(self, value: str) -> None:
        await self.db.execute(
            "INSERT INTO sync_state (name, owner, value) VALUES ('cursor', NULL, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            value,
        )
