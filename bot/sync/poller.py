"""Oracle → Slack: ask Oracle what changed, and tell each tracked task's thread.

Oracle has no change notifications for tasks (event subscriptions cover contacts,
organizations and incidents only), so every ``B2C_SYNC_INTERVAL`` seconds one process (the
holder of the poller row) queries ``updatedTime`` since its cursor, a page of 200 at a time:
the Oracle calls of a round grow with the number of tasks changed, not tracked. A changed
task that a thread follows gets one line in its thread ("Status: Not Started → In Progress ·
changed in B2C Service"), its task message updated in place, and a line for each note added in
Oracle. Notes are read only where one may be new: not at a version (``updatedTime``) whose notes
are known (the bot's own create or change, or a read made once that second was over). A change
the bot made itself (a button) is not reported back. A created task costs no read: its thread
starts from what Oracle answered the POST with."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.oracle import roql
from bot.oracle.catalog import Catalog
from bot.oracle.client import B2CClient
from bot.oracle.errors import B2CError
from bot.slack import render
from bot.slack.delivery import SlackPoster, SlackUnavailable
from bot.sync.changes import (
    SHARED_KEYS,
    change_line,
    differences,
    shown_from_answer,
    shown_from_row,
    task_from_shown,
    version,
)
from bot.sync.store import SyncStore, Tracked

log = logging.getLogger(__name__)
PAGE = 200
OVERLAP = timedelta(seconds=5)  # a change committed late, or in the cursor's own second
CHECK_PER_ROUND = 50  # tracked tasks looked at for deletion each round (one query)


class SyncPoller:
    def __init__(
        self,
        *,
        b2c: B2CClient,
        store: SyncStore,
        poster: SlackPoster,
        catalog: Catalog,
        link: Callable[[int], str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.b2c = b2c
        self.store = store
        self.poster = poster
        self.catalog = catalog
        self.link = link
        self.clock = clock
        # told of each change shown (task id, what the thread showed, now): bot.home.notify
        self.on_change: list[Callable[[int, dict[str, Any], dict[str, Any]], Awaitable[None]]] = []
        # whether a channel is told only a task's status (shared with another organization:
        # no notes, no assignee, no dates; bot.slack.connect)
        self.restricted: Callable[[str], Awaitable[bool]] | None = None
        # told of each round this process polled (its seconds), and of each change told in a
        # thread (seconds from its updatedTime in Oracle to its line): bot.metrics
        self.on_round: Callable[[float], None] | None = None
        self.on_told: Callable[[float], None] | None = None
        # given each round's rows and the tracked tasks among them (bot.subscriptions)
        self.followers: list[Callable[[list[list[Any]], dict[int, Tracked]], Awaitable[int]]] = []

    async def poll_once(self) -> int:
        """One round; the number of lines posted (0 when another process polls)."""
        if not await self.store.hold_poller():
            return 0
        started = time.monotonic()
        posted = await self._changes() + await self._deletions()
        if self.on_round is not None:
            self.on_round(time.monotonic() - started)
        return posted

    async def _deletions(self) -> int:
        """Oracle tells no one of a deleted task: look at a few tracked tasks each round (the
        longest unchecked first) and say once in the thread of each that is gone."""
        items = await self.store.to_check(CHECK_PER_ROUND)
        if not items:
            return 0
        found = await self.b2c.query_one_column(
            roql.tasks_existing([item.task_id for item in items])
        )
        existing = {int(task_id) for task_id in found}
        posted = 0
        for item in items:
            if item.task_id in existing or not await self.store.forget(item.task_id):
                continue
            try:
                await self.poster.update(
                    item.channel_id,
                    item.message_ts,
                    render.deleted_parent(item.requester or "", item.task_id),
                )
                await self.poster.post(
                    channel=item.channel_id,
                    thread_ts=item.thread_ts,
                    **render.task_event(
                        f":wastebasket: Task #{item.task_id} was deleted in B2C Service."
                    ),
                )
                posted += 1
            except SlackUnavailable:
                log.warning("thread sync: Slack is away; task %s's deletion", item.task_id)
        return posted

    async def _changes(self) -> int:
        cursor = await self.store.cursor()
        since = (datetime.fromisoformat(cursor) if cursor else self.clock() - OVERLAP) - OVERLAP
        rows: list[list[Any]] = []
        after: tuple[datetime, int] | None = None
        while True:
            page = await self.b2c.rows(roql.tasks_updated_since(since, PAGE, after))
            rows += page
            if len(page) < PAGE:
                break
            last = page[-1]  # the next page starts after it (paged by key, not by offset)
            after = (_moment(last[1]) if last[1] else since, int(last[0]))
        if not rows:
            posted = await self._tell_followers(rows, {})
            if cursor is None:
                await self.store.set_cursor((since + OVERLAP).isoformat())
            return posted
        newest = max(_moment(row[1]) for row in rows if row[1]) if any(r[1] for r in rows) else None
        tracked = await self.store.tracked([int(row[0]) for row in rows if row[0]])
        # the changed tracked tasks side by side (the Oracle client bounds the calls in
        # flight, B2C_MAX_CONCURRENCY); each task's own lines stay in order
        told = await asyncio.gather(
            *(
                self._follow(tracked[int(row[0])], row)
                for row in rows
                if row[0] and int(row[0]) in tracked
            )
        )
        posted = sum(told) + await self._tell_followers(rows, tracked)
        if newest is not None:  # (a follower that failed leaves it: the rows are read again)
            await self.store.set_cursor(newest.isoformat())
        return posted

    async def _tell_followers(self, rows: list[list[Any]], tracked: dict[int, Tracked]) -> int:
        """The round's rows to every feature that follows Oracle's changes (subscriptions):
        they read these rows, never a query of their own per channel, user or task."""
        posted = 0
        for follower in self.followers:
            posted += await follower(rows, tracked)
        return posted

    async def _follow(self, item: Tracked, row: list[Any]) -> int:
        if item.own_change:  # the bot is changing it itself: it says so in the thread
            return 0
        shown: dict[str, Any] = {**shown_from_row(row), "version": version(row[1])}
        restricted = self.restricted is not None and await self.restricted(item.channel_id)
        lines = differences(item.shown, shown, SHARED_KEYS if restricted else None)
        notes: list[str] = []
        # (a shared channel's thread is told no notes: they are not even read)
        if not restricted and (lines or not self._notes_known(item.shown, shown["version"])):
            read_from = self.b2c.oracle_time()
            found = await self._new_notes(item)
            if found is not None:
                notes = found
                if _second_over(shown["version"], read_from):  # none can come at this version
                    shown["notes_at"] = shown["version"]
        else:
            shown["notes_at"] = shown["version"]
        if not lines and not notes:
            if shown.get("notes_at") != item.shown.get("notes_at"):  # remember, say nothing
                await self.store.replace_shown(item, shown)
            return 0
        if not await self.store.replace_shown(item, shown, item.notes_seen + len(notes)):
            return 0  # another process saw it first and said it
        for listener in self.on_change:
            try:
                await listener(item.task_id, item.shown, shown)
            except Exception:
                log.exception("thread sync: after task %s's change", item.task_id)
        posted = 0
        try:
            if lines:
                await self._update_message(item, shown, restricted)
                await self.poster.post(
                    channel=item.channel_id,
                    thread_ts=item.thread_ts,
                    **render.task_event(f":arrows_counterclockwise: {change_line(lines)}"),
                )
                posted += 1
            for text in notes:
                said = render.note_added(item.task_id, text, self.link(item.task_id))
                await self.poster.post(
                    channel=item.channel_id, thread_ts=item.thread_ts, **render.task_event(said)
                )
                posted += 1
        except SlackUnavailable:
            log.warning("thread sync: Slack is away; task %s's change is not shown", item.task_id)
        if posted and self.on_told is not None and row[1]:
            self.on_told((self.clock() - _moment(row[1])).total_seconds())
        return posted

    @staticmethod
    def _notes_known(before: dict[str, Any], now: str | None) -> bool:
        """Whether every note of this version is known already: the thread's notes were read
        (or made by the bot itself) at this very ``updatedTime``, after its second was over."""
        return now is not None and before.get("notes_at") == now

    async def _new_notes(self, item: Tracked) -> list[str] | None:
        try:
            texts = await self.b2c.note_texts(item.task_id)
        except B2CError as error:
            log.warning("thread sync: notes of task %s unreadable: %s", item.task_id, error)
            return None
        return texts[item.notes_seen :]

    async def _update_message(
        self, item: Tracked, shown: dict[str, Any], restricted: bool = False
    ) -> None:
        """Redraw the task message from the row the poller read (no call to Oracle); in a
        channel shared with another organization, without assignee and due date."""
        task = task_from_shown(item.task_id, shown)
        statuses = (await self.catalog.get()).get("status")
        await self.poster.update(
            item.channel_id,
            item.message_ts,
            render.created_parent(
                item.requester or "",
                task,
                self.link(task.id),
                statuses,
                shown=None if restricted else shown,
            ),
        )

    async def track_created(self, entry: Any, request: Any) -> None:
        """Follow a task the bot just created: its task message (a slash command, the form)
        and that message's thread, or (the message shortcut) its reply in the thread of the
        message the task was made from."""
        if entry.task_id is None or entry.parent_ts is None:
            return
        body = (entry.composed or {}).get("body") or {}
        # what the thread shows is what Oracle answered the POST with: no read after it, and a
        # change made in Oracle however soon after the create is a change from this
        shown = shown_from_answer(entry.task or {}, body)
        shown["notes_at"] = shown["version"]  # its notes are the ones the bot sent
        await self.store.track(
            entry.task_id,
            team_id=request.team_id,
            channel_id=request.channel_id,
            message_ts=entry.parent_ts,
            thread_ts=request.thread_ts or entry.parent_ts,
            requester=request.user_id,
            shown=shown,
            notes_seen=len(body.get("notes") or []),
        )

    async def own_change(self, task_id: int) -> None:
        """The bot is about to change this task itself: not to be reported as made in B2C."""
        await self.store.own_change(task_id)

    async def own_change_done(
        self, task_id: int, notes_added: int = 0, *, read: bool = True
    ) -> dict[str, str | None] | None:
        """After the bot's own change (``notes_added`` 0 if it failed): what the thread shows
        now, read from Oracle (``read``; a note alone changes nothing shown), recorded as said
        by the bot; None if it was not read."""
        rows = []
        if read:
            try:
                rows = await self.b2c.rows(roql.task_sync_row(task_id))
            except B2CError:
                rows = []
        shown: dict[str, Any] | None = None
        if rows:  # its notes at this version are the ones the bot knows (its own)
            moment = version(rows[0][1])
            shown = {**shown_from_row(rows[0]), "version": moment, "notes_at": moment}
        await self.store.own_change_done(task_id, shown, notes_added)
        return shown


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)  # (Oracle's Z: read since Python 3.11)


def _second_over(moment: str | None, oracle_now: datetime | None) -> bool:
    """Whether Oracle's clock had left ``moment``'s second (``updatedTime`` has whole seconds)
    before a read began: a change made after it then has a later ``updatedTime``."""
    if moment is None or oracle_now is None:
        return False
    return oracle_now >= _moment(moment).replace(microsecond=0) + timedelta(seconds=1)
