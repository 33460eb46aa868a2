"""A task from an emoji: reacting with ``:ticket:`` (``TASK_REACTION``) to a message creates a
task from it, as the message shortcut does but without the form, answered in the message's
thread.

The reaction is journaled before Slack's event is acknowledged, keyed by the message
(``reaction:<team>:<channel>:<ts>``): however many people react, and however often Slack
delivers the event, the message makes one task. Nothing is read from Slack before the ack (a
burst of reactions is acked as fast as a burst of commands); the message itself is read when
the task is composed (``bot.home.sources``), and the channel's defaults apply."""

from __future__ import annotations

import logging
from typing import Any

from bot.domain.drafts import TaskDraft
from bot.domain.requests import TaskRequest
from bot.flows.compose import REACTION_PLACE
from bot.flows.worker import TaskCreator
from bot.journal import Entry
from bot.slack.access import Gate

log = logging.getLogger(__name__)
PLACEHOLDER = "Follow up on a Slack message"  # replaced by the message's first line


class ReactionTasks:
    def __init__(self, *, creator: TaskCreator, gate: Gate, reaction: str) -> None:
        self.creator = creator
        self.gate = gate
        self.reaction = reaction.strip(":")

    def wanted(self, event: dict[str, Any]) -> bool:
        item = event.get("item") or {}
        return (
            event.get("reaction", "").split("::")[0] == self.reaction
            and item.get("type") == "message"
            and bool(item.get("channel"))
            and bool(item.get("ts"))
        )

    async def accept(self, event: dict[str, Any], team_id: str = "") -> Entry | None:
        """Journal the task of a reaction (before the ack); None when the reaction is not the
        bot's, the allow-lists refuse it, or the message has its task already."""
        if not self.wanted(event):
            return None
        item = event["item"]
        user = event.get("user") or ""
        if not self.gate.open and await self.gate.refusal(user, item["channel"]) is not None:
            log.info("a task emoji from %s in %s refused by the allow-lists", user, item["channel"])
            return None
        request = TaskRequest(
            user_id=user,
            channel_id=item["channel"],
            channel_name=REACTION_PLACE,
            team_id=team_id,
            command="",
            thread_ts=item["ts"],  # the message's own thread; a reply's is found when read
            source_ts=item["ts"],
        )
        key = f"reaction:{team_id}:{item['channel']}:{item['ts']}"
        return await self.creator.accept(
            request, TaskDraft(name=PLACEHOLDER), kind="reaction", dedupe_key=key
        )
