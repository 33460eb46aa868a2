"""Slack → Oracle: a reply in a followed task's thread becomes a note on the task.

A reply is journaled before Slack gets its ack (``thread_notes``, in the journal's database,
leased like task requests: while the holder's heartbeat lives), keyed by channel and message ts
so that an event Slack delivers twice makes one note. Then the note is PATCHed ("<name> in
Slack: <text>", mentions and links made readable, files listed by name and link), the bot
reacts to the reply with :memo:, and the note is settled. Oracle away: the note waits in the
journal and is sent when Oracle answers (the sweep); Oracle refusing it: the thread is told,
once. A PATCH whose outcome is unknown is never re-sent blindly: the task's notes are read
first. Ignored (documented): bot messages, edits and deletions, replies in channels where
``/task sync off`` was used, and threads the bot does not follow."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

from bot.domain import slack_text
from bot.domain.slack_text import escape
from bot.journal import Journal
from bot.journal.engines import create_all
from bot.journal.store import delete_in_batches
from bot.oracle.client import B2CClient
from bot.oracle.errors import B2CConnectionError, B2CError
from bot.slack import render
from bot.slack.delivery import SlackPoster, SlackUnavailable
from bot.slack.people import People
from bot.sync.poller import SyncPoller
from bot.sync.store import SyncStore

log = logging.getLogger(__name__)

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS thread_notes (
        id TEXT PRIMARY KEY,
        dedupe_key TEXT NOT NULL UNIQUE,
        task_id BIGINT NOT NULL,
        channel_id TEXT NOT NULL,
        ts TEXT NOT NULL,
        thread_ts TEXT NOT NULL,
        user_id TEXT,
        note TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS thread_notes_pending ON thread_notes (created_at) "
    "WHERE state = 'pending'",
    """CREATE TABLE IF NOT EXISTS channel_sync (
        channel_id TEXT PRIMARY KEY,
        replies_off INTEGER NOT NULL DEFAULT 0)""",
)
MAX_NOTE = 349_525  # characters of a note (Oracle doc)
RETRY_WAITS = (0.5, 1.0, 2.0, 4.0)  # then the note waits for the sweep


@dataclass(frozen=True)
class Reply:
    id: str
    task_id: int
    channel_id: str
    ts: str
    thread_ts: str
    user_id: str | None
    note: str  # as journaled: the reply as Slack sent it (JSON); then the note's text
    attempts: int


def readable_reply(text: str, names: dict[str, str], files: list[dict[str, Any]]) -> str:
    """A reply as a person reads it: mentions and links as text, files by name and link."""
    body = slack_text.to_plain(text or "", names).strip()
    listed = [
        f"{f.get('name') or f.get('title') or 'file'} ({f.get('permalink') or 'no link'})"
        for f in files
    ]
    if listed:
        body = (body + "\n" if body else "") + "Files: " + ", ".join(listed)
    return body


class ThreadNotes:
    def __init__(
        self,
        *,
        journal: Journal,
        store: SyncStore,
        sync: SyncPoller,
        b2c: B2CClient,
        poster: SlackPoster,
        people: People,
    ) -> None:
        self.journal = journal
        self.db = journal.db
        self.store = store
        self.sync = sync
        self.b2c = b2c
        self.poster = poster
        self.people = people
        self.slack = poster.slack
        self._free = journal.holder.free_sql("thread_notes", "lease_owner")
        self._active: set[str] = set()

    async def create(self) -> None:
        await create_all(self.db, SCHEMA)

    # ------------------------------------------------------------------ channel setting
    async def replies_on(self, channel_id: str) -> bool:
        rows = await self.db.fetch(
            "SELECT replies_off FROM channel_sync WHERE channel_id = ?", channel_id
        )
        return not (rows and rows[0]["replies_off"])

    async def set_replies(self, channel_id: str, on: bool) -> None:
        await self.db.execute(
            "INSERT INTO channel_sync (channel_id, replies_off) VALUES (?, ?) "
            "ON CONFLICT (channel_id) DO UPDATE SET replies_off = excluded.replies_off",
            channel_id,
            0 if on else 1,
        )

    # ------------------------------------------------------------------ taking a reply
    async def accept(self, event: dict[str, Any]) -> Reply | None:
        """Journal a thread reply that should become a note (before the ack); None when it
        should not (see the module's doc) or was journaled already."""
        if event.get("subtype") or event.get("bot_id"):
            return None  # edits, deletions, joins, bot messages (our own included)
        thread_ts, ts = event.get("thread_ts"), event.get("ts")
        channel = event.get("channel")
        if not thread_ts or not ts or thread_ts == ts or not channel:
            return None  # not a reply in a thread
        task_id = await self.store.task_of_thread(channel, thread_ts)
        if task_id is None or not await self.replies_on(channel):
            return None
        user = event.get("user")
        # the reply as Slack sent it; names are looked up after the ack (no Slack call here)
        raw = json.dumps(
            {
                "text": event.get("text") or "",
                "files": [
                    {k: f.get(k) for k in ("name", "title", "permalink")}
                    for f in event.get("files") or []
                ],
            }
        )
        reply = Reply(uuid.uuid4().hex, task_id, channel, ts, thread_ts, user, raw, 0)
        now = time.time()
        added = await self.db.execute(
            "INSERT INTO thread_notes (id, dedupe_key, task_id, channel_id, ts, thread_ts, "
            "user_id, note, state, attempts, lease_owner, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) "
            "ON CONFLICT (dedupe_key) DO NOTHING",
            reply.id,
            f"note:{channel}:{ts}",
            task_id,
            channel,
            ts,
            thread_ts,
            user,
            raw,
            self.journal.owner,
            now,
            now,
        )
        return reply if added == 1 else None

    # ------------------------------------------------------------------ saving it
    async def claim(self, reply_id: str) -> Reply | None:
        if not self.journal.alive():
            return None
        rows = await self.db.fetch(
            "UPDATE thread_notes SET lease_owner = ?, updated_at = ? WHERE id = ? AND "
            f"state = 'pending' AND (lease_owner = ? OR {self._free}) RETURNING *",
            self.journal.owner,
            time.time(),
            reply_id,
            self.journal.owner,
        )
        if not rows:
            return None
        row = rows[0]
        return Reply(
            row["id"],
            int(row["task_id"]),
            row["channel_id"],
            row["ts"],
            row["thread_ts"],
            row["user_id"],
            row["note"],
            int(row["attempts"]),
        )

    async def run(self, reply: Reply | str) -> str | None:
        """Save one note; its final state (``saved``, ``refused``), or None (kept pending)."""
        reply_id = reply if isinstance(reply, str) else reply.id
        if reply_id in self._active:
            return None
        self._active.add(reply_id)
        try:
            if isinstance(reply, str):
                claimed = await self.claim(reply)
                if claimed is None:
                    return None
                reply = claimed
            state = await self._save(reply)
            if state is not None:
                await self.db.execute(
                    "UPDATE thread_notes SET state = ?, lease_owner = NULL, updated_at = ? "
                    "WHERE id = ?",
                    state,
                    time.time(),
                    reply.id,
                )
            else:
                await self._release(reply)
            return state
        finally:
            self._active.discard(reply_id)

    async def _release(self, reply: Reply) -> None:
        await self.db.execute(
            "UPDATE thread_notes SET lease_owner = NULL WHERE id = ? AND lease_owner = ?",
            reply.id,
            self.journal.owner,
        )

    async def note_text(self, reply: Reply) -> str:
        """ "<name> in Slack: <the reply made readable>", at most Oracle's note length."""
        raw = json.loads(reply.note)
        names = {}
        for user_id in dict.fromkeys(slack_text.unnamed_user_ids(raw["text"])):
            person = await self.people.get(user_id)
            if person is not None:
                names[user_id] = person.name
        author = await self.people.get(reply.user_id) if reply.user_id else None
        text = readable_reply(raw["text"], names, raw["files"])
        return f"{author.name if author else reply.user_id or 'Someone'} in Slack: {text}"[
            :MAX_NOTE
        ]

    async def _save(self, reply: Reply) -> str | None:
        reply = replace(reply, note=await self.note_text(reply))
        unknown = reply.attempts > 0  # an earlier run may have saved it
        for wait in (*RETRY_WAITS, None):
            if unknown and await self._already_there(reply):
                break
            self.journal.holder.check()
            await self.db.execute(
                "UPDATE thread_notes SET attempts = attempts + 1 WHERE id = ?", reply.id
            )
            await self.sync.own_change(reply.task_id)
            try:
                await self.b2c.add_note(reply.task_id, reply.note)
            except B2CError as error:
                await self.sync.own_change_done(reply.task_id, 0, read=False)
                if isinstance(error, B2CConnectionError) and error.sent:
                    unknown = True
                elif not error.retryable:
                    await self._say_refused(reply, error)
                    return "refused"
                if wait is None:
                    log.warning("note for task %s waits for Oracle: %s", reply.task_id, error)
                    return None
                await asyncio.sleep(wait)
                continue
            await self.sync.own_change_done(reply.task_id, 1, read=False)
            break
        await self._react(reply)
        return "saved"

    async def _already_there(self, reply: Reply) -> bool:
        try:
            texts = await self.b2c.note_texts(reply.task_id)
        except B2CError:
            return False
        if reply.note in texts:
            await self.sync.own_change_done(reply.task_id, 1, read=False)
            return True
        return False

    async def _react(self, reply: Reply) -> None:
        try:
            await self.slack.reactions_add(
                channel=reply.channel_id, timestamp=reply.ts, name="memo"
            )
        except Exception as error:  # already reacted, or Slack away: the note is saved anyway
            log.info("could not react to a saved note's reply: %s", error)

    async def _say_refused(self, reply: Reply, error: B2CError) -> None:
        who = f"<@{reply.user_id}>'s" if reply.user_id else "A"
        try:
            await self.poster.post(
                channel=reply.channel_id,
                thread_ts=reply.thread_ts,
                **render.task_event(
                    f":x: {who} reply could not be saved as a note on task #{reply.task_id}: "
                    f"{escape(error.reason, 1500)}"
                ),
            )
        except SlackUnavailable:
            log.warning("could not say in Slack that a note on task %s was refused", reply.task_id)

    # ------------------------------------------------------------------ the sweep
    async def pending(self, limit: int = 100) -> list[str]:
        rows = await self.db.fetch(
            f"SELECT id FROM thread_notes WHERE state = 'pending' AND {self._free} "
            "ORDER BY created_at LIMIT ?",
            limit,
        )
        return [row["id"] for row in rows]

    async def resume(self, spawn: Any) -> None:
        """Start every pending reply no live process holds (one round of the sweep)."""
        if not self.journal.alive():
            return
        for reply_id in await self.pending():
            if reply_id not in self._active:
                spawn(self.run(reply_id), f"note-{reply_id[:8]}")

    async def forget_settled(self, older_than: float) -> int:
        """Retention: saved or refused replies older than ``older_than`` seconds (the text
        people wrote goes with them); pending ones are kept."""
        return await delete_in_batches(
            self.db,
            "thread_notes",
            "created_at < ? AND state <> 'pending'",
            time.time() - older_than,
        )

    async def saved_notes(self) -> list[dict[str, Any]]:
        """Every journaled reply (for tests)."""
        rows = await self.db.fetch("SELECT * FROM thread_notes ORDER BY created_at")
        return [dict(row) for row in rows]
