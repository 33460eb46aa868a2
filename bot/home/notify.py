"""Direct messages to the person concerned: a task assigned to someone in Slack (by
``@assign``, the form, or an agent in B2C Service, seen by the thread sync) is told to them,
with the task's buttons; not when they assigned it to themselves from Slack.

The assignee is a staff account; its Slack user is the one with the same e-mail
(``users.lookupByEmail``, needs ``users:read.email``), kept for an hour."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.home import views
from bot.home.tools import Tools
from bot.oracle import roql
from bot.oracle.errors import B2CError
from bot.slack.delivery import SlackUnavailable
from bot.sync.changes import newly_assigned

log = logging.getLogger(__name__)
KEEP = 3600.0  # seconds a staff account's Slack user is kept


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


class Assignments:
    def __init__(self, tools: Tools) -> None:
        self.slack, self.b2c, self.catalog = tools.slack, tools.b2c, tools.catalog
        self.link, self.pace, self.clock = tools.link, tools.pace, tools.clock
        self.poster = tools.poster
        self._users: dict[int, tuple[float, str | None]] = {}

    async def slack_user(self, account_id: int) -> str | None:
        """The Slack user with the staff account's e-mail, or None."""
        cached = self._users.get(account_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            emails = await self.b2c.query_one_column(roql.account_email(account_id))
        except B2CError as error:
            log.info("assignment: staff account %s's e-mail unreadable: %s", account_id, error)
            return None
        user = None
        if emails and emails[0]:
            try:
                async with self.pace("users.lookupByEmail"):
                    found = await self.slack.users_lookupByEmail(email=emails[0])
                user = (found.get("user") or {}).get("id")
            except SlackApiError as error:
                if error.response.get("error") != "users_not_found":
                    log.info("users.lookupByEmail failed: %s", error.response.get("error"))
                    return None
        self._users[account_id] = (time.monotonic() + KEEP, user)
        return user

    async def tell(self, user: str, row: views.Row, *, by: str | None, where: str) -> bool:
        statuses = (await self.catalog.get()).get("status")
        message = views.assigned_message(
            row, self.link(row.id), by=by, where=where, statuses=statuses, now=self.clock()
        )
        try:
            return await self.poster.post(channel=user, **message) is not None
        except SlackUnavailable:
            log.warning("could not tell %s of task %s's assignment", user, row.id)
            return False

    async def after_created(self, entry: Any, request: Any) -> None:
        """``TaskCreator.on_delivered``: a task made from Slack with an assignee."""
        composed = entry.composed or {}
        body = composed.get("body") or {}
        account = (body.get("assignedToAccount") or {}).get("id")
        given = (entry.draft or {}).get("assignee") or {}
        user = given.get("user_id") if given.get("kind") == "slack_user" else None
        if user is None and account is not None:
            user = await self.slack_user(int(account))
        if user is None or user == request.user_id:  # nobody in Slack, or themselves
            return
        task = entry.task or {}
        status = ((task.get("statusWithType") or {}).get("status") or {}).get("lookupName")
        row = views.Row(
            id=int(entry.task_id),
            name=composed.get("name") or "",
            status=status or "Unknown",
            due=_moment(body.get("dueTime")),
        )
        public = request.channel_id[:1] in ("C", "G")
        where = f"in <#{request.channel_id}>" if public else "in Slack"
        await self.tell(user, row, by=request.user_id, where=where)

    async def after_sync(self, task_id: int, old: dict[str, Any], new: dict[str, Any]) -> None:
        """``SyncPoller.on_change``: a tracked task assigned to someone in B2C Service."""
        account = newly_assigned(old, new)
        if account is None:
            return
        user = await self.slack_user(account)
        if user is None:
            return
        row = views.Row(
            id=task_id,
            name=new.get("name") or "",
            status=new.get("status") or "Unknown",
            status_type=new.get("status_type"),
            due=_moment(new.get("due")),
        )
        await self.tell(user, row, by=None, where="in B2C Service")
