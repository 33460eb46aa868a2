"""The morning digest: at 09:00 in each user's own time zone, a direct message with their tasks
due today and overdue (nothing when there are none); ``/task remind off`` stops it.

Once a minute one process (the holder of the ``digest`` row, as the sync poller's) looks for
users whose morning it is (09:00 to 12:00 local, so that a bot down at nine still sends it),
reads in two queries which tasks are due and whose they are, and sends the digests one by one
at ``DIGEST_PER_MINUTE`` (Slack's rate limits). Each user's day is recorded before the message
is sent, so a restart, or a second process, never sends a day's digest twice (a process that
dies between the record and the message loses that one digest rather than risk two)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.domain import when
from bot.home import views
from bot.home.tools import Tools
from bot.oracle import roql
from bot.slack.delivery import SlackUnavailable

log = logging.getLogger(__name__)
HOUR = 9  # local time the digest is sent
LATEST = 12  # ...or until this hour, when the bot was not running at nine
PAGE = 1000  # rows a query page (Oracle answers at most 20,000)
USERS_KEEP = 3600.0  # seconds the workspace's user list is kept
DIGEST_BUCKET = "digest"


class Digests:
    def __init__(self, tools: Tools) -> None:
        self.tools = tools
        self.slack, self.b2c, self.store = tools.slack, tools.b2c, tools.store
        self.link, self.pace, self.clock = tools.link, tools.pace, tools.clock
        self.poster = tools.poster
        self._users: tuple[float, list[dict[str, Any]]] | None = None

    async def users(self) -> list[dict[str, Any]]:
        """The workspace's people (``users.list``, Tier 2, kept for an hour): id, tz, e-mail."""
        if self._users is not None and self._users[0] > time.monotonic():
            return self._users[1]
        people: list[dict[str, Any]] = []
        cursor = None
        while True:
            async with self.pace("users.list"):
                page = await self.slack.users_list(limit=200, cursor=cursor)
            for user in page.get("members") or []:
                email = (user.get("profile") or {}).get("email")
                if user.get("deleted") or user.get("is_bot") or user.get("id") == "USLACKBOT":
                    continue
                if email and user.get("tz"):
                    people.append({"id": user["id"], "tz": user["tz"], "email": email.lower()})
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        self._users = (time.monotonic() + USERS_KEEP, people)
        return people

    def mornings(self, people: list[dict[str, Any]], now: datetime) -> dict[str, dict[str, Any]]:
        """Whose morning it is: user id -> the person, their local day and its end (UTC)."""
        due = {}
        for person in people:
            zone = when.zone(person["tz"])
            local = now.astimezone(zone)
            if HOUR <= local.hour < LATEST:
                midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time())
                end = midnight.replace(tzinfo=zone).astimezone(UTC)
                due[person["id"]] = {**person, "day": local.date().isoformat(), "end": end}
        return due

    async def _accounts(self) -> dict[str, int]:
        """Staff accounts by e-mail (lower case)."""
        found: dict[str, int] = {}
        after: int | None = None
        while True:
            rows = await self.b2c.rows(roql.account_emails(PAGE, after))
            for account_id, email, *_ in rows:
                if account_id and email:
                    found.setdefault(email.lower(), int(account_id))
            if len(rows) < PAGE or not rows[-1][0]:
                return found
            after = int(rows[-1][0])  # the next page starts after it (paged by key)

    async def _due_tasks(self, before: datetime) -> dict[int, list[views.Row]]:
        """Open tasks due before ``before``, by assignee."""
        mine: dict[int, list[views.Row]] = {}
        after: int | None = None
        while True:
            rows = await self.b2c.rows(roql.assigned_tasks_due_before(before, PAGE, after))
            for cells in rows:
                account = views.assignee_id(cells)
                row = views.row_from_cells(cells)
                if account is not None and not row.complete:
                    mine.setdefault(account, []).append(row)
            if len(rows) < PAGE or not rows[-1][0]:
                return mine
            after = int(rows[-1][0])  # the next page starts after it (paged by key)

    async def run_once(self) -> int:
        """One round; the number of digests sent (0 when another process sends them)."""
        if not await self.store.hold_digest():
            return 0
        now = self.clock()
        due = self.mornings(await self.users(), now)
        if not due:
            return 0
        off = await self.store.reminders_off()
        done = await self.store.digest_days({u: p["day"] for u, p in due.items()})
        due = {u: p for u, p in due.items() if u not in off and u not in done}
        if not due:
            return 0
        accounts = await self._accounts()
        tasks = await self._due_tasks(max(p["end"] for p in due.values()))
        sent = 0
        for user_id in sorted(due):
            person = due[user_id]
            rows = tasks.get(accounts.get(person["email"], -1), [])
            overdue = [r for r in rows if r.due is not None and r.due < now]
            today = [r for r in rows if r.due is not None and now <= r.due < person["end"]]
            if not overdue and not today:
                await self.store.claim_digest(user_id, person["day"], "nothing")
                continue
            if not await self.store.claim_digest(user_id, person["day"], "sending"):
                continue  # sent already (another process, or before a restart)
            message = views.digest_message(today, overdue, self.link, now)
            state = "sent"
            try:
                async with self.pace(DIGEST_BUCKET):
                    if await self.poster.post(channel=user_id, **message) is None:
                        state = "refused"
            except (SlackUnavailable, SlackApiError) as error:
                log.warning("digest for %s not sent: %s", user_id, error)
                state = "failed"
            await self.store.digest_sent(user_id, person["day"], state)
            sent += state == "sent"
        if sent:
            log.info("morning digests sent: %d", sent, extra={"event": "digests", "count": sent})
        return sent
