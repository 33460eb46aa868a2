"""The Home tab, "My tasks": opening it (``app_home_opened``) publishes the user's open tasks,
those assigned to the staff account with their Slack e-mail, nearest due first, with the
task buttons; a button pressed there changes the task and publishes the tab again.

Oracle calls per publish: the staff account by e-mail (cached for an hour), the user's tasks
(one query), and the tasks they created from Slack (one query); the named statuses are cached."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.flows.failures import explain
from bot.home import views
from bot.home.tools import Tools
from bot.oracle import roql
from bot.oracle.errors import B2CError
from bot.oracle.staff import IdentityError, Staff

log = logging.getLogger(__name__)
HOME_FORM_PLACE = "directmessage"  # the channel name of the New task form's requests


class HomeTab:
    def __init__(self, tools: Tools, staff: Staff) -> None:
        self.slack, self.b2c, self.catalog = tools.slack, tools.b2c, tools.catalog
        self.link, self.pace, self.clock = tools.link, tools.pace, tools.clock
        self.store, self.staff = tools.store, staff
        self.offsets: dict[str, int] = {}  # the page each user looks at (this process)
        # more of the tab from features above (a user's own subscriptions): blocks per user
        self.extras: list[Callable[[str], Awaitable[list[dict[str, Any]]]]] = []

    async def view(self, user_id: str, offset: int = 0, banner: str | None = None) -> dict:
        rows = None
        problem = None
        try:
            account, _name = await self.staff.account_for_user(user_id)
            found = await self.b2c.rows(roql.assigned_tasks(account))
            rows = [views.row_from_cells(cells) for cells in found if cells and cells[0]]
        except IdentityError as error:
            problem = (
                f"{error} Your tasks are those assigned to the B2C Service staff account with "
                "the e-mail of your Slack profile: ask your B2C Service admin to give your "
                "staff account that e-mail (or change it in your Slack profile)."
            )
        except B2CError as error:
            headline, reason, _ = explain(error)
            problem = f"{headline}: {reason}"
        created = await self._created(user_id)
        try:  # (the catalog answers from its cache while fresh)
            statuses = (await self.catalog.get()).get("status")
        except B2CError:
            statuses = None
        view = views.home_view(
            user_id=user_id,
            rows=rows,
            created=created,
            link=self.link,
            now=self.clock(),
            statuses=statuses,
            offset=offset,
            problem=problem,
            banner=banner,
        )
        for extra in self.extras:
            more = await extra(user_id)
            if more and len(view["blocks"]) + len(more) <= views.MAX_BLOCKS:
                view["blocks"] += more
        return view

    async def _created(self, user_id: str) -> list[tuple[int, str, str | None]]:
        mine = await self.store.created_by(user_id, views.CREATED_SHOWN)
        if not mine:
            return []
        try:
            found = await self.b2c.rows(roql.tasks_by_id([task_id for task_id, _ in mine]))
        except B2CError:
            return [(task_id, name, "") for task_id, name in mine]
        current = {int(c[0]): views.row_from_cells(c) for c in found if c and c[0]}
        return [
            (
                task_id,
                current[task_id].name if task_id in current else name,
                current[task_id].status if task_id in current else None,
            )
            for task_id, name in mine
        ]

    async def after_created(self, entry: Any, request: Any) -> None:
        """``TaskCreator.on_delivered``: a task made with the Home tab's New task (the form,
        answered in the user's direct messages) shows on the tab at once."""
        if entry.kind == "form" and request.channel_name == HOME_FORM_PLACE:
            await self.publish(request.user_id)

    async def publish(
        self, user_id: str, offset: int | None = None, banner: str | None = None
    ) -> bool:
        """Publish the user's Home tab (the page they were on, unless ``offset``)."""
        if offset is not None:
            self.offsets[user_id] = offset
        view = await self.view(user_id, self.offsets.get(user_id, 0), banner)
        try:
            async with self.pace("views.publish"):
                await self.slack.views_publish(user_id=user_id, view=view)
        except SlackApiError as error:
            log.warning("views.publish failed: %s", error.response.get("error"))
            return False
        return True
