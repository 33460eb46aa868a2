"""Finding the Oracle staff account a task is assigned to: by Slack user (e-mail), login or id."""

from __future__ import annotations

from bot.b2c import B2CClient, quote_roql
from bot.drafts import AccountLogin, Assignee, IdOrName, SlackUser
from bot.people import People
from bot.tasks import Ref

# Account e-mail path in ROQL (unverified on a live site; Connect PHP spells it
# Account.Emails.Address). One place to change it.
ACCOUNT_BY_EMAIL = "select id from accounts where emails.address = {email}"
ACCOUNT_BY_LOGIN = "select id from accounts where login = {login}"


class AssigneeError(Exception):
    """The assignee could not be matched to exactly one staff account; says why."""


async def resolve_assignee(
    assignee: Assignee, *, b2c: B2CClient, people: People
) -> tuple[Ref, str]:
    """The staff account reference for ``assignee`` and a label to show for it."""
    if isinstance(assignee, IdOrName):
        return Ref(id=assignee.id, lookup_name=assignee.name), f"account {assignee}"
    if isinstance(assignee, AccountLogin):
        ids = await b2c.query_one_column(ACCOUNT_BY_LOGIN.format(login=quote_roql(assignee.login)))
        if not ids:
            raise AssigneeError(
                f"No Oracle B2C Service staff account has the login “{assignee.login}”."
            )
        return Ref(id=int(ids[0])), assignee.login
    assert isinstance(assignee, SlackUser)
    person = await people.get(assignee.user_id)
    if person is None:
        raise AssigneeError(
            "Slack would not tell the bot who the assignee is; try again or give a staff login."
        )
    if not person.email:
        raise AssigneeError(
            f"The bot cannot see {person.name}'s e-mail in Slack (the app needs the "
            "users:read.email scope); give their staff login instead."
        )
    ids = await b2c.query_one_column(ACCOUNT_BY_EMAIL.format(email=quote_roql(person.email)))
    if not ids:
        raise AssigneeError(
            f"No Oracle B2C Service staff account has {person.name}'s e-mail ({person.email}); "
            "give their staff login instead."
        )
    if len(set(ids)) > 1:
        raise AssigneeError(
            f"Several staff accounts have the e-mail {person.email}; give the staff login instead."
        )
    return Ref(id=int(ids[0])), person.name
