"""The request journal on both engines: dedupe, leases that die with their holder, states,
retention."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.journal import (
    UNSETTLED,
    Entry,
    Journal,
    JournalBusy,
    JournalUnavailable,
    LeaseLost,
    SqliteDatabase,
    parse_url,
)
from bot.journal.engines import _unavailable


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def journal(database_url: str) -> AsyncIterator[Journal]:
    opened = await Journal.open(database_url, clock=Clock())
    yield opened
    await opened.close()


@pytest.fixture
async def journals(database_url: str) -> AsyncIterator[tuple[Journal, Journal, Clock]]:
    """Two bot processes sharing one journal: PostgreSQL only (SQLite is for one process)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes share a PostgreSQL journal")
    clock = Clock()
    first = await Journal.open(database_url, clock=clock, heartbeat=0.2)
    second = await Journal.open(database_url, clock=clock, heartbeat=0.2)
    yield first, second, clock
    for journal in (first, second):
        with contextlib.suppress(Exception):  # (a test may have closed or "killed" it)
            await journal.close()


REQUEST = {"user_id": "U1", "channel_id": "C1", "team_id": "T1"}


async def add(journal: Journal, key: str = "k", kind: str = "command") -> Entry:
    entry = await journal.add(dedupe_key=key, kind=kind, request=REQUEST, draft={"name": "A"})
    assert entry is not None
    return entry


async def die(journal: Journal) -> None:
    """What kill -9 leaves behind: no heartbeat any more, no lease given back, the file lock
    gone with the process (the kernel drops it)."""
    await journal.holder.stop()
    if isinstance(journal.db, SqliteDatabase):
        journal.db.connection.close()
        journal.db.lock.release()
    else:
        await journal.db.close()


async def claim_soon(journal: Journal, entry_id: str, within: float = 5.0) -> Entry:
    """Claim a request as the sweep does, every 50 ms, until it is free."""
    for _ in range(int(within / 0.05)):
        claimed = await journal.claim(entry_id)
        if claimed is not None:
            return claimed
        await asyncio.sleep(0.05)
    raise AssertionError(f"not free within {within} s")


async def test_duplicates_are_refused(journal: Journal) -> None:
    entry = await add(journal, "command:T1:1")
    assert entry.state == "pending"
    again = await journal.add(
        dedupe_key="command:T1:1", kind="command", request=REQUEST, draft={"name": "A"}
    )
    assert again is None
    assert await journal.counts() == {"pending": 1}


async def test_duplicates_are_refused_across_processes(journals) -> None:
    first, second, _ = journals
    await add(first, "command:T1:1")
    again = await second.add(
        dedupe_key="command:T1:1", kind="command", request=REQUEST, draft={"name": "A"}
    )
    assert again is None


async def test_only_one_live_process_holds_a_request(journals) -> None:
    first, second, _ = journals
    entry = await add(first)
    assert await second.claim(entry.id) is None  # the adder holds it
    assert await second.unsettled() == []
    await first.finish(entry)
    assert await second.unsettled() == [entry.id]
    claimed = await second.claim(entry.id)
    assert claimed is not None and claimed.draft == {"name": "A"}
    assert await first.claim(entry.id) is None
    await asyncio.sleep(1.0)  # however long its work takes, a live holder keeps it
    assert await first.claim(entry.id) is None
    await die(second)
    started = time.monotonic()
    await claim_soon(first, entry.id)  # free once the dead holder's row expires
    assert time.monotonic() - started <= 3 * 0.2 + 0.5


async def test_a_stopping_process_hands_its_requests_back_at_once(journals) -> None:
    first, second, _ = journals
    entry = await add(first)
    assert await second.unsettled() == []
    await first.close()
    assert await second.unsettled() == [entry.id]  # no waiting for its heartbeat to expire


async def test_a_process_that_lost_its_lease_sends_nothing(journals) -> None:
    first, second, _ = journals
    entry = await add(first)
    await first.holder.stop()  # a process frozen (or cut off) for longer than its lease
    await asyncio.sleep(3 * 0.2 + 0.1)
    assert not first.alive()
    with pytest.raises(LeaseLost):  # it knows by its own clock: no POST
        await first.record_attempt(entry)
    claimed = await second.claim(entry.id)
    assert claimed is not None
    first.holder._good_until = float("inf")  # even if it believed itself alive,
    with pytest.raises(LeaseLost):  # the request is fenced: the other process has it now
        await first.record_attempt(entry)


async def test_an_unanswered_post_is_seen_by_the_next_holder(journals) -> None:
    first, second, _ = journals
    entry = await add(first)
    entry = await first.record_attempt(entry, composed={"name": "A", "body": {}})
    await die(first)
    claimed = await claim_soon(second, entry.id)
    assert claimed.attempts == 1 and claimed.post_age is not None
    assert 0.5 <= claimed.post_age < 5  # by the database's clock, since the POST began
    claimed = await second.mark_created(claimed, 100, {"id": 100})
    await second.finish(claimed, "thread")
    assert await second.claim(entry.id) is None  # settled
    stored = await second.get(entry.id)
    assert stored is not None and stored.task_id == 100


class Flaky:
    """A database connection that can be cut and restored."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.now_sql = db.now_sql
        self.down = False
        self.answering = asyncio.Event()  # cleared: a network partition, statements are sent
        self.answering.set()  # and never answered
        self.delay = 0.0  # each statement answered this many seconds late

    async def execute(self, sql: str, *args: Any) -> int:
        if self.down:
            raise ConnectionResetError("cut")
        await self.answering.wait()
        await asyncio.sleep(self.delay)
        return await self.db.execute(sql, *args)

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        if self.down:
            raise ConnectionResetError("cut")
        return await self.db.fetch(sql, *args)

    async def close(self) -> None:
        await self.db.close()


async def test_a_process_cut_off_from_the_database_stops_then_comes_back(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    opened = await Journal.open(database_url, heartbeat=0.2)
    await opened.holder.stop()
    await opened.holder.release()
    flaky = Flaky(opened.db)
    journal = Journal(flaky, heartbeat=0.2)  # type: ignore[arg-type]
    lost: list[bool] = []
    journal.holder.on_lost.append(lambda: lost.append(True))
    await journal.holder.beat()
    journal.holder.start()
    entry = await add(journal)
    before = journal.owner
    flaky.down = True
    await asyncio.sleep(3 * 0.2 + 0.3)
    assert lost == [True] and not journal.alive()  # said once, not at every heartbeat
    [said] = [r for r in caplog.records if getattr(r, "event", None) == "journal_lost"]
    assert said.levelname == "ERROR" and said.getMessage() == (
        "lost the journal's database (no heartbeat for 0 s): this process stops working on "
        "its requests until the database answers, and other processes take them over"
    )
    assert await journal.claim(entry.id) is None
    with pytest.raises(LeaseLost) as stopped:  # what the requests it worked on are told
        journal.holder.check()
    assert str(stopped.value) == "this process's heartbeat in the journal is overdue"
    flaky.down = False
    await asyncio.sleep(0.5)
    assert journal.alive() and journal.owner != before  # back, under a new name
    holders = await opened.db.fetch("SELECT owner FROM journal_holders")
    assert holders == [{"owner": journal.owner}]  # the old name's row is gone
    assert await journal.unsettled() == [entry.id]  # its old requests are simply free
    assert await journal.claim(entry.id) is not None
    events = {
        event: [r for r in caplog.records if getattr(r, "event", None) == event]
        for event in ("journal_heartbeat_failed", "journal_back")
    }
    [failed] = events["journal_heartbeat_failed"]  # once for the outage, not at every beat
    assert (failed.levelname, failed.getMessage()) == (
        "WARNING",
        "journal heartbeat failed (ConnectionResetError); retrying every 0 s",
    )
    [back] = events["journal_back"]
    assert (back.levelname, back.getMessage()) == (
        "WARNING",
        "the journal's database answers again: this process works on requests again",
    )
    # a second outage is told again
    flaky.down = True
    await asyncio.sleep(3 * 0.2 + 0.3)
    assert lost == [True, True]
    assert (
        len([r for r in caplog.records if getattr(r, "event", None) == "journal_heartbeat_failed"])
        == 2
    )
    flaky.down = False
    await journal.close()


async def test_a_renewal_that_hangs_is_given_up_and_retried(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    opened = await Journal.open(database_url, heartbeat=0.2)
    await opened.holder.stop()
    await opened.holder.release()
    flaky = Flaky(opened.db)
    journal = Journal(flaky, heartbeat=0.2)  # type: ignore[arg-type]
    lost: list[bool] = []
    journal.holder.on_lost.append(lambda: lost.append(True))
    await journal.holder.beat()
    journal.holder.start()
    flaky.answering.clear()
    await asyncio.sleep(3 * 0.2 + 0.3)
    assert lost == [True]
    [failed] = [
        r for r in caplog.records if getattr(r, "event", None) == "journal_heartbeat_failed"
    ]
    assert failed.getMessage() == "journal heartbeat failed (TimeoutError); retrying every 0 s"
    flaky.answering.set()
    await asyncio.sleep(0.5)
    assert journal.alive()  # the next renewal was sent, not stuck behind the hung one
    await journal.close()


async def test_a_database_too_slow_to_keep_the_leases_is_told_once(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    opened = await Journal.open(database_url, heartbeat=0.2)
    await opened.holder.stop()
    await opened.holder.release()
    flaky = Flaky(opened.db)
    journal = Journal(flaky, heartbeat=0.2)  # type: ignore[arg-type]
    lost: list[bool] = []
    journal.holder.on_lost.append(lambda: lost.append(True))
    await journal.holder.beat()
    journal.holder.start()
    flaky.down = True
    await asyncio.sleep(3 * 0.2 + 0.3)
    assert lost == [True]
    # it answers again, but each renewal later than the leases last (0.4 s) though within
    # the renewal's own limit (0.6 s): still lost, and not told again at every renewal
    flaky.down, flaky.delay = False, 0.5
    await asyncio.sleep(1.5)
    assert lost == [True] and not journal.alive()
    said = [r for r in caplog.records if getattr(r, "event", None) == "journal_lost"]
    assert len(said) == 1
    flaky.delay = 0.0
    await asyncio.sleep(0.5)
    assert journal.alive()
    await journal.close()


async def test_a_closed_journal_leaves_nothing_held(database_url: str) -> None:
    journal = await Journal.open(database_url, heartbeat=0.2)
    beating = [t for t in asyncio.all_tasks() if t.get_name() == "journal-heartbeat"]
    assert len(beating) == 1  # named, for a task dump
    entry = await add(journal)
    owner = journal.owner
    await journal.holder.stop()
    await journal.holder.stop()  # twice: harmless
    await journal.holder.release()
    assert not journal.alive()
    await asyncio.sleep(3 * 0.2)  # no heartbeat after stop() writes its row back
    rows = await journal.db.fetch("SELECT owner FROM journal_holders")
    assert owner not in [row["owner"] for row in rows]
    [row] = await journal.db.fetch("SELECT lease_owner FROM task_requests WHERE id = ?", entry.id)
    assert row["lease_owner"] is None
    await journal.close()


async def test_a_group_commit_answers_everyone_after_one_caller_gave_up(tmp_path: Path) -> None:
    db = SqliteDatabase(str(tmp_path / "group.sqlite3"))
    try:
        await db.execute("CREATE TABLE t (x INTEGER)")
        first = asyncio.ensure_future(db.execute("INSERT INTO t (x) VALUES (1)"))
        second = asyncio.ensure_future(db.execute("INSERT INTO t (x) VALUES (2)"))
        await asyncio.sleep(0)  # both joined this turn's group
        first.cancel()  # its caller gives up waiting
        assert await asyncio.wait_for(second, 2) == 1  # the other is still answered
        rows = await db.fetch("SELECT x FROM t ORDER BY x")
        assert [row["x"] for row in rows] == [1, 2]  # (the given-up write was sent already)
    finally:
        await db.close()


async def test_postgres_counts_the_rows_a_statement_changed(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's command tags")
    journal = await Journal.open(database_url)
    try:
        db = journal.db
        assert await db.execute("CREATE TEMPORARY TABLE counted (x INTEGER)") == 0  # no count
        assert await db.execute("INSERT INTO counted (x) VALUES (1), (2)") == 2  # "INSERT 0 2"
        assert await db.execute("UPDATE counted SET x = 3") == 2
    finally:
        await journal.close()


async def test_a_restart_on_sqlite_takes_over_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'journal.sqlite3'}"
    first = await Journal.open(url)
    entry = await add(first)
    await die(first)
    second = await Journal.open(url)  # the dead process's heartbeat row is not waited for
    try:
        assert await second.unsettled() == [entry.id]
    finally:
        await second.close()


async def test_a_second_process_is_refused_a_sqlite_journal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'journal.sqlite3'}"
    first = await Journal.open(url)
    try:
        with pytest.raises(JournalBusy) as refused:
            await Journal.open(url)
        message = str(refused.value)
        assert "\n" not in message
        import socket

        assert (
            f"is in use by another bot process (pid {os.getpid()} on {socket.gethostname()})"
            in message
        )
        assert message.endswith(
            ". A SQLite journal serves one process: to run several, set DATABASE_URL to a "
            "PostgreSQL database"
        )
    finally:
        await first.close()
    again = await Journal.open(url)  # free once the first has closed it
    await again.close()


async def test_retention_forgets_settled_requests_only(journal: Journal) -> None:
    clock = journal.clock
    assert isinstance(clock, Clock)
    old = [await add(journal, f"old:{n}") for n in range(7)]
    for entry in old[:5]:
        await journal.finish(await journal.mark_created(entry, 1, {"id": 1}), "thread")
    rejected = await journal.mark_unsettled(old[5], "rejected", "[]", "B2CError")
    await journal.finish(rejected, "response_url")
    # old[6] is still pending: kept however old
    clock.now += 31 * 86400
    recent = await add(journal, "recent")
    await journal.finish(await journal.mark_created(recent, 2, {"id": 2}), "thread")
    assert await journal.forget_settled(30 * 86400, batch=2, pause=0) == 6
    assert {entry.id for entry in await journal.all()} == {old[6].id, recent.id}
    assert await journal.forget_settled(30 * 86400) == 0


async def test_the_sweep_reads_a_partial_index_not_the_table(tmp_path: Path) -> None:
    journal = await Journal.open(f"sqlite:///{tmp_path / 'journal.sqlite3'}")
    try:
        plan = journal.db.connection.execute(  # type: ignore[attr-defined]
            "EXPLAIN QUERY PLAN SELECT id FROM task_requests WHERE "
            f"{UNSETTLED} AND {journal.holder.free_sql()} ORDER BY created_at LIMIT 100"
        ).fetchall()
    finally:
        await journal.close()
    assert "task_requests_unsettled" in " ".join(str(tuple(row)) for row in plan)


async def test_life_of_a_request(journal: Journal) -> None:
    entry = await add(journal, kind="form")
    composed = {"name": "A", "body": {"name": "A"}, "details": []}
    entry = await journal.record_attempt(entry, composed=composed, parent_ts="1.2")
    entry = await journal.record_attempt(entry)
    stored = await journal.get(entry.id)
    assert stored == replace(entry, post_age=None)
    assert (stored.attempts, stored.first_attempt_at, stored.parent_ts) == (2, 1_000_000.0, "1.2")
    assert stored.composed == composed
    entry = await journal.mark_unsettled(entry, "failed", '["h", "r", "x"]', "RetriesExhausted")
    assert await journal.reopen(entry.id) is True
    assert await journal.reopen(entry.id) is False  # a double-clicked Retry reopens it once
    entry = await journal.mark_created(entry, 100, {"id": 100})
    entry = await journal.finish(entry, "thread")
    stored = await journal.get(entry.id)
    assert (stored.state, stored.delivery, stored.task_id, stored.task) == (
        "created",
        "thread",
        100,
        {"id": 100},
    )
    assert await journal.unsettled() == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///x.db", ("sqlite", "x.db")),
        ("sqlite:////abs/x.db", ("sqlite", "/abs/x.db")),
        ("postgres://u:p@h/db", ("postgresql", "postgresql://u:p@h/db")),
        ("postgresql://u@h:5/db", ("postgresql", "postgresql://u@h:5/db")),
    ],
)
def test_engine_urls(url: str, expected: tuple[str, str]) -> None:
    assert parse_url(url) == expected


def test_bad_engine_url() -> None:
    with pytest.raises(ValueError) as refused:
        parse_url("mysql://x")
    assert str(refused.value) == "must be sqlite:///path or postgresql://user:password@host/db"


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        ('relation "task_requests" already exists', False),  # made meanwhile by another process
        ('duplicate key value violates unique constraint "pg_type_typname_nsp_index"', False),
        ("permission denied for schema public", True),
        (None, False),
    ],
)
async def test_tables_made_at_once_by_two_processes_are_there_other_errors_are_not(
    error: str | None, raised: bool
) -> None:
    from bot.journal.engines import create_all

    ran: list[str] = []

    class Database:
        async def execute(self, sql: str, *args: Any) -> int:
            ran.append(sql)
            if error is not None and sql == "CREATE A":
                raise RuntimeError(error)
            return 0

    if raised:
        with pytest.raises(RuntimeError):
            await create_all(Database(), ("CREATE A", "CREATE B"))  # type: ignore[arg-type]
        assert ran == ["CREATE A"]
    else:
        await create_all(Database(), ("CREATE A", "CREATE B"))  # type: ignore[arg-type]
        assert ran == ["CREATE A", "CREATE B"]  # and the next one is made


async def test_sqlite_commits_a_turns_writes_together(tmp_path) -> None:
    import asyncio
    import sqlite3

    journal = await Journal.open(f"sqlite:///{tmp_path / 'journal.sqlite3'}")
    statements: list[str] = []
    journal.db.connection.set_trace_callback(statements.append)  # type: ignore[attr-defined]

    async def add(number: int):
        return await journal.add(
            dedupe_key=f"burst:{number}", kind="command", request=REQUEST, draft={"name": "x"}
        )

    bad = journal.db.execute("UPDATE no_such_table SET x = 1")
    entries = await asyncio.gather(*(add(n) for n in range(50)), bad, return_exceptions=True)
    assert isinstance(entries[-1], sqlite3.OperationalError)  # it failed alone
    assert all(entry is not None and not isinstance(entry, Exception) for entry in entries[:-1])
    assert statements.count("BEGIN IMMEDIATE") == 1 and statements.count("COMMIT") == 1
    with sqlite3.connect(tmp_path / "journal.sqlite3") as other:  # durable, seen by others
        assert other.execute("SELECT COUNT(*) FROM task_requests").fetchone()[0] == 50
    assert await add(0) is None  # and still a duplicate, one at a time
    await journal.close()


class _CommitFails:
    """A SQLite connection whose next COMMIT fails (a full disk, an I/O error)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.fail_next_commit = True

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT" and self.fail_next_commit:
            import sqlite3

            self.fail_next_commit = False
            raise sqlite3.OperationalError("disk I/O error")
        return self.connection.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)


async def test_a_group_whose_commit_fails_fails_every_write_of_it_and_keeps_none(
    tmp_path: Path,
) -> None:
    import sqlite3

    journal = await Journal.open(f"sqlite:///{tmp_path / 'journal.sqlite3'}")
    real = journal.db.connection  # type: ignore[attr-defined]
    journal.db.connection = _CommitFails(real)  # type: ignore[attr-defined]
    try:
        outcomes = await asyncio.gather(
            *(add(journal, f"k{n}") for n in range(3)), return_exceptions=True
        )
        assert all(isinstance(o, sqlite3.OperationalError) for o in outcomes)
        assert not real.in_transaction  # rolled back, the connection usable
        assert await journal.all() == []
        assert (await add(journal, "k0")).dedupe_key == "k0"  # the next turn commits
    finally:
        journal.db.connection = real  # type: ignore[attr-defined]
        await journal.close()


# ------------------------------------------------------------------ a job one process at a time


async def _job_table(journal: Journal) -> None:
    await journal.db.execute("CREATE TABLE jobs (name TEXT PRIMARY KEY, owner TEXT)")
    await journal.db.execute("INSERT INTO jobs (name, owner) VALUES ('poller', NULL)")


async def test_one_process_holds_a_job_until_it_dies(journals) -> None:
    first, second, _ = journals
    await _job_table(first)
    assert await first.hold("jobs", "poller") is True
    assert await second.hold("jobs", "poller") is False  # held by a live process
    assert await first.hold("jobs", "poller") is True  # still ours
    assert await first.hold("jobs", "nosuchjob") is False
    await die(first)
    for _ in range(100):  # free once the dead holder's heartbeat expires
        if await second.hold("jobs", "poller"):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the job was not free after its holder died")


async def test_a_process_cut_off_holds_no_job(journal: Journal) -> None:
    await _job_table(journal)
    assert await journal.hold("jobs", "poller") is True
    journal.holder._good_until = 0.0  # its heartbeat is overdue: it may be cut off
    assert await journal.hold("jobs", "poller") is False


# ------------------------------------------------ what a journal that cannot open says


async def test_a_sqlite_journal_in_a_missing_folder_says_which(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "journal.sqlite3"
    with pytest.raises(JournalUnavailable) as refused:
        await Journal.open(f"sqlite:///{missing}")
    assert str(refused.value) == (
        f"Journal (JOURNAL_PATH): the folder {missing.parent} does not exist: create it or set "
        "JOURNAL_PATH"
    )


async def test_a_sqlite_journal_that_is_a_folder_says_it_could_not_be_opened(
    tmp_path: Path,
) -> None:
    (tmp_path / "journal.sqlite3").mkdir()
    with pytest.raises(JournalUnavailable) as refused:
        await Journal.open(f"sqlite:///{tmp_path / 'journal.sqlite3'}")
    assert str(refused.value) == (
        f"Journal (JOURNAL_PATH): {tmp_path / 'journal.sqlite3'} could not be opened "
        "(OperationalError: unable to open database file)"
    )


async def test_a_sqlite_journal_that_is_not_a_database_says_so_in_one_line(
    tmp_path: Path,
) -> None:
    """A file that opens but is no SQLite database: refused when the tables are made, in one
    line that names the file (not the PostgreSQL advice)."""
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"not a database, some notes an operator kept here" * 100)
    with pytest.raises(JournalUnavailable) as refused:
        await Journal.open(f"sqlite:///{path}")
    assert str(refused.value) == (
        f"Journal (JOURNAL_PATH): {path} could not be opened "
        "(DatabaseError: file is not a database)"
    )
    assert path.read_bytes().startswith(b"not a database")  # left as it was


async def test_a_postgresql_user_who_may_not_create_the_tables_is_told(database_url: str) -> None:
    """Connected, then refused by the database itself (PostgreSQL 15 lets only the owner create
    tables in the public schema): said in one line, nothing left open."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL user's rights")
    import asyncpg

    role = "r_" + os.urandom(6).hex()
    admin = await asyncpg.connect(database_url)
    await admin.execute(f"CREATE ROLE {role} LOGIN")
    try:
        parts = urlsplit(database_url)
        url = urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}"))
        with pytest.raises(JournalUnavailable) as refused:
            await Journal.open(url)
        assert str(refused.value) == (
            f"Journal (DATABASE_URL): the user may not create or write the journal's tables in "
            f"{role}@{parts.hostname}:{parts.port}{parts.path}: grant it CREATE on the "
            "database's schema"
        )
        connected = await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = $1", role
        )
        assert connected == 0  # its pool was closed
    finally:
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()


async def test_a_request_row_names_its_workspace_channel_and_user(journal: Journal) -> None:
    """Columns an operator's own SQL reads (whose requests are stuck, in which channel)."""
    entry = await add(journal)
    [row] = await journal.db.fetch(
        "SELECT team_id, channel_id, user_id FROM task_requests WHERE id = ?", entry.id
    )
    assert (row["team_id"], row["channel_id"], row["user_id"]) == ("T1", "C1", "U1")


def test_who_holds_a_journal_that_names_no_holder_is_another_bot_process(tmp_path) -> None:
    from bot.journal.engines import JournalInUse

    (tmp_path / "journal.sqlite3").touch()  # no holders table (yet)
    assert JournalInUse(str(tmp_path / "journal.sqlite3")).holder() == "another bot process"
    import sqlite3

    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:  # a table, no heartbeat in it yet
        db.execute("CREATE TABLE journal_holders (pid, host, alive_until)")
    assert JournalInUse(str(tmp_path / "journal.sqlite3")).holder() == "another bot process"
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        db.execute("INSERT INTO journal_holders VALUES (41, 'old-host', 1), (42, 'bot-host', 2)")
    assert JournalInUse(str(tmp_path / "journal.sqlite3")).holder() == (
        "another bot process (pid 42 on bot-host)"  # the latest heartbeat's
    )


@pytest.mark.parametrize("where", ["folder", "file"])
def test_a_sqlite_journal_that_cannot_be_written_says_so(
    tmp_path: Path, monkeypatch, where: str
) -> None:
    """(Permissions, faked: the tests may run as root, whom no permission stops.)"""
    path = tmp_path / "journal.sqlite3"
    path.touch()
    blocked = str(tmp_path if where == "folder" else path)
    monkeypatch.setattr(os, "access", lambda p, mode: str(p) != blocked)
    error = _unavailable("sqlite", str(path), PermissionError("denied"))
    assert str(error) == (
        f"Journal (JOURNAL_PATH): {path} cannot be written (permissions): fix them or set "
        "JOURNAL_PATH"
    )


def _named(name: str, base: type[BaseException] = Exception) -> BaseException:
    return type(name, (base,), {})("details")


@pytest.mark.parametrize(
    ("location", "error", "why"),
    [
        (
            "postgresql://bot:secret@db.example:5433/tasks",
            _named("InvalidPasswordError"),
            "the server refused the user or password for bot@db.example:5433/tasks",
        ),
        (
            "postgresql://bot:secret@db.example/tasks",
            _named("InvalidAuthorizationSpecificationError"),
            "the server refused the user or password for bot@db.example/tasks",
        ),
        (
            "postgresql://db.example/tasks",
            _named("InvalidCatalogNameError"),
            "the database in db.example/tasks does not exist: create it",
        ),
        (
            "postgresql:///tasks",
            ConnectionRefusedError(111, "refused"),
            "could not connect to localhost/tasks (ConnectionRefusedError): is the server running?",
        ),
        (
            "postgresql://db.example/tasks",
            TimeoutError(),
            "could not connect to db.example/tasks (TimeoutError): is the server running?",
        ),
        (
            "postgresql://db.example/tasks",
            _named("TooManyConnectionsError"),
            "db.example/tasks answered TooManyConnectionsError",
        ),
    ],
)
def test_a_postgresql_journal_that_cannot_open_says_why_without_the_password(
    location: str, error: BaseException, why: str
) -> None:
    message = str(_unavailable("postgresql", location, error))
    assert message == f"Journal (DATABASE_URL): {why}"
    assert "secret" not in message


async def test_a_postgresql_server_that_is_not_there_is_named(tmp_path: Path) -> None:
    with pytest.raises(JournalUnavailable) as refused:
        await Journal.open("postgresql://bot:secret@127.0.0.1:9/tasks")
    assert str(refused.value) == (
        "Journal (DATABASE_URL): could not connect to bot@127.0.0.1:9/tasks "
        "(ConnectionRefusedError): is the server running?"
    )


# ------------------------------------------------------------------ each step, as stored


async def test_each_step_of_a_request_is_returned_and_stored_alike(journal: Journal) -> None:
    assert await journal.get("no-such-request") is None
    entry = await add(journal)
    with_parent = await journal.set_parent(entry, "1.2")
    assert with_parent.parent_ts == "1.2"
    assert (await journal.get(entry.id)).parent_ts == "1.2"  # type: ignore[union-attr]
    failed = await journal.mark_unsettled(with_parent, "failed", '["a", "b", "c"]', "B2CError")
    assert (failed.state, failed.reason, failed.reason_kind) == (
        "failed",
        '["a", "b", "c"]',
        "B2CError",
    )
    stored = await journal.get(entry.id)
    assert stored is not None
    assert (stored.state, stored.reason, stored.reason_kind) == (
        "failed",
        '["a", "b", "c"]',
        "B2CError",
    )
    created = await journal.mark_created(failed, 7, {"id": 7})
    assert (created.state, created.task_id, created.task, created.reason, created.reason_kind) == (
        "created",
        7,
        {"id": 7},
        None,
        None,
    )
    stored = await journal.get(entry.id)
    assert stored is not None
    assert (stored.state, stored.task_id, stored.task, stored.reason, stored.reason_kind) == (
        "created",
        7,
        {"id": 7},
        None,
        None,
    )
    assert stored.post_age is None
    # a POST went out for it; created, it has none in flight for whoever takes it up next
    again = await add(journal, "k2")
    sent = await journal.record_attempt(again)
    assert (await journal.claim(again.id)).post_age is not None  # type: ignore[union-attr]
    await journal.mark_created(sent, 8, {"id": 8})
    claimed = await journal.claim(again.id)  # created, not delivered: still to do
    assert claimed is not None and claimed.post_age is None
    # finished: how its result reached Slack, returned and stored; a run that told nothing
    # keeps what was stored (a resumed run whose result another run had delivered)
    told = await journal.finish(claimed, "thread")
    assert told.delivery == "thread"
    assert (await journal.get(again.id)).delivery == "thread"  # type: ignore[union-attr]
    kept = await journal.finish(told)
    assert kept.delivery == "thread"
    assert (await journal.get(again.id)).delivery == "thread"  # type: ignore[union-attr]


async def test_retention_runs_soon_after_start_then_every_round_and_says_so(
    journal: Journal, caplog
) -> None:
    clock = journal.clock
    assert isinstance(clock, Clock)
    old = await add(journal, "old")
    await journal.finish(await journal.mark_created(old, 1, {"id": 1}), "thread")
    clock.now += 3 * 86400
    also: list[float] = []

    async def notes(age: float) -> int:
        also.append(age)
        raise RuntimeError("the other table is away")  # one failing forgetter stops nothing

    after: list[float] = []

    async def replies(age: float) -> int:
        after.append(age)
        return 0

    with caplog.at_level("INFO", logger="bot.journal.store"):
        rounds = asyncio.ensure_future(
            journal.forget_forever(2, every=0.05, first_after=0.01, also=[notes, replies])
        )
        await asyncio.sleep(0.2)
        rounds.cancel()
    assert await journal.all() == []
    assert also[:2] == [2 * 86400.0, 2 * 86400.0]  # the age in seconds, every round
    assert after[:2] == [2 * 86400.0, 2 * 86400.0]  # the next forgetter still runs
    [said] = [r for r in caplog.records if getattr(r, "event", "") == "journal_retention"]
    assert said.getMessage() == "journal retention: forgot 1 settled row(s) older than 2 days"
    assert said.count == 1  # type: ignore[attr-defined]
    failed = {r.getMessage() for r in caplog.records if r.levelname == "WARNING"}
    assert failed == {"journal retention failed: RuntimeError"}  # no more than the type


async def test_a_watch_that_fires_a_moment_early_looks_again(caplog) -> None:
    """asyncio runs a timer up to its clock's resolution early: the leases' watch then finds
    them still alive, and must look again at their end, not give up watching."""
    from bot.journal.holders import Holder

    clock = Clock()
    holder = Holder(None, interval=2.0, monotonic=clock)  # type: ignore[arg-type]
    lost: list[int] = []
    holder.on_lost.append(lambda: lost.append(1))
    holder._good_until = clock.now + 0.001
    holder._expired()  # fired early: still alive
    assert lost == [] and holder._watch is not None  # watching again
    clock.now += 0.002
    holder._expired()
    assert lost == [1]
    assert "lost the journal's database" in caplog.text
    assert holder._watch is None
