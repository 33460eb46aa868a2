"""Subscriptions told: each round of the thread sync's poll hands its rows here (the tasks
changed since the last round, with the fields the filters need), and one query a round finds
the tasks whose due time passed (or comes within a subscription's heads-up) since the last.

- A task that starts to match a channel's subscriptions gets one card there (not when the
  channel follows it already: a task created from Slack there has its own thread); its later
  changes are lines in the card's thread and the card is redrawn in place; a task that stops
  matching says so once.
- Past ``CARDS_PER_MINUTE`` new cards in a channel within a minute, the rest of a round's are
  one message naming them; a channel is posted to at most once a second.
- An overdue task is told once per due time in its card's thread, broadcast to the channel,
  and its assignee gets a direct message once.

Every telling is claimed in the database first (``SubscriptionStore``): only the process that
polls tells, and a takeover or a restart does not tell anything twice."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiolimiter import AsyncLimiter

from bot.oracle import roql
from bot.oracle.catalog import Catalog
from bot.oracle.client import B2CClient
from bot.oracle.errors import B2CError
from bot.slack import render
from bot.slack.delivery import SlackPoster, SlackUnavailable
from bot.subscriptions import messages
from bot.subscriptions.filters import matches, subject
from bot.subscriptions.store import Card, Subscription, SubscriptionStore
from bot.sync.changes import card_from_row, change_line, differences
from bot.sync.store import Tracked

log = logging.getLogger(__name__)
CARDS_PER_MINUTE = 5  # a handful: past it, a round's new matches are one message
OWN_CHANGE = 30.0  # seconds a change the bot makes itself is not told as made in B2C
LINES_PER_ROUND = 5  # a channel's lines in their threads a round; past it, one message
BURST = 3  # posts a channel may get at once before the one-a-second pace
DUE_CURSOR = "due_cursor"
Row = list[Any]


class SubscriptionFeed:
    def __init__(
        self,
        *,
        store: SubscriptionStore,
        b2c: B2CClient,
        poster: SlackPoster,
        catalog: Catalog,
        link: Callable[[int], str],
        tracked: Callable[[list[int]], Awaitable[dict[int, Tracked]]],
        allowed: Callable[[str], bool] = lambda channel: True,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        per_second: float = 1.0,
    ) -> None:
        self.store = store
        self.b2c = b2c
        self.poster = poster
        self.catalog = catalog
        self.link = link
        self.tracked = tracked
        self.allowed = allowed
        self.clock = clock
        self.per_second = per_second
        # the Slack user of a staff account (bot.home.notify), for an overdue task's assignee
        self.slack_user: Callable[[int], Awaitable[str | None]] | None = None
        # a channel shared with another organization since it subscribed is told nothing
        # (bot.slack.connect: such a channel is told a task's status only)
        self.restricted: Callable[[str], Awaitable[bool]] | None = None
        self._pace: dict[str, AsyncLimiter] = {}
        self._minute: dict[str, tuple[float, int]] = {}  # channel -> (minute began, cards)
        self._notes_read: dict[int, asyncio.Future[list[str] | None]] = {}  # this round's

    async def round(self, rows: list[Row], tracked: dict[int, Tracked]) -> int:
        """One round of the poll: the changed tasks' ``rows`` (``tracked``: those of them
        that threads follow). The lines posted."""
        subscriptions = await self.store.all()
        if not subscriptions:
            return 0
        channels: dict[str, list[Subscription]] = {}
        for subscription in subscriptions:
            if self.allowed(subscription.channel_id):
                channels.setdefault(subscription.channel_id, []).append(subscription)
        if self.restricted is not None:
            for channel in [c for c in channels if await self.restricted(c)]:
                del channels[channel]
        told = await self._follow(rows, tracked, channels) if rows else 0
        return told + await self._due(channels, subscriptions)

    # ------------------------------------------------------------------ changes
    async def _follow(
        self, rows: list[Row], tracked: dict[int, Tracked], channels: dict[str, list[Subscription]]
    ) -> int:
        views = {int(row[0]): card_from_row(row) for row in rows if row and row[0]}
        cards = await self.store.cards(list(views))
        fresh: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        moved: dict[str, list[tuple[Card, dict[str, Any], bool]]] = {}
        self._notes_read = {}
        for task_id, shown in views.items():
            facts = subject(shown)
            for channel, subscriptions in channels.items():
                hits = [s for s in subscriptions if matches(s.conditions, facts)]
                card = cards.get((channel, task_id))
                if card is not None and card.message_ts is None:
                    # claimed, never posted (the process stopped between the two): again
                    await self.store.drop_card(channel, task_id)
                    card = None
                if card is None:
                    own = tracked.get(task_id)
                    if hits and not (own is not None and own.channel_id == channel):
                        wanted = {**shown, "notes": any(s.notes for s in hits)}
                        fresh.setdefault(channel, []).append((task_id, wanted))
                elif not card.shown.get("tracked"):
                    moved.setdefault(channel, []).append((card, shown, bool(hits)))

        async def one_channel(channel: str) -> int:
            """A channel's changes, then its new cards, in order (Slack paces a channel);
            the channels side by side."""
            said = []
            for card, shown, matching in moved.get(channel, []):
                said += await self._changed(card, shown, matching)
            told = await self._tell(channel, said)
            if channel in fresh:
                told += await self._cards(channel, fresh[channel])
            return told

        told = await asyncio.gather(*(one_channel(c) for c in {**moved, **fresh}))
        return sum(told)

    async def _notes(self, task_id: int) -> list[str] | None:
        """A task's notes, read once a round however many channels want them (None: Oracle
        would not say)."""
        if task_id not in self._notes_read:
            self._notes_read[task_id] = asyncio.ensure_future(self._read_notes(task_id))
        return await self._notes_read[task_id]

    async def _read_notes(self, task_id: int) -> list[str] | None:
        try:
            return await self.b2c.note_texts(task_id)
        except B2CError as error:
            log.warning("subscriptions: notes of task %s unreadable: %s", task_id, error)
            return None

    async def _new_notes(self, card: Card, shown: dict[str, Any], matching: bool) -> list[str]:
        """Notes added in B2C Service since the card last told, for a card whose channel
        asked for them; read only when the task moved (a note moves its updatedTime)."""
        seen = card.shown.get("notes_seen")
        shown["notes_seen"] = seen
        if not (card.shown.get("notes") and matching) or card.shown.get("gathered"):
            return []
        if shown.get("version") == card.shown.get("version"):
            return []
        texts = await self._notes(card.task_id)
        if texts is None:
            return []
        shown["notes_seen"] = len(texts)
        return texts[seen:] if isinstance(seen, int) else []

    async def own_change(self, task_id: int) -> None:
        """``TaskWork.on_own_change``: the bot is changing this task itself (a card's
        button); its thread is told by the button's own line, not as made in B2C Service."""
        for card in (await self.store.cards([task_id])).values():
            until = time.time() + OWN_CHANGE
            await self.store.replace_shown(card, {**card.shown, "own_until": until}, card.matching)

    async def _changed(
        self, card: Card, shown: dict[str, Any], matching: bool
    ) -> list[tuple[Card, str]]:
        """What to tell of a carded task's change (claimed already), each with its card."""
        lines = differences(card.shown, shown)
        task_id = card.task_id
        if (card.shown.get("own_until") or 0) > time.time() and matching == card.matching:
            # the bot's own change: the card redrawn, its thread told by the button already
            keep = {**shown, "gathered": card.shown.get("gathered")}
            keep["notes"], keep["notes_seen"] = card.shown.get("notes"), None
            if await self.store.replace_shown(card, keep, matching):
                await self._redraw(card, shown)
            return []
        shown = {**shown, "notes": card.shown.get("notes")}
        notes = await self._new_notes(card, shown, matching)
        if card.matching and not matching:
            text = f":arrow_right_hook: Task #{task_id} no longer matches this channel's filter"
            text += f" ({change_line(lines)})." if lines else "."
        elif matching and not card.matching:
            text = f":bell: Task #{task_id} matches this channel's filter again"
            text += f" ({change_line(lines)})." if lines else "."
        elif matching and lines:
            text = f":arrows_counterclockwise: {change_line(lines)}"
        else:
            text = ""
        keep = {**shown, "gathered": card.shown.get("gathered")}
        if not text and not notes:  # nothing to tell: remember the newest view quietly
            if shown.get("version") != card.shown.get("version"):
                await self.store.replace_shown(card, keep, card.matching)
            return []
        if not await self.store.replace_shown(card, keep, matching):
            return []  # another process saw it first and said it
        if card.shown.get("gathered") and text:
            text = f"#{task_id}: {text}"
        elif matching and lines:
            await self._redraw(card, shown)
        said = [text] if text else []
        said += [render.note_added(task_id, note, self.link(task_id)) for note in notes]
        return [(card, one) for one in said]

    async def _redraw(self, card: Card, shown: dict[str, Any]) -> None:
        """A card redrawn in place as the task is now (a task in a list has no card)."""
        if card.message_ts and not card.shown.get("gathered"):
            statuses = (await self.catalog.get()).get("status")
            await self.poster.update(
                card.channel_id,
                card.message_ts,
                messages.card(card.task_id, shown, self.link(card.task_id), statuses),
            )

    async def _tell(self, channel: str, said: list[tuple[Card, str]]) -> int:
        """A round's lines in a channel: each in its card's thread, up to a handful; past
        that, the rest in one message in the channel (Slack shows about one a second)."""
        alone = said if len(said) <= LINES_PER_ROUND else said[: LINES_PER_ROUND - 1]
        told = 0
        for card, text in alone:
            told += await self._say(channel, card.thread_ts, messages.line(text))
        rest = said[len(alone) :]
        if rest:
            link = self.link
            told += await self._say(channel, None, messages.gathered_lines(rest, link))
        return told

    async def _cards(self, channel: str, items: list[tuple[int, dict[str, Any]]]) -> int:
        """New cards in a channel: a handful a minute, the rest of the round in one message."""
        began, count = self._minute.get(channel, (0.0, 0))
        if time.monotonic() - began >= 60:
            began, count = time.monotonic(), 0
        room = max(CARDS_PER_MINUTE - count, 0)
        posted = 0
        statuses = (await self.catalog.get()).get("status")
        for task_id, shown in items[:room]:
            if shown.get("notes"):  # the notes it has now: those added later are told
                texts = await self._notes(task_id)
                shown = {**shown, "notes_seen": len(texts) if texts is not None else None}
            if not await self.store.claim_card(channel, task_id, shown):
                continue
            ts = await self._post(
                channel, messages.card(task_id, shown, self.link(task_id), statuses)
            )
            if ts is None:
                await self.store.drop_card(channel, task_id)
                return posted
            await self.store.placed(channel, task_id, ts, ts)
            posted += 1
            count += 1
        self._minute[channel] = (began, count)
        rest = [
            (task_id, shown)
            for task_id, shown in items[room:]
            if await self.store.claim_card(channel, task_id, {**shown, "gathered": True})
        ]
        if rest:
            ts = await self._post(channel, messages.gathered(rest, self.link))
            for task_id, _shown in rest:
                if ts is None:
                    await self.store.drop_card(channel, task_id)
                else:
                    await self.store.placed(channel, task_id, ts, ts)
            posted += ts is not None
        return posted

    # ------------------------------------------------------------------ due times
    async def _due(
        self, channels: dict[str, list[Subscription]], subscriptions: list[Subscription]
    ) -> int:
        now = self.clock()
        kept = await self.store.state(DUE_CURSOR)
        last = datetime.fromisoformat(kept) if kept else now
        if now <= last:
            await self.store.set_state(DUE_CURSOR, now.isoformat())
            return 0
        heads_up = sorted({s.due_soon for s in subscriptions if s.due_soon})
        windows = [(last, now)] + [
            (last + timedelta(seconds=ahead), now + timedelta(seconds=ahead)) for ahead in heads_up
        ]
        rows = await self.b2c.rows(roql.tasks_due_between(windows))
        told = 0
        if rows:
            views = {int(row[0]): card_from_row(row) for row in rows if row and row[0]}
            cards = await self.store.cards(list(views))
            own = await self.tracked(list(views))
            for task_id, shown in views.items():
                if (shown.get("status_type") or "").casefold() == "completed" or not shown["due"]:
                    continue
                due = datetime.fromisoformat(shown["due"])
                told += await self._one_due(task_id, shown, due, now, last, channels, cards, own)
        await self.store.set_state(DUE_CURSOR, now.isoformat())
        return told

    async def _one_due(
        self,
        task_id: int,
        shown: dict[str, Any],
        due: datetime,
        now: datetime,
        last: datetime,
        channels: dict[str, list[Subscription]],
        cards: dict[tuple[str, int], Card],
        own: dict[int, Tracked],
    ) -> int:
        overdue = due <= now
        facts = subject(shown)
        told = 0
        for channel, subscriptions in channels.items():
            wanted = [s for s in subscriptions if matches(s.conditions, facts)]
            if not overdue:  # a heads-up: only for the subscriptions whose window it is in
                wanted = [
                    s
                    for s in wanted
                    if s.due_soon
                    and last + timedelta(seconds=s.due_soon)
                    < due
                    <= now + timedelta(seconds=s.due_soon)
                ]
            if not wanted:
                continue
            card = cards.get((channel, task_id)) or await self._place(
                channel, task_id, shown, own.get(task_id)
            )
            if card is None or card.thread_ts is None:
                continue
            column = "overdue_for" if overdue else "soon_for"
            if not await self.store.mark_told(card, column, shown["due"]):
                continue
            link = self.link(task_id)
            if overdue:
                text = messages.overdue(task_id, shown, link)
            else:
                text = messages.due_soon(task_id, shown, link)
            told += await self._say(channel, card.thread_ts, messages.line(text, broadcast=True))
        if overdue and told:
            await self._tell_assignee(task_id, shown)
        return told

    async def _place(
        self, channel: str, task_id: int, shown: dict[str, Any], own: Tracked | None
    ) -> Card | None:
        """A card for a task to tell something of: the channel's own thread of it (a task
        created from Slack there), or a new card."""
        if own is not None and own.channel_id == channel:
            if await self.store.claim_card(channel, task_id, {**shown, "tracked": True}):
                await self.store.placed(channel, task_id, own.message_ts, own.thread_ts)
        elif await self._cards(channel, [(task_id, shown)]) == 0:
            return None
        return (await self.store.cards([task_id])).get((channel, task_id))

    async def _tell_assignee(self, task_id: int, shown: dict[str, Any]) -> None:
        account = shown.get("assignee_id")
        if self.slack_user is None or not account or not str(account).isdigit():
            return
        if not await self.store.claim_state(f"overdue:{task_id}", str(shown["due"])):
            return
        user = await self.slack_user(int(account))
        if user is not None:
            text = messages.overdue(task_id, shown, self.link(task_id))
            await self._post(user, messages.line(f"{text} It is assigned to you."))

    # ------------------------------------------------------------------ posting
    async def _say(self, channel: str, thread_ts: str | None, message: dict[str, Any]) -> int:
        return 1 if await self._post(channel, message, thread_ts) else 0

    async def _post(
        self, channel: str, message: dict[str, Any], thread_ts: str | None = None
    ) -> str | None:
        """Post, at most ``per_second`` a second in a channel; the message's ts, or None when
        the bot may not post there (or Slack is away: the next change tries again)."""
        pace = self._pace.get(channel)
        if pace is None:
            # about one a second, as Slack allows in a channel, after a short burst
            pace = self._pace[channel] = AsyncLimiter(BURST, BURST / self.per_second)
        where = {"channel": channel} | ({"thread_ts": thread_ts} if thread_ts else {})
        try:
            async with pace:
                ts = await self.poster.post(**where, **message)
        except SlackUnavailable:
            log.warning("subscriptions: Slack is away; %s is told later", channel)
            return None
        if ts is None:
            log.info("subscriptions: the bot may not post in %s (not invited?)", channel)
        return ts
