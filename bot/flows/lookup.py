"""Reading tasks for Slack: ``/task show 12`` (one task) and ``/task mine`` (the requester's
open tasks, by the staff account with their Slack e-mail)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.domain.slack_text import escape
from bot.flows.failures import explain
from bot.oracle import roql
from bot.oracle.client import B2CClient
from bot.oracle.errors import B2CError
from bot.oracle.staff import IdentityError, Staff
from bot.slack import render

COMPLETE_TYPE = "completed"


class TaskLookup:
    def __init__(self, *, b2c: B2CClient, staff: Staff, link: Callable[[int], str]) -> None:
        self.b2c = b2c
        self.staff = staff
        self.link = link  # the task's address in B2C Service (TaskCreator.link)

    async def show(self, task_id: int) -> dict[str, Any]:
        try:
            task = await self.b2c.get_task(task_id)
        except B2CError as error:
            headline, reason, _ = explain(error)
            if error.status == 404:
                headline, reason = f"There is no task #{task_id}", error.reason
            return render.task_event(f":x: {escape(headline)}\n>{escape(reason, 1500)}")
        return render.task_summary(task, self.link(task.id))

    async def mine(self, user_id: str) -> dict[str, Any]:
        try:
            account, _name = await self.staff.account_for_user(user_id)
            found = await self.b2c.rows(roql.open_tasks(account))
        except IdentityError as error:
            return render.task_event(f":x: {escape(str(error), 1500)}")
        except B2CError as error:
            headline, reason, _ = explain(error)
            return render.task_event(f":x: {escape(headline)}\n>{escape(reason, 1500)}")
        rows = []
        for task_id, name, status, status_type, *_ in found:
            if (status_type or "").lower() == COMPLETE_TYPE or not task_id:
                continue
            rows.append((int(task_id), name or "", status or "", self.link(int(task_id))))
        return render.task_list(rows)
