"""Tasks made from Slack messages: the message an emoji was put on, and a whole thread as a
note. The messages are read from Slack after the ack (``conversations.history`` and
``conversations.replies``, Tier 3: paced), when the task is composed.

``thread_note`` is pure: every message of a thread, who, when and what (text made readable,
files by name and link), within Oracle's note length, the oldest shortened first, saying so."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.domain.drafts import TaskDraft
from bot.domain.requests import TaskRequest
from bot.domain.slack_text import first_line_name, to_plain, unnamed_user_ids
from bot.home.tools import Tools
from bot.oracle import lookups
from bot.slack.delivery import TRANSIENT, SlackUnavailable
from bot.slack.people import People

log = logging.getLogger(__name__)
MAX_NOTE = 349_525  # Oracle: a note's text is at most this long
NOTE_FROM_MESSAGE = 2800  # the message's text in an emoji task's note (as the shortcut's form)
SHORT = 200  # characters an old message is shortened to when the thread is too long
BATCH_WAIT = 0.2  # seconds the messages wanted from one channel are gathered for one read


class MessageUnreadable(ValueError):
    """Slack would not show the message (deleted, or the bot is not in the channel)."""


def _files(message: dict[str, Any]) -> list[str]:
    return [
        f"[file: {f.get('name') or f.get('title') or 'file'} {f.get('permalink') or ''}]".replace(
            " ]", "]"
        )
        for f in message.get("files") or []
    ]


def _when(ts: str) -> str:
    try:
        return datetime.fromtimestamp(float(ts), UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return ts


def thread_note(
    messages: list[dict[str, Any]], names: dict[str, str], limit: int = MAX_NOTE
) -> str:
    """The thread as note text: a heading, then ``Name, 2026-11-28 10:02 UTC: text`` per
    message, oldest first. Past ``limit`` characters, the oldest messages are shortened first
    (to ``SHORT`` characters, then left out), and the heading says how many."""
    entries = []
    for message in messages:
        who = names.get(message.get("user") or "", "") or message.get("username") or "Someone"
        text = to_plain(message.get("text") or "", names).strip()
        body = "\n".join(part for part in [text, *_files(message)] if part)
        entries.append([f"{who}, {_when(message.get('ts', ''))}: ", body])

    def heading(shortened: int, left_out: int) -> str:
        line = f"Slack thread ({len(messages)} messages)"
        if shortened:
            line += f"; the oldest {shortened} shortened to fit B2C Service's note length"
        if left_out:
            line += f"; the oldest {left_out} left out"
        return line + ":\n"

    def size(shortened: int, left_out: int) -> int:
        return len(heading(shortened, left_out)) + sum(
            len(head) + len(body) + 1 for head, body in entries[left_out:]
        )

    full = [body for _head, body in entries]
    shortened = left_out = 0
    for left_out in range(len(entries) + 1):  # leave out the oldest only if shortening fails
        for index, entry in enumerate(entries):
            entry[1] = full[index]
        shortened = 0
        for index in range(left_out, len(entries)):  # the oldest shortened first
            if size(shortened, left_out) <= limit:
                break
            if len(entries[index][1]) > SHORT:
                entries[index][1] = entries[index][1][: SHORT - 1] + "…"
                shortened = index - left_out + 1
        if size(shortened, left_out) <= limit:
            break
    lines = [head + body for head, body in entries[left_out:]]
    return (heading(shortened, left_out) + "\n".join(lines))[:limit]


class MessageSource:
    """Reads the messages tasks are made from, and completes their drafts."""

    def __init__(self, tools: Tools, people: People, note_limit: int = MAX_NOTE) -> None:
        self.slack, self.b2c, self.pace = tools.slack, tools.b2c, tools.pace
        self.people = people
        self.note_limit = note_limit
        self._batches: dict[str, dict[str, asyncio.Future[Any]]] = {}  # channel -> ts -> read
        self._reads: set[asyncio.Future[None]] = set()

    async def message(self, channel: str, ts: str) -> dict[str, Any]:
        """One message (with its ``thread_ts`` when it is in a thread). The messages wanted
        from one channel within ``BATCH_WAIT`` are read together, in one
        ``conversations.history`` call over their range (200 a page): a burst of reactions in a
        channel costs a call or two, not one each against Tier 3's 50 a minute."""
        batch = self._batches.get(channel)
        if batch is None:
            batch = self._batches[channel] = {}
            asyncio.get_running_loop().call_later(BATCH_WAIT, lambda: self._start_read(channel))
        waiter = batch.get(ts)
        if waiter is None:
            waiter = batch[ts] = asyncio.get_running_loop().create_future()
        try:
            found = await asyncio.shield(waiter)
        except Exception as error:  # Slack away (a 429 past slack_sdk's retries, no network)
            raise SlackUnavailable(type(error).__name__) from None
        if isinstance(found, MessageUnreadable):
            raise found
        if found is None:  # a reply: only its thread has it (which starts with the parent)
            replies = [m for m in await self.thread(channel, ts) if m.get("ts") == ts]
            if not replies:
                raise MessageUnreadable("The message is gone (deleted before the task was made).")
            found = replies[0]
        return found

    def _start_read(self, channel: str) -> None:
        read = asyncio.ensure_future(self._read_batch(channel))
        self._reads.add(read)  # (a task nobody refers to may be collected mid-way)
        read.add_done_callback(self._reads.discard)

    async def _read_batch(self, channel: str) -> None:
        batch = self._batches.pop(channel, {})
        wanted = sorted(batch, key=float)
        found: dict[str, Any] = {}
        cursor = None
        try:
            while True:
                async with self.pace("conversations.history"):
                    page = await self.slack.conversations_history(
                        channel=channel,
                        oldest=wanted[0],
                        latest=wanted[-1],
                        inclusive=True,
                        limit=200,
                        cursor=cursor,
                    )
                for message in page.get("messages") or []:
                    if message.get("ts") in batch:
                        found[message["ts"]] = message
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor or len(found) == len(batch):
                    break
        except SlackApiError as error:
            if error.response.get("error") in TRANSIENT or error.response.status_code >= 500:
                for waiter in batch.values():
                    if not waiter.done():
                        waiter.set_exception(error)
                return
            problem = MessageUnreadable(
                f"Slack would not show the message ({error.response.get('error')}): "
                "invite the bot to the channel, or use the message's Create B2C task shortcut."
            )
            found = dict.fromkeys(batch, problem)
        except Exception as error:  # Slack away: each waiter fails, and its request is kept
            for waiter in batch.values():
                if not waiter.done():
                    waiter.set_exception(error)
            return
        for ts, waiter in batch.items():
            if not waiter.done():
                waiter.set_result(found.get(ts))

    async def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Every message of a thread, oldest first."""
        messages: list[dict[str, Any]] = []
        cursor = None
        while True:
            try:
                async with self.pace("conversations.replies"):
                    page = await self.slack.conversations_replies(
                        channel=channel, ts=thread_ts, limit=200, cursor=cursor
                    )
            except SlackApiError as error:
                if error.response.get("error") in TRANSIENT or error.response.status_code >= 500:
                    raise SlackUnavailable(error.response.get("error")) from None
                raise MessageUnreadable(
                    f"Slack would not show the thread ({error.response.get('error')})."
                ) from None
            except (aiohttp.ClientError, TimeoutError) as error:
                raise SlackUnavailable(type(error).__name__) from None
            messages += page.get("messages") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return messages

    async def _names(self, messages: list[dict[str, Any]]) -> dict[str, str]:
        ids: list[str] = []
        for message in messages:
            ids += [message.get("user") or "", *unnamed_user_ids(message.get("text") or "")]
        names = {}
        for user_id in dict.fromkeys(i for i in ids if i):
            person = await self.people.get(user_id)
            if person is not None:
                names[user_id] = person.name
        return names

    async def _permalink(self, channel: str, ts: str) -> str:
        try:
            found = await self.slack.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError as error:
            log.info("chat.getPermalink failed: %s", error.response.get("error"))
            return ""
        return found.get("permalink") or ""

    async def prepare(
        self, kind: str, request: TaskRequest, draft: TaskDraft
    ) -> tuple[TaskDraft, str | None]:
        """``CreateProcedure.prepare``: an emoji's task from its message (name from the first
        line, the message and its link as the note, the author as contact when their e-mail
        matches), answered in its thread; with ``whole_thread``, the thread in the note."""
        thread = None
        if kind == "reaction" and request.source_ts:
            message = await self.message(request.channel_id, request.source_ts)
            thread = message.get("thread_ts") or message.get("ts")
            names = await self._names([message])
            link = await self._permalink(request.channel_id, request.source_ts)
            text = message.get("text") or ""
            note = to_plain(text, names)[:NOTE_FROM_MESSAGE]
            contact = None
            person = await self.people.get(message["user"]) if message.get("user") else None
            if person is not None and person.email:
                found = await lookups.contact_by_email(self.b2c, person.email)
                contact = int(found.value) if found is not None else None
            draft = replace(
                draft,
                name=first_line_name(text, names),
                note=f"{note}\n\n{link}".strip(),
                contact=draft.contact or contact,
            )
        if request.whole_thread and request.thread_ts:
            messages = await self.thread(request.channel_id, request.thread_ts)
            room = self.note_limit - len(draft.note or "") - 2
            transcript = thread_note(messages, await self._names(messages), max(room, 1000))
            note = f"{draft.note}\n\n{transcript}" if draft.note else transcript
            draft = replace(draft, note=note[: self.note_limit])
        return draft, thread
