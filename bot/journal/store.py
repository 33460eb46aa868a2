"""The journal's rows (``task_requests``) and its operations, each one statement."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.journal.engines import (
    Database,
    PostgresDatabase,
    SqliteDatabase,
    _unavailable,
    create_all,
    parse_url,
)
from bot.journal.holders import HOLDERS_SCHEMA, Holder, LeaseLost

log = logging.getLogger(__name__)

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
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL)""",
    *HOLDERS_SCHEMA,
)
# columns added since the first release (an existing journal gains them at start-up)
COLUMNS = (
    # when the POST still unanswered began, by the database's clock (NULL once it answered)
    ("post_started_at", "DOUBLE PRECISION"),
)
INDEXES = (
    # the requests that need work are few among many settled ones: a partial index keeps the
    # sweep's query (every few seconds) as cheap with a million settled rows as with none
    "CREATE INDEX IF NOT EXISTS task_requests_unsettled ON task_requests (created_at) "
    "WHERE state = 'pending' OR delivery = 'pending'",
    # retention walks the oldest rows first (created_at never changes: no upkeep per update)
    "CREATE INDEX IF NOT EXISTS task_requests_age ON task_requests (created_at)",
    # replaced by task_requests_unsettled, and it cost an index update on every state change
    "DROP INDEX IF EXISTS task_requests_todo",
)
UNSETTLED = "(state = 'pending' OR delivery = 'pending')"


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
    # seconds since a POST of this request began that has not been answered (a process died
    # or stopped while it was in flight), by the database's clock; None when there is none
    post_age: float | None = None

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
            post_age=row.get("post_age"),
        )


class Journal:
    """The journal's operations; each is one statement (one short transaction).

    A request is held by the process named in its ``lease_owner`` for as long as that process's
    heartbeat row lives (see ``holders``)."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], float] = time.time,
        heartbeat: float = 2.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.holder = Holder(db, interval=heartbeat)
        self._free = self.holder.free_sql()
        self._closed = False

    @property
    def owner(self) -> str:
        return self.holder.owner

    def alive(self) -> bool:
        """Whether this process's leases are certainly still its own (see ``Holder``)."""
        return self.holder.alive()

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> Journal:
        """Open (and create) the journal and start this process's heartbeat;
        ``JournalUnavailable`` says in one line why not."""
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
            await create_all(db, SCHEMA)
            for column, kind in COLUMNS:
                try:
                    await db.execute(f"ALTER TABLE task_requests ADD COLUMN {column} {kind}")
                except Exception as error:  # there already (SQLite and PostgreSQL say so)
                    if "duplicate column" not in str(error) and "already exists" not in str(error):
                        raise
            await create_all(db, INDEXES)
            if engine == "sqlite":
                # this process holds the file's lock: any heartbeat row is a dead process's,
                # and its requests are free at once rather than when the row expires
                await db.execute("DELETE FROM journal_holders")
            journal = cls(db, **kwargs)
            # the first heartbeat is also the write check: a read-only file or database fails
            # here, not later
            await journal.holder.beat()
        except Exception as error:
            await db.close()
            raise _unavailable(engine, location, error) from None
        journal.holder.start()
        return journal

    async def close(self) -> None:
        """Stop the heartbeat and give back every lease this process holds (other processes
        start on them at once), then close the database."""
        if self._closed:
            return
        self._closed = True
        await self.holder.stop()
        try:
            await self.holder.release()
        except Exception as error:  # the database is away: the leases expire by themselves
            log.warning("could not release the journal's leases: %s", type(error).__name__)
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
            "channel_id, user_id, request, draft, attempts, lease_owner, created_at, updated_at) "
            "VALUES (?, ?, ?, 'pending', 'pending', ?, ?, ?, ?, ?, 0, ?, ?, ?) "
            "ON CONFLICT (dedupe_key) DO NOTHING",
            entry.id,
            dedupe_key,
            kind,
            request.get("team_id"),
            request.get("channel_id"),
            request.get("user_id"),
            json.dumps(request),
            json.dumps(draft),
            self.owner,
            now,
            now,
        )
        return entry if added == 1 else None

    async def get(self, entry_id: str) -> Entry | None:
        rows = await self.db.fetch("SELECT * FROM task_requests WHERE id = ?", entry_id)
        return Entry.from_row(rows[0]) if rows else None

    async def claim(self, entry_id: str) -> Entry | None:
        """Take the lease on a request that needs work if no live process (else) holds it."""
        if not self.alive():
            return None
        now = self.db.now_sql
        rows = await self.db.fetch(
            "UPDATE task_requests SET lease_owner = ?, updated_at = ? "
            f"WHERE id = ? AND {UNSETTLED} AND (lease_owner = ? OR {self._free}) "
            f"RETURNING *, {now} - post_started_at AS post_age",
            self.owner,
            self.clock(),
            entry_id,
            self.owner,
        )
        return Entry.from_row(rows[0]) if rows else None

    async def unsettled(self, limit: int = 100) -> list[str]:
        """Requests no live process holds that still need work: pending, or created but not
        delivered."""
        rows = await self.db.fetch(
            f"SELECT id FROM task_requests WHERE {UNSETTLED} AND {self._free} "
            "ORDER BY created_at LIMIT ?",
            limit,
        )
        return [row["id"] for row in rows]

    async def record_attempt(
        self,
        entry: Entry,
        *,
        composed: dict[str, Any] | None = None,
        parent_ts: str | None = None,
    ) -> Entry:
        """Before each POST: count it, note when the first began and that one is in flight (and
        keep the composed body and the task message's ts, so a resumed run sends the same).
        Only while this process holds the request: ``LeaseLost`` otherwise, and no POST."""
        self.holder.check()
        now = self.clock()
        composed = composed or entry.composed
        parent_ts = parent_ts or entry.parent_ts
        first = entry.first_attempt_at or now
        changed = await self.db.execute(
            "UPDATE task_requests SET attempts = attempts + 1, first_attempt_at = ?, "
            "composed = COALESCE(?, composed), parent_ts = COALESCE(?, parent_ts), "
            f"post_started_at = {self.db.now_sql}, updated_at = ? "
            "WHERE id = ? AND lease_owner = ?",
            first,
            json.dumps(composed) if composed else None,
            parent_ts,
            now,
            entry.id,
            self.owner,
        )
        if changed != 1:
            raise LeaseLost(f"request {entry.id} is held by another process now")
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
            post_started_at=None,
        )
        return replace(
            entry, state="created", task_id=task_id, task=task, reason=None, reason_kind=None
        )

    async def mark_unsettled(
        self, entry: Entry, state: str, reason: str, reason_kind: str
    ) -> Entry:
        """``failed`` (may be retried) or ``rejected`` (needs an edit), with why."""
        await self._set(
            entry.id, state=state, reason=reason, reason_kind=reason_kind, post_started_at=None
        )
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
            "COALESCE(?, parent_ts), lease_owner = NULL, updated_at = ? "
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

    async def backlog(self) -> tuple[int, float | None]:
        """How many requests still need work (to settle or to deliver), and when the oldest
        of them was journaled (None: none)."""
        rows = await self.db.fetch(
            f"SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM task_requests WHERE {UNSETTLED}"
        )
        oldest = rows[0]["oldest"]
        return int(rows[0]["n"]), float(oldest) if oldest is not None else None

    async def counts(self) -> dict[str, int]:
        rows = await self.db.fetch("SELECT state, COUNT(*) AS n FROM task_requests GROUP BY state")
        return {row["state"]: row["n"] for row in rows}

    async def all(self) -> list[Entry]:
        rows = await self.db.fetch("SELECT * FROM task_requests ORDER BY created_at")
        return [Entry.from_row(row) for row in rows]

    async def forget_settled(
        self, older_than: float, *, batch: int = 500, pause: float = 0.05
    ) -> int:
        """Delete settled requests created more than ``older_than`` seconds ago (and the user
        text they hold), ``batch`` rows per statement with a pause between, so that acks are
        never held up behind a long delete. Requests still being worked on are kept."""
        return await delete_in_batches(
            self.db,
            "task_requests",
            f"created_at < ? AND NOT {UNSETTLED}",
            self.clock() - older_than,
            batch=batch,
            pause=pause,
        )

    async def hold(self, table: str, name: str) -> bool:
        """Whether this process holds (now) the row ``name`` of ``table`` (columns ``name``,
        ``owner``): a job one process at a time does (the thread poller, the digests). The row
        is taken when it is free, ours, or its holder is dead."""
        if not self.alive():
            return False
        free = self.holder.free_sql(table, "owner")
        changed = await self.db.execute(
            f"UPDATE {table} SET owner = ? WHERE name = ? AND (owner = ? OR {free})",
            self.owner,
            name,
            self.owner,
        )
        return changed == 1

    async def forget_forever(
        self,
        days: float,
        *,
        every: float = 3600.0,
        first_after: float = 30.0,
        also: Sequence[Callable[[float], Awaitable[int]]] = (),
    ) -> None:
        """Retention (``JOURNAL_RETENTION_DAYS``): forget settled requests older than ``days``
        (and, with ``also``, other settled rows that hold user text: each called with the age
        in seconds), first soon after start-up (not during it), then every ``every`` seconds."""
        await asyncio.sleep(first_after)
        while True:
            for forget in (self.forget_settled, *also):
                try:
                    deleted = await forget(days * 86400.0)
                except Exception as error:  # the database may be briefly away: next round
                    log.warning("journal retention failed: %s", type(error).__name__)
                    continue
                if deleted:
                    log.info(
                        "journal retention: forgot %d settled row(s) older than %g days",
                        deleted,
                        days,
                        extra={"event": "journal_retention", "count": deleted},
                    )
            await asyncio.sleep(every)


async def delete_in_batches(
    db: Database, table: str, where: str, *args: Any, batch: int = 500, pause: float = 0.05
) -> int:
    """``DELETE FROM table WHERE where``, ``batch`` rows (oldest first) per statement with a
    pause between: a long delete never holds up an ack. ``table`` has ``id``, ``created_at``."""
    deleted = 0
    while True:
        count = await db.execute(
            f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {where} "
            "ORDER BY created_at LIMIT ?)",
            *args,
            batch,
        )
        deleted += count
        if count < batch:
            return deleted
        await asyncio.sleep(pause)
