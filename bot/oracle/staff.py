"""Who a Slack user is in Oracle: the staff account with the same e-mail, cached with expiry.

Used for ``@assign`` and the form's user picker, and for ``/task mine``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from bot.domain.drafts import AccountLogin, Assignee, IdOrName, SlackUser
from bot.domain.tasks import Ref
from bot.oracle import roql
from bot.oracle.client import B2CClient


class Member(Protocol):
    name: str
    email: str | None


class Directory(Protocol):
    """Who a Slack user is: their name and e-mail (``bot.slack.people.People``, passed in)."""

    async def get(self, user_id: str) -> Member | None: ...


class IdentityError(Exception):
    """A user or login could not be matched to exactly one staff account; says why."""


class Staff:
    """Maps Slack users and logins to Oracle staff accounts."""

    def __init__(
        self,
        b2c: B2CClient,
        people: Directory,
        *,
        ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._b2c = b2c
        self._people = people
        self._ttl = ttl
        self._clock = clock
        self._by_email: dict[str, tuple[float, int]] = {}

    async def account_for_user(self, user_id: str) -> tuple[int, str]:
        """The staff account id of a Slack user, and the user's name."""
        person = await self._people.get(user_id)
        if person is None:
            raise IdentityError(
                "Slack would not say who that user is; try again, or give a staff login instead."
            )
        if not person.email:
            raise IdentityError(
                f"The bot cannot see {person.name}'s e-mail in Slack (the app needs the "
                "users:read.email scope); give their staff login instead."
            )
        email = person.email.lower()
        cached = self._by_email.get(email)
        if cached and cached[0] > self._clock():
            return cached[1], person.name
        ids = await self._b2c.query_one_column(roql.account_by_email(email))
        if not ids:
            raise IdentityError(
                f"No Oracle B2C Service staff account has {person.name}'s e-mail "
                f"({person.email}); give their staff login instead."
            )
        if len(set(ids)) > 1:
            raise IdentityError(
                f"Several staff accounts have the e-mail {person.email}; give the staff login "
                "instead."
            )
        account_id = int(ids[0])
        self._by_email[email] = (self._clock() + self._ttl, account_id)
        return account_id, person.name

    async def resolve(self, assignee: Assignee) -> tuple[Ref, str]:
        """The staff account reference for ``assignee`` and a label to show for it."""
        if isinstance(assignee, IdOrName):
            if assignee.id is not None:
                return Ref(id=assignee.id), f"account {assignee}"
            return Ref(lookup_name=assignee.name), f"account {assignee}"
        if isinstance(assignee, AccountLogin):
            ids = await self._b2c.query_one_column(roql.account_by_login(assignee.login))
            if not ids and "@" in assignee.login:  # an e-mail, not a login
                ids = await self._b2c.query_one_column(roql.account_by_email(assignee.login))
                if len(set(ids)) > 1:
                    raise IdentityError(
                        f"Several staff accounts have the e-mail {assignee.login}; give the "
                        "staff login instead."
                    )
            if not ids:
                what = "login or e-mail" if "@" in assignee.login else "login"
                raise IdentityError(
                    f"No Oracle B2C Service staff account has the {what} “{assignee.login}”."
                )
            return Ref(id=int(ids[0])), assignee.login
        assert isinstance(assignee, SlackUser)
        account_id, name = await self.account_for_user(assignee.user_id)
        return Ref(id=account_id), name
