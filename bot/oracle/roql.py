"""ROQL as Oracle reads it, and every query the bot sends, in one place.

Quoting follows what Oracle's own code shows (its Customer Portal framework tests): a string
literal is single-quoted with a quote inside written twice (``'O''Brien'``); a backslash escapes
nothing.
``like`` has no documented escape for ``%`` and ``_``, so a user's ``%`` or ``_`` is sent as
``_`` (any one character) and the rows are then filtered for the typed text itself
(``contains``). Time literals are written as Oracle's own tests write them: UTC, no fraction, no
``Z``.

Answers are read by position in our own select list (``columnNames`` spelling for a dotted path
is unverified), and a reference is always selected as ``….id`` or ``….lookupName``, never bare
(what a bare reference returns is unverified too). ``python -m bot doctor`` runs each form here
against a live site (``FORMS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


def _clean(value: str) -> str:
    """Control characters dropped (a tab kept): they have no place in a name or an e-mail."""
    return "".join(ch for ch in value if ch >= " " or ch == "\t")


def quote(value: str) -> str:
    """A ROQL string literal: ``O'Brien`` → ``'O''Brien'``; a backslash stays a backslash."""
    return "'" + _clean(value).replace("'", "''") + "'"


def _wild(value: str) -> str:
    return _clean(value).replace("%", "_").replace("'", "''")


def like_contains(value: str) -> str:
    """A ``like`` pattern for rows containing ``value``; its ``%``/``_`` match any one character,
    so filter the rows with ``contains`` afterwards."""
    return "'%" + _wild(value) + "%'"


def like_prefix(value: str) -> str:
    """A ``like`` pattern for rows starting with ``value`` (filter with ``starts`` after)."""
    return "'" + _wild(value) + "%'"


def contains(cell: str | None, text: str) -> bool:
    """Whether ``cell`` holds ``text`` literally (Oracle's searches ignore case, so this does)."""
    return cell is not None and _clean(text).casefold() in cell.casefold()


def starts(cell: str | None, text: str) -> bool:
    return cell is not None and cell.casefold().startswith(_clean(text).casefold())


def time_literal(moment: datetime) -> str:
    """A ROQL time literal, as Oracle's own tests write it: ``'2026-11-28T10:00:00'`` (UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return "'" + moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "'"


def custom_field_path(field: str) -> str:
    return f"customFields.c.{field}"


# ------------------------------------------------------------------ the queries the bot sends
# Column paths: contacts and accounts by e-mail `emails.address`, accounts by `login`, names by
# `lookupName` (seen in working client code; unverified on every site, hence `doctor`).


def contact_search(text: str) -> str:
    """Contacts whose name contains ``text`` or whose e-mail starts with it: id, name, e-mail."""
    return (
        "select id, lookupName, emails.address from contacts where lookupName like "
        f"{like_contains(text)} or emails.address like {like_prefix(text)} limit 50"
    )


def organization_search(text: str) -> str:
    """Organizations whose name contains ``text``: id, name."""
    pattern = like_contains(text)
    return f"select id, lookupName from organizations where lookupName like {pattern} limit 50"


def contact_by_email(email: str) -> str:
    """Contacts with this e-mail: id, name."""
    return f"select id, lookupName from contacts where emails.address = {quote(email)} limit 2"


def contact_by_name(name: str) -> str:
    """Contacts with this full name: id (used by ``doctor``: names with an apostrophe)."""
    return f"select id from contacts where lookupName = {quote(name)} limit 2"


def account_by_email(email: str) -> str:
    """Staff accounts with this e-mail: id."""
    return f"select id from accounts where emails.address = {quote(email)} limit 2"


def account_by_login(login: str) -> str:
    """The staff account with this login: id."""
    return f"select id from accounts where login = {quote(login)} limit 2"


def organization_by_name(name: str) -> str:
    """Organizations with this name (ROQL compares without case): id, name as the site has it."""
    return f"select id, lookupName from organizations where lookupName = {quote(name)} limit 2"


def open_tasks(account_id: int) -> str:
    """Tasks assigned to a staff account: id, name, status name, status type name."""
    return (
        "select id, name, statusWithType.status.lookupName, "
        "statusWithType.statusType.lookupName from tasks "
        f"where assignedToAccount.id = {int(account_id)} limit 200"
    )


def task_by_name_since(name: str, since: datetime, contact: int | None = None) -> str:
    """Tasks with this name created since ``since`` (and for this contact): id."""
    roql = (
        f"select id from tasks where name = {quote(name)} and createdTime >= {time_literal(since)}"
    )
    if contact is not None:
        roql += f" and contact.id = {int(contact)}"
    return roql


def task_by_request_id(field: str, request_id: str) -> str:
    """Tasks whose custom field ``field`` holds this Slack request's id: id."""
    return f"select id from tasks where {custom_field_path(field)} = {quote(request_id)}"


NAMED_TABLES = ("contacts", "organizations", "accounts")


def name_by_id(table: str, record_id: int) -> str:
    """The name (lookupName) of one contact, organization or staff account."""
    if table not in NAMED_TABLES:
        raise ValueError(f"no names looked up in {table}")
    return f"select lookupName from {table} where id = {int(record_id)}"


# what a synced thread shows of a task, in bot.sync.changes.FIELDS's order, after id and time;
# then the status's type (whether the task message offers Mark complete) and the assignee's
# id (whom to tell of an assignment)
SYNC_COLUMNS = (
    "id, updatedTime, name, statusWithType.status.lookupName, assignedToAccount.lookupName, "
    "dueTime, startTime, percentComplete, priority.lookupName, "
    "statusWithType.statusType.lookupName, assignedToAccount.id, "
    # what channel subscriptions filter on and their cards show (bot.subscriptions): read in
    # the same rows, so that no subscription costs a query of its own
    "taskType.lookupName, taskTemplate.lookupName, organization.id, organization.lookupName, "
    "contact.id, contact.lookupName"
)


def tasks_due_between(windows: list[tuple[datetime, datetime]], limit: int = 1000) -> str:
    """Tasks whose due time falls in any of ``windows`` (after the first moment, up to and
    including the second): ``SYNC_COLUMNS`` (whether each is completed is read from its status
    type, as everywhere). One query a round tells the subscriptions which tasks went overdue
    (and which are soon due) since the last."""
    spans = " or ".join(
        f"(dueTime > {time_literal(start)} and dueTime <= {time_literal(end)})"
        for start, end in windows
    )
    return f"select {SYNC_COLUMNS} from tasks where {spans} order by dueTime, id limit {int(limit)}"


def tasks_updated_since(
    since: datetime, limit: int = 1, after: tuple[datetime, int] | None = None
) -> str:
    """Tasks changed since ``since``, a page of them: what a synced thread shows
    (``SYNC_COLUMNS``). Polled by the thread sync; Oracle offers no task notifications.

    Paged by key, in (updatedTime, id) order: ``after`` is the last row of the page before (its
    updatedTime and id). A database owes no order to rows it was not asked to order, and an
    offset shifts when a task changes between two pages (one is then never read); a key does
    neither."""
    if after is None:
        where = f"updatedTime > {time_literal(since)}"
    else:
        moment, last = after
        where = (
            f"(updatedTime > {time_literal(moment)} or "
            f"(updatedTime = {time_literal(moment)} and id > {int(last)}))"
        )
    return (
        f"select {SYNC_COLUMNS} from tasks where {where} order by updatedTime, id "
        f"limit {int(limit)}"
    )


def _any_id(task_ids: list[int]) -> str:
    """A condition matching these ids (``id = 1 or id = 2``)."""
    return " or ".join(f"id = {int(task_id)}" for task_id in task_ids)


def tasks_existing(task_ids: list[int]) -> str:
    """Which of these tasks still exist: id (a synced thread notices a deleted task)."""
    return f"select id from tasks where {_any_id(task_ids)}"


def task_sync_row(task_id: int) -> str:
    """One task's ``SYNC_COLUMNS`` (after a change the bot made itself)."""
    return f"select {SYNC_COLUMNS} from tasks where id = {int(task_id)}"


# a task as the Home tab, the digest and a link preview show it (bot.home.views.Row)
ROW_COLUMNS = (
    "id, name, statusWithType.status.lookupName, statusWithType.statusType.lookupName, "
    "dueTime, contact.lookupName, assignedToAccount.lookupName, assignedToAccount.id"
)


def assigned_tasks(account_id: int, limit: int = 2000) -> str:
    """Tasks assigned to a staff account (the Home tab), open or not: ``ROW_COLUMNS``."""
    return (
        f"select {ROW_COLUMNS} from tasks where assignedToAccount.id = {int(account_id)} "
        f"limit {int(limit)}"
    )


def tasks_by_id(task_ids: list[int]) -> str:
    """These tasks (a link preview, "Created by me from Slack"): ``ROW_COLUMNS``."""
    return f"select {ROW_COLUMNS} from tasks where {_any_id(task_ids)}"


def assigned_tasks_due_before(moment: datetime, limit: int = 1, after: int | None = None) -> str:
    """Tasks with an assignee due before ``moment`` (the morning digest), a page of them in id
    order, after the task ``after`` (the last of the page before): ``ROW_COLUMNS``."""
    beyond = f" and id > {int(after)}" if after is not None else ""
    return (
        f"select {ROW_COLUMNS} from tasks where dueTime < {time_literal(moment)} and "
        f"assignedToAccount.id is not null{beyond} order by id limit {int(limit)}"
    )


def account_emails(limit: int = 1, after: int | None = None) -> str:
    """Staff accounts and their e-mail, a page of them in id order, after the account
    ``after`` (the last of the page before): id, e-mail (the morning digest)."""
    beyond = f" where id > {int(after)}" if after is not None else ""
    return f"select id, emails.address from accounts{beyond} order by id limit {int(limit)}"


def account_email(account_id: int) -> str:
    """A staff account's e-mail (its new assignee is told in Slack): e-mail."""
    return f"select emails.address from accounts where id = {int(account_id)}"


@dataclass(frozen=True)
class Form:
    """One query form the bot sends, with sample values that exercise its quoting."""

    what: str  # for a person: "contact by e-mail"
    build: Callable[[], str]
    feature: str  # what breaks when this form is refused


SAMPLE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
FORMS: list[Form] = [
    Form("contact by e-mail", lambda: contact_by_email("o'brien@example.com"), "message shortcut"),
    Form("contact by a name with an apostrophe", lambda: contact_by_name("Zoë O'Brien"), "form"),
    # a literal ending in a backslash: a syntax error if the site took a backslash as an escape
    Form("contact by a name ending in a backslash", lambda: contact_by_name("Back\\"), "form"),
    Form("contact search (name or e-mail)", lambda: contact_search("O'Br%_\\"), "form"),
    Form("staff account by e-mail", lambda: account_by_email("jane@example.com"), "@assign"),
    Form("staff account by login", lambda: account_by_login("o'brien"), "@assign"),
    Form("organization by name", lambda: organization_by_name("Initech & O'Neil"), "@org"),
    Form("organization search", lambda: organization_search("50% off"), "form"),
    Form("open tasks of a staff account", lambda: open_tasks(1), "/task mine"),
    Form(
        "task by name and creation time",
        lambda: task_by_name_since("Customer's call", SAMPLE_TIME, 1),
        "no-duplicate check after a timeout",
    ),
    Form("tasks changed since a time", lambda: tasks_updated_since(SAMPLE_TIME), "thread sync"),
    Form("which tasks still exist", lambda: tasks_existing([1, 2]), "thread sync (deletions)"),
    Form(
        "tasks due in a window",
        lambda: tasks_due_between([(SAMPLE_TIME, SAMPLE_TIME)]),
        "subscriptions (overdue tasks)",
    ),
    Form("a contact's name by id", lambda: name_by_id("contacts", 1), "names in the thread"),
    Form("tasks assigned to a staff account", lambda: assigned_tasks(1, 1), "the Home tab"),
    Form("tasks by id", lambda: tasks_by_id([1, 2]), "link previews, the Home tab"),
    Form(
        "tasks due before a time",
        lambda: assigned_tasks_due_before(SAMPLE_TIME),
        "the morning digest",
    ),
    Form("staff accounts' e-mails", lambda: account_emails(), "the morning digest"),
    Form("a staff account's e-mail", lambda: account_email(1), "assignment messages"),
]
