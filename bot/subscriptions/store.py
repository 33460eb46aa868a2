"""Subscriptions and what each channel was told, in the journal's database (SQLite or
PostgreSQL, one code path). Whatever is told is claimed first by a compare-and-set, so that of
two processes (a takeover mid-round, a restart) one tells and the other stays quiet."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from bot.journal import Journal
from bot.journal.engines import create_all, fetch_by_ids

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS subscriptions (
        id TEXT PRIMARY KEY,
        team_id TEXT,
        channel_id TEXT NOT NULL,
        made_by TEXT NOT NULL,
        made_at DOUBLE PRECISION NOT NULL,
        conditions TEXT NOT NULL,
        due_soon INTEGER,
        notes INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX IF NOT EXISTS subscriptions_channel ON subscriptions (channel_id, made_at)",
    # a task's card in a channel: where it is, what it last showed, what was told of it
    """CREATE TABLE IF NOT EXISTS subscription_cards (
        channel_id TEXT NOT NULL,
        task_id BIGINT NOT NULL,
        message_ts TEXT,
        thread_ts TEXT,
        shown TEXT NOT NULL,
        matching INTEGER NOT NULL,
        overdue_for TEXT,
        soon_for TEXT,
        made_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (channel_id, task_id))""",
    "CREATE INDEX IF NOT EXISTS subscription_cards_task ON subscription_cards (task_id)",
    """CREATE TABLE IF NOT EXISTS subscription_state (
        name TEXT PRIMARY KEY,
        value TEXT)""",
)


@dataclass(frozen=True)
class Subscription:
    id: str
    channel_id: str
    made_by: str
    made_at: float
    conditions: list[dict[str, Any]]
    due_soon: int | None
    notes: bool = False

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Subscription:
        return cls(
            id=row["id"],
            channel_id=row["channel_id"],
            made_by=row["made_by"],
            made_at=float(row["made_at"]),
            conditions=json.loads(row["conditions"]),
            due_soon=int(row["due_soon"]) if row["due_soon"] is not None else None,
            notes=bool(row["notes"]),
        )


@dataclass(frozen=True)
class Card:
    channel_id: str
    task_id: int
    message_ts: str | None
    thread_ts: str | None
    shown: dict[str, Any]
    shown_text: str  # as stored: the compare-and-set compares this
    matching: bool
    overdue_for: str | None
    soon_for: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Card:
        return cls(
            channel_id=row["channel_id"],
            task_id=int(row["task_id"]),
            message_ts=row["message_ts"],
            thread_ts=row["thread_ts"],
            shown=json.loads(row["shown"]),
            shown_text=row["shown"],
            matching=bool(row["matching"]),
            overdue_for=row["overdue_for"],
            soon_for=row["soon_for"],
        )


def shown_text(shown: dict[str, Any]) -> str:
    return json.dumps(shown, sort_keys=True, separators=(",", ":"))


class SubscriptionStore:
    def __init__(self, journal: Journal) -> None:
        self.db = journal.db

    async def create(self) -> None:
        await create_all(self.db, SCHEMA)

    # ------------------------------------------------------------------ subscriptions
    async def add(
        self,
        *,
        team_id: str | None,
        channel_id: str,
        made_by: str,
        conditions: list[dict[str, Any]],
        due_soon: int | None,
        notes: bool = False,
    ) -> Subscription:
        subscription = Subscription(
            id=uuid.uuid4().hex,
            channel_id=channel_id,
            made_by=made_by,
            made_at=time.time(),
            conditions=conditions,
            due_soon=due_soon,
            notes=notes,
        )
        await self.db.execute(
            "INSERT INTO subscriptions (id, team_id, channel_id, made_by, made_at, conditions, "
            "due_soon, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            subscription.id,
            team_id,
            channel_id,
            made_by,
            subscription.made_at,
            json.dumps(conditions),
            due_soon,
            1 if notes else 0,
        )
        return subscription

    async def of_channel(self, channel_id: str) -> list[Subscription]:
        """A channel's subscriptions, oldest first (as ``/task subscriptions`` numbers them)."""
        rows = await self.db.fetch(
            "SELECT * FROM subscriptions WHERE channel_id = ? ORDER BY made_at, id", channel_id
        )
        return [Subscription.from_row(row) for row in rows]

    async def of_user(self, user_id: str) -> list[Subscription]:
        """The subscriptions a person made, oldest first."""
        rows = await self.db.fetch(
            "SELECT * FROM subscriptions WHERE made_by = ? ORDER BY made_at, id", user_id
        )
        return [Subscription.from_row(row) for row in rows]

    async def all(self) -> list[Subscription]:
        rows = await self.db.fetch("SELECT * FROM subscriptions ORDER BY made_at, id")
        return [Subscription.from_row(row) for row in rows]

    async def remove(self, ids: list[str]) -> int:
        if not ids:
            return 0
        marks = ", ".join("?" * len(ids))
        return await self.db.execute(f"DELETE FROM subscriptions WHERE id IN ({marks})", *ids)

    async def forget_cards(self, channel_id: str) -> None:
        """A channel that follows nothing any more keeps no cards (a new subscription starts
        afresh)."""
        await self.db.execute("DELETE FROM subscription_cards WHERE channel_id = ?", channel_id)

    # ------------------------------------------------------------------ cards
    async def cards(self, task_ids: list[int]) -> dict[tuple[str, int], Card]:
        """The cards of these tasks, in every channel (one query per 500 tasks)."""
        rows = await fetch_by_ids(
            self.db, "SELECT * FROM subscription_cards WHERE task_id IN ({ids})", task_ids
        )
        cards = (Card.from_row(row) for row in rows)
        return {(card.channel_id, card.task_id): card for card in cards}

    async def claim_card(self, channel_id: str, task_id: int, shown: dict[str, Any]) -> bool:
        """Take the telling of a new card: True for the one process that did."""
        return (
            await self.db.execute(
                "INSERT INTO subscription_cards (channel_id, task_id, shown, matching, made_at) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT (channel_id, task_id) DO NOTHING",
                channel_id,
                int(task_id),
                shown_text(shown),
                time.time(),
            )
            == 1
        )

    async def placed(self, channel_id: str, task_id: int, message_ts: str, thread_ts: str) -> None:
        """Where a card (or the thread that stands for it) is."""
        await self.db.execute(
            "UPDATE subscription_cards SET message_ts = ?, thread_ts = ? "
            "WHERE channel_id = ? AND task_id = ?",
            message_ts,
            thread_ts,
            channel_id,
            int(task_id),
        )

    async def drop_card(self, channel_id: str, task_id: int) -> None:
        """A card that could not be posted: tried again when the task changes next."""
        await self.db.execute(
            "DELETE FROM subscription_cards WHERE channel_id = ? AND task_id = ?",
            channel_id,
            int(task_id),
        )

    async def replace_shown(self, card: Card, shown: dict[str, Any], matching: bool) -> bool:
        """Compare-and-set: True if this process moved the card from what it read."""
        return (
            await self.db.execute(
                "UPDATE subscription_cards SET shown = ?, matching = ? "
                "WHERE channel_id = ? AND task_id = ? AND shown = ? AND matching = ?",
                shown_text(shown),
                1 if matching else 0,
                card.channel_id,
                card.task_id,
                card.shown_text,
                1 if card.matching else 0,
            )
            == 1
        )

    async def mark_told(self, card: Card, column: str, due: str) -> bool:
        """Claim telling that a task is overdue (``overdue_for``) or soon due (``soon_for``)
        at this due time: True once per card and due time."""
        assert column in ("overdue_for", "soon_for")
        return (
            await self.db.execute(
                f"UPDATE subscription_cards SET {column} = ? WHERE channel_id = ? AND "
                f"task_id = ? AND ({column} IS NULL OR {column} <> ?)",
                due,
                card.channel_id,
                card.task_id,
                due,
            )
            == 1
        )

    async def claim_state(self, name: str, value: str) -> bool:
        """Claim something told once across channels (an assignee's overdue message): True
        for the one process that set ``name`` to ``value``."""
        if await self.db.execute(
            "UPDATE subscription_state SET value = ? WHERE name = ? AND value <> ?",
            value,
            name,
            value,
        ):
            return True
        return (
            await self.db.execute(
                "INSERT INTO subscription_state (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                name,
                value,
            )
            == 1
        )

    async def state(self, name: str) -> str | None:
        rows = await self.db.fetch("SELECT value FROM subscription_state WHERE name = ?", name)
        return rows[0]["value"] if rows else None

    async def set_state(self, name: str, value: str) -> None:
        await self.db.execute(
            "INSERT INTO subscription_state (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            name,
            value,
        )
