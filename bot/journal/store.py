"""The journal's rows (``task_requests``) and its operations, each one statement."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bot.journal.engines import (
    Database,
    PostgresDatabase,
    SqliteDatabase,
    _unavailable,
    parse_url,
)

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS task_requests (
        id TEXT PRIMARY KEY,
        dedupe_key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        delivery TEXT NOT NULL,
        team_id TEXT,
        channel_id TEXT,
        user_id TEXT,
        request TEXT NOT NULL,
        draft TEXT NOT NULL,
        composed TEXT,
        task_id BIGINT,
        task TEXT,
        reason TEXT,
        reason_kind TEXT,
        parent_ts TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        first_attempt_at DOUBLE PRECISION,
        lease_owner TEXT,
        lease_until DOUBLE PRECISION,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS task_requests_todo ON task_requests (state, delivery)",
)
UNSETTLED = "(state = 'pending' OR delivery = 'pending')"
FREE = "(lease_until IS NULL OR lease_until < ?)"


@dataclass(frozen=True)
class Entry:
    id: str
    dedupe_key: str
    kind: str
    state: str
    delivery: str
    request: dict[str, Any]
    draft: dict[str, Any]
    composed: dict[str, Any] | None
    task_id: int | None
    task: dict[str, Any] | None
    reason: str | None
    reason_kind: str | None
    parent_ts: str | None
    attempts: int
    first_attempt_at: float | None
    created_at: float

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Entry:
        def load(value: str | None) -> Any:
            return json.loads(value) if value else None

        return cls(
            id=row["id"],
            dedupe_key=row["dedupe_key"],
            kind=row["kind"],
            state=row["state"],
            delivery=row["delivery"],
            request=load(row["request"]),
            draft=load(row["draft"]),
            composed=load(row["composed"]),
            task_id=row["task_id"],
            task=load(row["task"]),
            reason=row["reason"],
            reason_kind=row["reason_kind"],
            parent_ts=row["parent_ts"],
            attempts=row["attempts"],
            first_attempt_at=row["first_attempt_at"],
            created_at=row["created_at"],
        )


class Journal:
    """The journal's operations; each is one statement (one short transaction)."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self.owner = uuid.uuid4().hex[:16]

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> Journal:
        """Open (and create) the journal; ``JournalUnavailable`` says in one line why not."""
        engine, location = parse_url(url)
        db: Database
        try:
            if engine == "sqlite":
                db = SqliteDatabase(location)
            else:
                db = await PostgresDatabase.connect(location)
        except Exception as error:
            raise _unavailable(engine, location, error) from None
        try:
            for statement in SCHEMA:
                try:
                    await db.execute(statement)
                except Exception as error:  # two processes creating the table at once (PG)
                    if "already exists" not in str(error) and "duplicate key" not in str(error):
                        raise
            # a write that changes nothing: a read-only file or database fails here, not later
            await db.execute("DELETE FROM task_requests WHERE id = ?", "-")
        except Exception as error:
            await db.close()
            raise _unavailable(engine, location, error) from None
        return cls(db, **kwargs)

    async def close(self) -> None:
        await self.db.close()

    async def ping(self) -> None:
        await self.db.fetch("SELECT 1 AS ok")

    async def add(
        self,
        *,
        dedupe_key: str,
        kind: str,
        request: dict[str, Any],
        draft: dict[str, Any],
        lease: float = 120.0,
    ) -> Entry | None:
        """Journal a new request, leased to this process; None if it is a duplicate."""
        now = self.clock()
        entry = Entry(
            id=uuid.uuid4().hex,
            dedupe_key=dedupe_key,
            kind=kind,
            state="pending",
            delivery="pending",
            request=request,
            draft=draft,
            composed=None,
            task_id=None,
            task=None,
            reason=None,
            reason_kind=None,
            parent_ts=None,
            attempts=0,
            first_attempt_at=None,
            created_at=now,
        )
        added = await self.db.execute(
            "INSERT INTO task_requests (id, dedupe_key, kind, state, delivery, team_id, "
            "channel_id, user_id, request, draft, attempts, lease_owner, lease_until, "
            "created_at, updated_at) VALUES (?, ?, ?, 'pending', 'pending', ?, ?, ?, ?, ?, 0, "
            "?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
            entry.id,
            dedupe_key,
            kind,
            request.get("team_id"),
            request.get("channel_id"),
            request.get("user_id"),
            json.dumps(request),
            json.dumps(draft),
            self.owner,
            now + lease,
            now,
            now,
        )
        return entry if added == 1 else None

    async def get(self, entry_id: str) -> Entry | None:
        rows = await self.db.fetch("SELECT * FROM task_requests WHERE id = ?", entry_id)
        return Entry.from_row(rows[0]) if rows else None

    async def claim(self, entry_id: str, *, lease: float) -> Entry | None:
        """Take the lease on a request that needs work if nobody (else) holds it."""
        now = self.clock()
        rows = await self.db.fetch(
            "UPDATE task_requests SET lease_owner = ?, lease_until = ?, updated_at = ? "
            f"WHERE id = ? AND {UNSETTLED} AND (lease_until IS NULL OR lease_until < ? "
            "OR lease_owner = ?) RETURNING *",
            self.owner,
            now + lease,
            now,
            entry_id,
            now,
            self.owner,
        )
        return Entry.from_row(rows[0]) if rows else None

    async def unsettled(self, limit: int = 100) -> list[str]:
        """Requests nobody holds that still need work: pending, or created but not delivered."""
        rows = await self.db.fetch(
            f"SELECT id FROM task_requests WHERE {UNSETTLED} AND {FREE} "
            "ORDER BY created_at LIMIT ?",
            self.clock(),
            limit,
        )
        return [row["id"] for row in rows]

    async def record_attempt(
        self,
        entry: Entry,
        lease: float,
        *,
        composed: dict[str, Any] | None = None,
        parent_ts: str | None = None,
    ) -> Entry:
        """Before each POST: count it, note when the first began, renew the lease (and keep the
        composed body and the task message's ts, so a resumed run sends the same)."""
        now = self.clock()
        composed = composed or entry.composed
        parent_ts = parent_ts or entry.parent_ts
        first = entry.first_attempt_at or now
        await self.db.execute(
            "UPDATE task_requests SET attempts = attempts + 1, first_attempt_at = ?, "
            "composed = COALESCE(?, composed), parent_ts = COALESCE(?, parent_ts), "
            "lease_until = ?, updated_at = ? WHERE id = ?",
            first,
            json.dumps(composed) if composed else None,
            parent_ts,
            now + lease,
            now,
            entry.id,
        )
        return replace(
            entry,
            attempts=entry.attempts + 1,
            first_attempt_at=first,
            composed=composed,
            parent_ts=parent_ts,
        )

    async def set_parent(self, entry: Entry, ts: str) -> Entry:
        await self._set(entry.id, parent_ts=ts)
        return replace(entry, parent_ts=ts)

    async def mark_created(self, entry: Entry, task_id: int, task: dict[str, Any]) -> Entry:
        await self._set(
            entry.id,
            state="created",
            task_id=task_id,
            task=json.dumps(task),
            reason=None,
            reason_kind=None,
        )
        return replace(
            entry, state="created", task_id=task_id, task=task, reason=None, reason_kind=None
        )

    async def mark_unsettled(
        self, entry: Entry, state: str, reason: str, reason_kind: str
    ) -> Entry:
        """``failed`` (may be retried) or ``rejected`` (needs an edit), with why."""
        await self._set(entry.id, state=state, reason=reason, reason_kind=reason_kind)
        return replace(entry, state=state, reason=reason, reason_kind=reason_kind)

    async def reopen(self, entry_id: str) -> bool:
        """A failed request back to pending (the Retry button); False if it was not failed."""
        return (
            await self.db.execute(
                "UPDATE task_requests SET state = 'pending', delivery = 'pending', reason = NULL, "
                "reason_kind = NULL, updated_at = ? WHERE id = ? AND state = 'failed'",
                self.clock(),
                entry_id,
            )
            == 1
        )

    async def finish(self, entry: Entry, delivery: str | None = None) -> Entry:
        """Give up the lease, recording the task message's ts and, when the result reached
        Slack, how."""
        await self.db.execute(
            "UPDATE task_requests SET delivery = COALESCE(?, delivery), parent_ts = "
            "COALESCE(?, parent_ts), lease_owner = NULL, lease_until = NULL, updated_at = ? "
            "WHERE id = ? AND (lease_owner = ? OR lease_owner IS NULL)",
            delivery,
            entry.parent_ts,
            self.clock(),
            entry.id,
            self.owner,
        )
        return replace(entry, delivery=delivery or entry.delivery)

    async def _set(self, entry_id: str, **values: Any) -> None:
        columns = ", ".join(f"{name} = ?" for name in values)
        await self.db.execute(
            f"UPDATE task_requests SET {columns}, updated_at = ? WHERE id = ?",
            *values.values(),
            self.clock(),
            entry_id,
        )

    async def counts(self) -> dict[str, int]:
        rows = await self.db.fetch("SELECT state, COUNT(*) AS n FROM task_requests GROUP BY state")
        return {row["state"]: row["n"] for row in rows}

    async def all(self) -> list[Entry]:
        rows = await self.db.fetch("SELECT * FROM task_requests ORDER BY created_at")
        return [Entry.from_row(row) for row in rows]
