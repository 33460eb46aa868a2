"""What the step keeps beside its request in the journal's database: each run's workflow token
until the run is finished (then it is wiped), so that a restart, or another bot process, can
still finish it; and whether it was finished, so that nothing finishes it twice."""

from __future__ import annotations

import time

from bot.journal import Journal
from bot.journal.engines import create_all
from bot.journal.store import delete_in_batches

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS workflow_runs (
        execution_id TEXT PRIMARY KEY,
        token TEXT,
        received_at DOUBLE PRECISION NOT NULL,
        finished_at DOUBLE PRECISION,
        outcome TEXT)""",
)


class StepRuns:
    def __init__(self, journal: Journal) -> None:
        self.db = journal.db

    async def create(self) -> None:
        await create_all(self.db, SCHEMA)

    async def keep(self, execution_id: str, token: str) -> None:
        """Keep a run's token (the first one Slack sent: a redelivery carries the same)."""
        await self.db.execute(
            "INSERT INTO workflow_runs (execution_id, token, received_at) VALUES (?, ?, ?) "
            "ON CONFLICT (execution_id) DO NOTHING",
            execution_id,
            token,
            time.time(),
        )

    async def token(self, execution_id: str) -> str | None:
        """The run's token while it is not finished; None once it is (or was never kept)."""
        rows = await self.db.fetch(
            "SELECT token FROM workflow_runs WHERE execution_id = ? AND finished_at IS NULL",
            execution_id,
        )
        return rows[0]["token"] if rows else None

    async def finished(self, execution_id: str, outcome: str) -> None:
        """The run is over (``outcome``: how it was told to Slack): its token is wiped."""
        await self.db.execute(
            "UPDATE workflow_runs SET token = NULL, finished_at = ?, outcome = ? "
            "WHERE execution_id = ?",
            time.time(),
            outcome,
            execution_id,
        )

    async def outcome(self, execution_id: str) -> str | None:
        rows = await self.db.fetch(
            "SELECT outcome FROM workflow_runs WHERE execution_id = ?", execution_id
        )
        return rows[0]["outcome"] if rows else None

    async def forget_settled(self, older_than: float) -> int:
        """Retention: runs received more than ``older_than`` seconds ago (a token still kept
        then is long spent: Slack's workflow tokens are short-lived)."""
        return await delete_in_batches(
            self.db, "workflow_runs", "received_at < ?", time.time() - older_than
        )
