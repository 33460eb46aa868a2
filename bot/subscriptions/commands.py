"""``/task subscribe``, ``/task subscriptions``, ``/task unsubscribe``: each answers the
person privately (through the command's ``response_url``), and a change is also said in the
channel, so that everyone there knows what it follows. A filter's values are checked against
the site as a create checks them, and kept as what they resolved to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.domain.drafts import IdOrName, TaskDraft
from bot.domain.grammar import GrammarError
from bot.domain.slack_text import escape
from bot.flows.site_values import SiteValues
from bot.oracle.catalog import ATTRIBUTES
from bot.oracle.errors import B2CError
from bot.oracle.staff import IdentityError
from bot.slack.delivery import SlackPoster, SlackUnavailable
from bot.subscriptions import messages
from bot.subscriptions.filters import NAMED, Condition, describe, parse_filter
from bot.subscriptions.store import SubscriptionStore

MAX_PER_CHANNEL = 20


def _private(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text}


class SubscriptionCommands:
    def __init__(self, store: SubscriptionStore, values: SiteValues, poster: SlackPoster) -> None:
        self.store, self.values, self.poster = store, values, poster
        # whether a channel is shared with another organization and told only a task's status
        # (bot.slack.connect): a feed of cards would tell its people far more
        self.restricted: Callable[[str], Awaitable[bool]] | None = None

    async def answer(self, kind: str, command: dict[str, Any], option: str | None) -> dict:
        channel = command.get("channel_id") or ""
        user = command.get("user_id") or ""
        if kind == "subscriptions":
            return messages.listing(await self.store.of_channel(channel), _personal(channel))
        if kind == "unsubscribe":
            return await self.unsubscribe(channel, user, option or "")
        return await self.subscribe(command, option or "")

    async def subscribe(self, command: dict[str, Any], text: str) -> dict[str, Any]:
        channel, user = command.get("channel_id") or "", command.get("user_id") or ""
        try:
            wanted = parse_filter(text, user)
        except GrammarError as error:
            return _private(f"No subscription was made: {escape(error.message)}")
        if self.restricted is not None and await self.restricted(channel):
            return _private(
                "No subscription was made: this channel is shared with another organization, "
                "and a feed of task cards would show its people assignees, contacts and "
                "organizations. Subscribe in a channel of your own organization."
            )
        if len(await self.store.of_channel(channel)) >= MAX_PER_CHANNEL:
            return _private(
                f"No subscription was made: a channel follows at most {MAX_PER_CHANNEL} "
                "filters (`/task subscriptions` lists them, `/task unsubscribe 2` stops one)."
            )
        conditions = []
        for condition in wanted.conditions:
            resolved = await self._resolve(condition)
            if isinstance(resolved, str):
                return _private(f"No subscription was made: {escape(resolved)}")
            conditions.append(resolved)
        try:
            posted = await self.poster.post(
                channel=channel,
                **messages.subscribed(user, describe(conditions, wanted.due_soon, wanted.notes)),
            )
        except SlackUnavailable:
            return _private("No subscription was made: Slack is not answering; try again soon.")
        if posted is None:
            where = (
                "Subscribe in your direct messages with the bot (its Messages tab) for a "
                "feed of your own."
                if _personal(channel)
                else "It may be a private channel the bot is not in: `/invite` the bot here, "
                "then subscribe again."
            )
            return _private(f"No subscription was made: the bot cannot post here. {where}")
        await self.store.add(
            team_id=command.get("team_id"),
            channel_id=channel,
            made_by=user,
            conditions=conditions,
            due_soon=wanted.due_soon,
            notes=wanted.notes,
        )
        return _private(f"Subscribed: {describe(conditions, wanted.due_soon, wanted.notes)}.")

    async def home_blocks(self, user: str) -> list[dict[str, Any]]:
        """The Home tab's list of the person's own subscriptions (their direct messages')."""
        mine = [s for s in await self.store.of_user(user) if _personal(s.channel_id)]
        return messages.home_blocks(mine)

    async def unsubscribe(self, channel: str, user: str, which: str) -> dict[str, Any]:
        subscriptions = await self.store.of_channel(channel)
        if which == "all":
            gone = subscriptions
        elif which.isdigit() and 0 < int(which) <= len(subscriptions):
            gone = [subscriptions[int(which) - 1]]
        else:
            listed = messages.listing(subscriptions, _personal(channel))["text"]
            return _private(f"There is no subscription {escape(which)} here. {listed}")
        if not gone:
            return _private("This channel follows no B2C Service tasks: nothing to stop.")
        await self.store.remove([s.id for s in gone])
        if len(gone) == len(subscriptions):
            await self.store.forget_cards(channel)
        said = "; ".join(describe(s.conditions, s.due_soon, s.notes) for s in gone)
        try:
            await self.poster.post(
                **messages.unsubscribed(channel, user, said, left=len(subscriptions) - len(gone))
            )
        except SlackUnavailable:
            pass  # the change is made; only its word in the channel is missing
        return _private(f"Stopped: {said}.")

    async def _resolve(self, condition: Condition) -> dict[str, Any] | str:
        """A condition's values as the site knows them, or what is wrong (in words)."""
        values = []
        for value in condition.values:
            found = await self._one(condition.field, value)
            if isinstance(found, str):
                return found
            values.append(found)
        return {"field": condition.field, "negated": condition.negated, "values": values}

    async def _one(self, field: str, value: Any) -> dict[str, Any] | str:
        try:
            if field == "assign":
                ref, label = await self.values.staff.resolve(value)
                return {"id": ref.id, "name": label}
            if field in ("contact", "org"):
                return await self._record(field, value)
        except IdentityError as error:
            return str(error)
        except B2CError as error:
            return f"B2C Service could not check it ({error.reason}); try again in a moment."
        assert field in NAMED  # (the catalog's kinds have the filter's names)
        draft = TaskDraft(name="", **{ATTRIBUTES[field]: value})
        checked = await self.values.checked(draft)
        if isinstance(checked, str):
            return checked
        named = getattr(checked, ATTRIBUTES[field])
        if named.name is None:  # the site would not list its values: taken as typed
            return {"id": named.id, "name": str(named)}
        return {"id": named.id, "name": named.name}

    async def _record(self, field: str, value: Any) -> dict[str, Any] | str:
        """A contact (by id) or an organization (by id or name): its id and its name."""
        if field == "org" and isinstance(value, IdOrName) and value.id is None:
            checked = await self.values.checked(TaskDraft(name="", organization=value))
            if isinstance(checked, str):
                return checked
            assert checked.organization is not None
            return {"id": checked.organization.id, "name": checked.organization.name}
        record_id = value.id if isinstance(value, IdOrName) else int(value)
        table = "contacts" if field == "contact" else "organizations"
        name = await self.values.name_of(table, int(record_id or 0))
        if name is None:
            what = "contact" if field == "contact" else "organization"
            return f"No {what} in B2C Service has the ID {record_id}."
        return {"id": int(record_id or 0), "name": name or None}


def _personal(channel: str) -> bool:
    """A direct-message channel: the subscriptions there are one person's own feed."""
    return channel.startswith("D")
