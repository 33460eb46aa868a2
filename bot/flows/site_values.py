"""Fields a user gave (a channel's defaults, a subscription's filters) checked against the
site exactly as a create will use them: named values by the site's own names, the assignee's
staff account, the contact, the organization's name resolved to its id."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.drafts import IdOrName, TaskDraft
from bot.oracle import roql
from bot.oracle.catalog import Catalog, resolve_named, unknown_named
from bot.oracle.client import B2CClient
from bot.oracle.errors import B2CError
from bot.oracle.staff import IdentityError, Staff


class SiteValues:
    def __init__(self, b2c: B2CClient, catalog: Catalog, staff: Staff) -> None:
        self.b2c, self.catalog, self.staff = b2c, catalog, staff

    async def checked(self, draft: TaskDraft) -> TaskDraft | str:
        """The fields checked against the site exactly as a create will use them, and kept
        as what they resolved to (the organization's and the named values' ids, beside the
        site's names); or what is wrong with them, in the command's words."""
        values = await self.catalog.get()
        problem = unknown_named(draft, values)
        if problem is not None:
            return problem
        draft = resolve_named(draft, values)
        if draft.assignee is not None:
            try:
                await self.staff.resolve(draft.assignee)
            except IdentityError as error:
                return str(error)
        try:
            if draft.contact is not None and await self.name_of("contacts", draft.contact) is None:
                return f"No contact in B2C Service has the ID {draft.contact}."
            org = draft.organization
            if org is not None and org.id is None and org.name is not None:
                rows = await self.b2c.rows(roql.organization_by_name(org.name))
                if not rows:
                    return f"No organization in B2C Service is named “{org.name}”."
                if len(rows) > 1:
                    return f"Several organizations are named “{org.name}”: give its ID instead."
                found_id, found_name = rows[0][0], rows[0][1]
                organization = IdOrName(id=int(found_id or 0), name=found_name or org.name)
                draft = replace(draft, organization=organization)
        except B2CError as error:
            return (
                f"B2C Service could not check them ({error.reason}); nothing was changed: "
                "try again in a moment."
            )
        return draft

    async def name_of(self, table: str, record_id: int) -> str | None:
        """A contact's or an organization's name ("" when it has none), or None when no
        record has that id."""
        rows = await self.b2c.rows(roql.name_by_id(table, record_id), bounded=False)
        return (rows[0][0] or "") if rows else None
