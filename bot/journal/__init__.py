"""The request journal: every acknowledged task request, durably, until it is settled.
Infrastructure: uses nothing of the bot outside this package.

A request is written before Slack gets its ack, then moves ``pending`` → ``created`` (with the
task id) or ``failed`` (Oracle unreachable past the retry budget; can be retried) or
``rejected`` (Oracle refused the content, or the assignee was unknown). Its Slack delivery is
tracked apart (``delivery``: ``pending`` → ``thread``, ``response_url``, ...), so a Slack
failure after the task exists never leads to a second task.

Work is claimed with a lease (an atomic conditional UPDATE): only the holder of a lease works on
a request, so several bot processes sharing one database never work on the same request at once.
A process that journals a request holds its lease from the start. A lease lives as long as its
holder's heartbeat (``holders``): a dead process's requests are free within seconds.

One code path, two engines: the SQL (in ``store``) is plain and shared (``INSERT ... ON CONFLICT DO
NOTHING``, ``UPDATE ... RETURNING``), run by a small adapter per engine: ``sqlite3`` for the
embedded default (a file, for one bot process), ``asyncpg`` for PostgreSQL (``DATABASE_URL``,
for several). Written by hand rather than through SQLAlchemy's async layer because that layer
measured about 1 ms of CPU per statement here against 0.02 ms for sqlite3 itself, and the
whole bot has 3 ms per task (see docs/benchmarks.md); a happy-path request costs four statements
(on SQLite, committed in groups: see SqliteDatabase).

The package: ``engines`` (the two database adapters, and why a journal cannot be opened),
``holders`` (which processes are alive, and so whose leases are good), ``store`` (the journal's
rows and operations, retention included).
"""

from bot.journal.engines import (
    Database,
    JournalBusy,
    JournalInUse,
    JournalUnavailable,
    PostgresDatabase,
    SqliteDatabase,
    _unavailable,
    parse_url,
)
from bot.journal.holders import Holder, LeaseLost
from bot.journal.store import SCHEMA, UNSETTLED, Entry, Journal

__all__ = [
    "SCHEMA",
    "UNSETTLED",
    "Database",
    "Entry",
    "Holder",
    "Journal",
    "JournalBusy",
    "JournalInUse",
    "JournalUnavailable",
    "LeaseLost",
    "PostgresDatabase",
    "SqliteDatabase",
    "_unavailable",
    "parse_url",
]
