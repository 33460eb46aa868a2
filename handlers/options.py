"""Options for the form's search pickers: contacts and organizations, searched in Oracle."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.flows.worker import TaskCreator
from bot.oracle import lookups
from bot.oracle.errors import B2CError

log = logging.getLogger(__name__)
SEARCH_BUDGET = 2.5  # seconds: Slack waits 3 for options


def register(app: AsyncApp, creator: TaskCreator) -> None:
    searches = {"contact": lookups.search_contacts, "org": lookups.search_organizations}

    @app.options("value")
    async def search(ack: AsyncAck, body: dict[str, Any]) -> None:
        find = searches.get(body.get("block_id", ""))
        choices: list[lookups.Choice] = []
        if find is not None:
            try:
                choices = await asyncio.wait_for(
                    find(creator.b2c, body.get("value", "")), SEARCH_BUDGET
                )
            except (B2CError, TimeoutError) as error:
                log.info("option search failed: %s", type(error).__name__)
        await ack(options=[choice.option() for choice in choices])
