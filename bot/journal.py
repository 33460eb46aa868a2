"""The request journal: every acknowledged task request, durably, until it is settled.

A request is written before Slack gets its ack, then moves ``pending`` → ``created`` (with the
task id) or ``failed`` (Oracle unreachable past the retry budget; can be retried) or
``rejected`` (Oracle refused the content, or the assignee was unknown). Its Slack delivery is
tracked apart (``delivery``: ``pending`` → ``done``), so a Slack failure after the task exists
never leads to a second task.

Work is claimed with a lease (an atomic conditional UPDATE, portable across engines): only the
holder of an unexpired lease works on a request, so several bot processes sharing one database
never work on the same request at once. One code path for both engines through SQLAlchemy Core:
a SQLite file by default, PostgreSQL when ``DATABASE_URL`` points at one.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

metadata = MetaData()
requests = Table(
    "task_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("dedupe_key", String(255), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("state", String(20), nullable=False, index=True),
    Column("delivery", String(20), nullable=False, index=True),
    Column("team_id", String(40)),
    Column("channel_id", String(40)),
    Column("user_id", String(40)),
    Column("request", Text, nullable=False),
    Column("draft", Text, nullable=False),
    Column("composed", Text),
    Column("task_id", BigInteger),
    Column("task", Text),
    Column("reason", Text),
    Column("reason_kind", String(40)),
    Column("parent_ts", String(40)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("first_attempt_at", Float),
    Column("lease_owner", String(64)),
    Column("lease_until", Float),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)


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
    def from_row(cls, row: Any) -> Entry:
        return cls(
            id=row.id,
            dedupe_key=row.dedupe_key,
            kind=row.kind,
            state=row.state,
            delivery=row.delivery,
            request=json.loads(row.request),
            draft=json.loads(row.draft),
            composed=json.loads(row.composed) if row.composed else None,
            task_id=row.task_id,
            task=json.loads(row.task) if row.task else None,
            reason=row.reason,
            reason_kind=row.reason_kind,
            parent_ts=row.parent_ts,
            attempts=row.attempts,
            first_attempt_at=row.first_attempt_at,
            created_at=row.created_at,
        )


def engine_url(url: str) -> str:
    """An async driver URL: ``sqlite:///x`` → aiosqlite, ``postgres(ql)://`` → asyncpg."""
    if url.startswith("sqlite:///") or url.startswith("sqlite+aiosqlite:///"):
        return "sqlite+aiosqlite:///" + url.split(":///", 1)[1]
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("must be sqlite:///path or postgresql://user@host/db")


class Journal:
    """The journal's operations; each is one short transaction."""

    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self.owner = uuid.uuid4().hex[:16]

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> Journal:
        async_url = engine_url(url)
        if async_url.startswith("sqlite"):
            engine = create_async_engine(async_url, connect_args={"timeout": 30})

            @event.listens_for(engine.sync_engine, "connect")
            def _pragmas(connection: Any, _record: Any) -> None:
                cursor = connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()
        else:
            engine = create_async_engine(
                async_url, pool_size=10, max_overflow=10, pool_pre_ping=True
            )
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        return cls(engine, **kwargs)

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(select(1))

    async def add(
        self, *, dedupe_key: str, kind: str, request: dict[str, Any], draft: dict[str, Any]
    ) -> str | None:
        """Journal a new request, leased to this process; None if it is a duplicate."""
        now = self.clock()
        entry_id = uuid.uuid4().hex
        values = {
            "id": entry_id,
            "dedupe_key": dedupe_key,
            "kind": kind,
            "state": "pending",
            "delivery": "pending",
            "team_id": request.get("team_id"),
            "channel_id": request.get("channel_id"),
            "user_id": request.get("user_id"),
            "request": json.dumps(request),
            "draft": json.dumps(draft),
            "attempts": 0,
            "lease_owner": self.owner,
            "lease_until": now + 120,
            "created_at": now,
            "updated_at": now,
        }
        try:
            async with self.engine.begin() as connection:
                await connection.execute(insert(requests).values(**values))
        except IntegrityError:
            return None
        return entry_id

    async def get(self, entry_id: str) -> Entry | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(select(requests).where(requests.c.id == entry_id))
            ).first()
        return Entry.from_row(row) if row else None

    async def claim(
        self,
        entry_id: str,
        *,
        lease: float,
        states: tuple[str, ...] = ("pending",),
    ) -> Entry | None:
        """Take the lease on a request if it is unleased (or the lease ran out, or is ours)."""
        now = self.clock()
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(requests)
                .where(requests.c.id == entry_id)
                .where(or_(requests.c.state.in_(states), requests.c.delivery == "pending"))
                .where(
                    or_(
                        requests.c.lease_until.is_(None),
                        requests.c.lease_until < now,
                        requests.c.lease_owner == self.owner,
                    )
                )
                .values(lease_owner=self.owner, lease_until=now + lease, updated_at=now)
            )
            if result.rowcount != 1:
                return None
            row = (
                await connection.execute(select(requests).where(requests.c.id == entry_id))
            ).first()
        return Entry.from_row(row)

    async def unsettled(self, limit: int = 100) -> list[str]:
        """Requests nobody holds that still need work: pending, or created but not delivered."""
        now = self.clock()
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(requests.c.id)
                .where(or_(requests.c.state == "pending", requests.c.delivery == "pending"))
                .where(or_(requests.c.lease_until.is_(None), requests.c.lease_until < now))
                .order_by(requests.c.created_at)
                .limit(limit)
            )
            return [row.id for row in rows]

    async def _set(self, entry_id: str, **values: Any) -> None:
        values["updated_at"] = self.clock()
        async with self.engine.begin() as connection:
            await connection.execute(
                update(requests).where(requests.c.id == entry_id).values(**values)
            )

    async def record_attempt(self, entry_id: str, lease: float) -> None:
        """Before each POST: count it, note when the first one began, renew the lease."""
        now = self.clock()
        async with self.engine.begin() as connection:
            await connection.execute(
                update(requests)
                .where(requests.c.id == entry_id)
                .values(
                    attempts=requests.c.attempts + 1,
                    first_attempt_at=func.coalesce(requests.c.first_attempt_at, now),
                    lease_until=now + lease,
                    updated_at=now,
                )
            )

    async def set_composed(self, entry_id: str, composed: dict[str, Any]) -> None:
        """The Oracle body and display lines, fixed once (a resumed request sends the same)."""
        await self._set(entry_id, composed=json.dumps(composed))

    async def set_parent(self, entry_id: str, ts: str) -> None:
        await self._set(entry_id, parent_ts=ts)

    async def mark_created(self, entry_id: str, task_id: int, task: dict[str, Any]) -> None:
        await self._set(
            entry_id,
            state="created",
            task_id=task_id,
            task=json.dumps(task),
            reason=None,
            reason_kind=None,
        )

    async def mark_unsettled(
        self, entry_id: str, state: str, reason: str, reason_kind: str
    ) -> None:
        """``failed`` (may be retried) or ``rejected`` (needs an edit), with why."""
        await self._set(entry_id, state=state, reason=reason, reason_kind=reason_kind)

    async def reopen(self, entry_id: str) -> bool:
        """A failed request back to pending (the Retry button); False if it was not failed."""
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(requests)
                .where(requests.c.id == entry_id)
                .where(requests.c.state == "failed")
                .values(
                    state="pending",
                    delivery="pending",
                    reason=None,
                    reason_kind=None,
                    updated_at=self.clock(),
                )
            )
        return result.rowcount == 1

    async def mark_delivered(self, entry_id: str, delivery: str = "done") -> None:
        await self._set(entry_id, delivery=delivery)

    async def release(self, entry_id: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                update(requests)
                .where(requests.c.id == entry_id)
                .where(requests.c.lease_owner == self.owner)
                .values(lease_owner=None, lease_until=None, updated_at=self.clock())
            )

    async def counts(self) -> dict[str, int]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(requests.c.state, func.count()).group_by(requests.c.state)
            )
            return {row[0]: row[1] for row in rows}

    async def all(self) -> list[Entry]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(requests).order_by(requests.c.created_at))
            return [Entry.from_row(row) for row in rows]
