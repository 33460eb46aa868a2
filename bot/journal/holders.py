"""Which bot processes are alive: each keeps a heartbeat row, and a request's lease is good only
while its holder's row is.

A process writes ``journal_holders(owner, alive_until)`` when it opens the journal and renews it
every ``interval`` seconds, ``alive_until`` being the database's own clock plus ``ttl`` (three
intervals). A request whose ``lease_owner`` has no live row is free: when a process dies, however
it dies (``kill -9``, OOM, a crashed machine), every request it held is free within ``ttl``
seconds, whatever its Oracle calls were doing, and a live holder keeps its leases however long
an Oracle call takes. A process that stops (SIGTERM) gives its leases back at once.

The holder also fences itself: it counts its own row as good only until ``ttl - interval``
seconds after it *sent* its last successful renewal (its own monotonic clock, so no clock of any
other machine matters). Past that, others may soon take its requests, so it stops working on
them (``on_lost``) and says so; when the database answers again it comes back under a new owner
name, so that requests others have not taken yet are simply free again.

Why heartbeat rows rather than PostgreSQL advisory locks: a lock held by a session ends with the
connection, which a dead *machine* does not close until TCP keepalive gives up (hours by
default), and the embedded SQLite journal has no sessions at all; rows work the same on both.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from bot.journal.engines import Database

log = logging.getLogger(__name__)

HOLDERS_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS journal_holders (
        owner TEXT PRIMARY KEY,
        alive_until DOUBLE PRECISION NOT NULL,
        host TEXT,
        pid INTEGER,
        started_at DOUBLE PRECISION NOT NULL)""",
)


class LeaseLost(Exception):
    """This process may no longer hold its leases (its heartbeat is overdue, or another process
    took the request): it must stop working on them."""


class Holder:
    """This process's heartbeat row and its view of whether its leases are still good."""

    def __init__(
        self,
        db: Database,
        *,
        interval: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.interval = interval
        self.ttl = 3 * interval
        self.monotonic = monotonic
        self.owner = uuid.uuid4().hex[:16]
        self.on_lost: list[Callable[[], Any]] = []  # called once each time the leases go
        self._good_until = float("-inf")
        self._lost = False
        self._task: asyncio.Task[None] | None = None
        self._watch: asyncio.TimerHandle | None = None

    def alive(self) -> bool:
        """Whether this process's leases are certainly still its own."""
        return self.monotonic() < self._good_until

    def check(self) -> None:
        if not self.alive():
            raise LeaseLost("this process's heartbeat in the journal is overdue")

    async def beat(self) -> None:
        """Write (or renew) the heartbeat row. After an outage: a new owner name first."""
        sent = self.monotonic()
        was_lost = self._lost
        if was_lost:  # the old name's row goes first (a failed attempt keeps the old name)
            await self.db.execute(
                "DELETE FROM journal_holders WHERE owner = ?",
                self.owner,
            )
            self.owner = uuid.uuid4().hex[:16]
        now = self.db.now_sql
        await self.db.execute(
            "INSERT INTO journal_holders (owner, alive_until, host, pid, started_at) "
            f"VALUES (?, {now} + ?, ?, ?, {now}) "
            "ON CONFLICT (owner) DO UPDATE SET alive_until = excluded.alive_until",
            self.owner,
            self.ttl,
            socket.gethostname(),
            os.getpid(),
        )
        self._good_until = max(self._good_until, sent + self.ttl - self.interval)
        if was_lost and self.alive():
            self._lost = False
            log.warning(
                "the journal's database answers again: this process works on requests again",
                extra={"event": "journal_back"},
            )
        self._arm_watch()

    def _arm_watch(self) -> None:
        """Notice the moment the leases go, not at the next beat."""
        if self._watch is not None:
            self._watch.cancel()
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._good_until - self.monotonic())
        self._watch = loop.call_later(delay, self._expired)

    def _expired(self) -> None:
        self._watch = None
        if self._lost:
            return
        if self.alive():  # asyncio may run a timer up to its clock's resolution early
            self._arm_watch()
            return
        self._lost = True
        log.error(
            "lost the journal's database (no heartbeat for %.0f s): this process stops working "
            "on its requests until the database answers, and other processes take them over",
            self.ttl - self.interval,
            extra={"event": "journal_lost"},
        )
        for callback in self.on_lost:
            callback()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._beat_forever())
            self._task.set_name("journal-heartbeat")

    async def _beat_forever(self) -> None:
        reported = False
        while True:  # until stop() cancels it
            began = self.monotonic()
            try:
                # a renewal that hangs (a network partition) must not be waited for past the
                # moment it would be useless (asyncio.timeout: on Python 3.11 wait_for can
                # swallow a cancellation that arrives as the renewal ends)
                async with asyncio.timeout(self.ttl):
                    await self.beat()
                reported = False
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not reported:  # once per outage, not every two seconds
                    reported = True
                    log.warning(
                        "journal heartbeat failed (%s); retrying every %.0f s",
                        type(error).__name__,
                        self.interval,
                        extra={"event": "journal_heartbeat_failed"},
                    )
            await asyncio.sleep(max(0.0, self.interval - (self.monotonic() - began)))

    async def stop(self) -> None:
        """Stop renewing (the leases are released by the caller)."""
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=self.ttl)
            self._task = None

    async def release(self) -> None:
        """Give back every lease and the heartbeat row: other processes may start at once."""
        await self.db.execute(
            "UPDATE task_requests SET lease_owner = NULL WHERE lease_owner = ?",
            self.owner,
        )
        await self.db.execute(
            "DELETE FROM journal_holders WHERE owner = ?",
            self.owner,
        )
        self._good_until = float("-inf")

    def free_sql(self, table: str = "task_requests", column: str = "lease_owner") -> str:
        """A row nobody alive holds (SQL condition on ``table``'s owner ``column``)."""
        return (
            f"({table}.{column} IS NULL OR NOT EXISTS (SELECT 1 FROM journal_holders h "
            f"WHERE h.owner = {table}.{column} AND h.alive_until >= {self.db.now_sql}))"
        )
