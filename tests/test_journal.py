"""The request journal on both engines: dedupe, leases, states."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.journal import Journal, parse_url


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def journals(database_url: str) -> AsyncIterator[tuple[Journal, Journal, Clock]]:
    clock = Clock()
    first = await Journal.open(database_url, clock=clock)
    second = await Journal.open(database_url, clock=clock)  # another bot process
    yield first, second, clock
    await first.close()
    await second.close()


REQUEST = {"user_id": "U1", "channel_id": "C1", "team_id": "T1"}


async def test_duplicates_are_refused(journals) -> None:
    first, second, _ = journals
    entry = await first.add(
        dedupe_key="command:T1:1", kind="command", request=REQUEST, draft={"name": "A"}
    )
    assert entry is not None and entry.state == "pending"
    assert (
        await second.add(
            dedupe_key="command:T1:1", kind="command", request=REQUEST, draft={"name": "A"}
        )
        is None
    )
    assert await first.counts() == {"pending": 1}


async def test_only_one_process_holds_a_request(journals) -> None:
    first, second, clock = journals
    entry = await first.add(
        dedupe_key="k", kind="command", request=REQUEST, draft={"name": "A"}, lease=60
    )
    assert await second.claim(entry.id, lease=60) is None  # the adder holds it
    assert await second.unsettled() == []
    await first.finish(entry)
    assert await second.unsettled() == [entry.id]
    claimed = await second.claim(entry.id, lease=60)
    assert claimed is not None and claimed.draft == {"name": "A"}
    assert await first.claim(entry.id, lease=60) is None
    clock.now += 61  # the holder died: its lease runs out
    assert await first.claim(entry.id, lease=60) is not None


async def test_life_of_a_request(journals) -> None:
    first, _, _ = journals
    entry = await first.add(dedupe_key="k", kind="form", request=REQUEST, draft={"name": "A"})
    composed = {"name": "A", "body": {"name": "A"}, "details": []}
    entry = await first.record_attempt(entry, 60, composed=composed, parent_ts="1.2")
    entry = await first.record_attempt(entry, 60)
    stored = await first.get(entry.id)
    assert stored == entry
    assert (stored.attempts, stored.first_attempt_at, stored.parent_ts) == (2, 1_000_000.0, "1.2")
    assert stored.composed == composed
    entry = await first.mark_unsettled(entry, "failed", '["h", "r", "x"]', "RetriesExhausted")
    assert await first.reopen(entry.id) is True
    assert await first.reopen(entry.id) is False  # a double-clicked Retry reopens it once
    entry = await first.mark_created(entry, 100, {"id": 100})
    entry = await first.finish(entry, "thread")
    stored = await first.get(entry.id)
    assert (stored.state, stored.delivery, stored.task_id, stored.task) == (
        "created",
        "thread",
        100,
        {"id": 100},
    )
    assert await first.unsettled() == []


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
    with pytest.raises(ValueError):
        parse_url("mysql://x")


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
