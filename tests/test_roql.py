"""ROQL as Oracle reads it: the client's quoting (table by table), the sandbox's answers when the
rules are broken, and searches for awkward names through the client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from bot.oracle import lookups, roql
from bot.oracle.client import B2CClient
from bot.oracle.errors import B2CValidationError
from bot.standins.sandbox import PASSWORD, USERNAME, B2CSandbox


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("jdoe", "'jdoe'"),
        ("O'Brien", "'O''Brien'"),
        ("back\\slash", "'back\\slash'"),
        ("100%", "'100%'"),
        ("Zoë 東京", "'Zoë 東京'"),
        ("x'; delete from tasks; '", "'x''; delete from tasks; '''"),
        ("line\nbreak\x00", "'linebreak'"),
        ("tab\there", "'tab\there'"),
        ("", "''"),
    ],
)
def test_quote(value: str, literal: str) -> None:
    assert roql.quote(value) == literal


@pytest.mark.parametrize(
    ("value", "contains", "prefix"),
    [
        ("Acme", "'%Acme%'", "'Acme%'"),
        ("O'Brien", "'%O''Brien%'", "'O''Brien%'"),
        ("50% Off", "'%50_ Off%'", "'50_ Off%'"),
        ("under_score", "'%under_score%'", "'under_score%'"),
        ("a\\b", "'%a\\b%'", "'a\\b%'"),
    ],
)
def test_like_patterns(value: str, contains: str, prefix: str) -> None:
    assert roql.like_contains(value) == contains
    assert roql.like_prefix(value) == prefix


@pytest.mark.parametrize(
    ("moment", "literal"),
    [
        (datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=UTC), "'2026-11-28T10:00:00'"),
        (
            datetime(2026, 11, 28, 5, 0, tzinfo=timezone(timedelta(hours=-5))),
            "'2026-11-28T10:00:00'",
        ),
        (datetime(2026, 11, 28, 10, 0), "'2026-11-28T10:00:00'"),
    ],
)
def test_time_literal_is_utc_without_fraction_or_z(moment: datetime, literal: str) -> None:
    assert roql.time_literal(moment) == literal


def test_every_form_reads_references_explicitly() -> None:
    for form in roql.FORMS:
        query = form.build()
        columns = query.split(" from ")[0].removeprefix("select ").split(", ")
        for column in columns:
            # a reference is selected as ….id or ….lookupName, never bare (the others here
            # are plain values: text, times, a number)
            plain = ("id", "name", "lookupName", "login", "updatedTime", "dueTime", "startTime")
            assert column in (*plain, "percentComplete") or column.endswith(
                (".id", ".lookupName", ".address")
            ), (form.what, column)


# ------------------------------------------------------------------ the sandbox's dialect
async def query(http: httpx.AsyncClient, text: str) -> httpx.Response:
    return await http.get("/queryResults", params={"query": text})


async def test_backslash_escaped_quote_is_a_syntax_error_as_on_oracle(
    http: httpx.AsyncClient,
) -> None:
    response = await query(
        http, "select id from contacts where lookupName = 'Zoë O\\'Brien' limit 2"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["o:errorCode"] == "OSC-CREST-00007"
    assert "unrecognized token" in body["detail"]
    doubled = await query(http, "select id from contacts where lookupName = 'Zoë O''Brien'")
    assert doubled.json()["items"][0]["rows"] == [["85"]]


@pytest.mark.parametrize(
    "literal", ["'2026-11-28T10:00:00Z'", "'2026-11-28T10:00:00.000Z'", "'yesterday'"]
)
async def test_time_literals_other_than_oracles_forms_are_refused(
    http: httpx.AsyncClient, literal: str
) -> None:
    response = await query(http, f"select id from tasks where createdTime >= {literal}")
    assert response.status_code == 400
    assert response.json()["o:errorCode"] == "OSC-CREST-00007"


async def test_dotted_columns_and_bare_references(http: httpx.AsyncClient) -> None:
    await http.post("/tasks", json={"name": "T", "contact": {"id": 83}})
    body = (
        await query(
            http,
            "select id, contact, contact.lookupName, statusWithType.status, "
            "statusWithType.status.lookupName from tasks",
        )
    ).json()
    [table] = body["items"]
    assert table["rows"] == [["100", "83", "Mary Major", "16", "Not Started"]]
    # how Oracle names a dotted column is unverified: a client must not read cells by name
    assert table["columnNames"] == ["id", "contact", "lookupName", "status", "lookupName"]


async def test_unknown_field_is_refused_even_on_an_empty_table(http: httpx.AsyncClient) -> None:
    response = await query(http, "select id from tasks where customFields.c.nope = 'x'")
    assert response.status_code == 400 and "Invalid field" in response.json()["detail"]


# ------------------------------------------------------------------ through the client
@pytest.fixture
async def client(sandbox: B2CSandbox) -> AsyncIterator[B2CClient]:
    async with B2CClient(
        sandbox.base_url, auth=httpx.BasicAuth(USERNAME, PASSWORD), app_context="tests"
    ) as b2c:
        yield b2c


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("O'Brien", ["Zoë O'Brien · zoe@example.org"]),
        ("o'brien", ["Zoë O'Brien · zoe@example.org"]),
        ("50% Off", ["50% Off Ltd · deals@fifty.example"]),
        ("under_score", ["Ann under_score · ann@under.example"]),
        ("Back\\Slash", ["Back\\Slash Ltd · bs@example.com"]),
        ("山田", ["山田 太郎 · yamada@example.jp"]),
        ("Ольга", ["Ольга Петрова · olga@example.ru"]),
        ("olga@", ["Ольга Петрова · olga@example.ru"]),
        ("%", ["50% Off Ltd · deals@fifty.example"]),
        ("_", ["Ann under_score · ann@under.example"]),
        ("x' or 'a'='a", []),
    ],
)
async def test_contact_search_finds_the_typed_text_literally(
    client: B2CClient, sandbox: B2CSandbox, typed: str, found: list[str]
) -> None:
    choices = await lookups.search_contacts(client, typed)
    assert [choice.label for choice in choices] == found
    assert sandbox.requests[-1].path == "/queryResults"


async def test_organization_search_with_an_apostrophe(client: B2CClient) -> None:
    choices = await lookups.search_organizations(client, "o'neil &")
    assert [(c.value, c.label) for c in choices] == [("4", "O'Neil & Sons")]


async def test_a_form_the_site_refuses_is_a_validation_error(
    client: B2CClient, sandbox: B2CSandbox
) -> None:
    sandbox.refused_queries.append("emails.address")
    with pytest.raises(B2CValidationError) as caught:
        await lookups.contact_by_email(client, "zoe@example.org")
    assert caught.value.code == "OSC-CREST-00007"


async def test_each_form_parses_on_the_sandbox(client: B2CClient) -> None:
    for form in roql.FORMS:
        await client.rows(form.build())  # raises if the sandbox refuses it
    await client.rows(roql.task_by_request_id("slack_request_id", "abc"))


async def test_names_are_fetched_once_beside_the_bounded_work(
    client: B2CClient, sandbox: B2CSandbox
) -> None:
    import asyncio

    names = lookups.Names(client)
    found = await asyncio.gather(*(names.name("contacts", 85) for _ in range(20)))
    assert found == ["Zoë O'Brien"] * 20
    assert await names.name("organizations", 4) == "O'Neil & Sons"
    assert await names.name("contacts", 209) is None  # no such contact: the id is shown
    assert len(sandbox.requests_to("GET", "/queryResults")) == 3


T = datetime(2026, 11, 28, 10, 0, 5, 600000, tzinfo=UTC)
SYNC = f"select {roql.SYNC_COLUMNS} from tasks where "
ROWS = f"select {roql.ROW_COLUMNS} from tasks where "


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # time literals: UTC, whole seconds, no Z; a naive moment is taken as UTC
        (lambda: roql.time_literal(datetime(2026, 11, 28, 10, 0, 5)), "'2026-11-28T10:00:05'"),
        (
            lambda: roql.time_literal(
                datetime(2026, 11, 28, 12, 0, 5, tzinfo=timezone(timedelta(hours=2)))
            ),
            "'2026-11-28T10:00:05'",
        ),
        # paged queries order by a unique key and page by it, never by offset
        (
            lambda: roql.tasks_updated_since(T),
            SYNC + "updatedTime > '2026-11-28T10:00:05' order by updatedTime, id limit 1",
        ),
        (
            lambda: roql.tasks_updated_since(T, 200, (T, 57)),
            SYNC + "(updatedTime > '2026-11-28T10:00:05' or (updatedTime = "
            "'2026-11-28T10:00:05' and id > 57)) order by updatedTime, id limit 200",
        ),
        (
            lambda: roql.assigned_tasks_due_before(T),
            ROWS + "dueTime < '2026-11-28T10:00:05' and assignedToAccount.id is not null "
            "order by id limit 1",
        ),
        (
            lambda: roql.assigned_tasks_due_before(T, 1000, 57),
            ROWS + "dueTime < '2026-11-28T10:00:05' and assignedToAccount.id is not null "
            "and id > 57 order by id limit 1000",
        ),
        (
            lambda: roql.account_emails(),
            "select id, emails.address from accounts order by id limit 1",
        ),
        (
            lambda: roql.account_emails(1000, 5),
            "select id, emails.address from accounts where id > 5 order by id limit 1000",
        ),
        (lambda: roql.assigned_tasks(3), ROWS + "assignedToAccount.id = 3 limit 2000"),
        (lambda: roql.tasks_existing([1, 2]), "select id from tasks where id = 1 or id = 2"),
        (lambda: roql.task_sync_row(4), SYNC + "id = 4"),
        (lambda: roql.name_by_id("accounts", 2), "select lookupName from accounts where id = 2"),
        (
            lambda: roql.task_by_name_since("Customer's call", T),
            "select id from tasks where name = 'Customer''s call' and createdTime >= "
            "'2026-11-28T10:00:05'",
        ),
        (
            lambda: roql.task_by_name_since("x", T, 83),
            "select id from tasks where name = 'x' and createdTime >= '2026-11-28T10:00:05' "
            "and contact.id = 83",
        ),
    ],
)
def test_each_query_as_oracle_receives_it(query: Callable[[], str], expected: str) -> None:
    assert query() == expected  # built here, in the test (mutation testing maps calls to tests)


def test_names_are_looked_up_only_where_the_bot_shows_them() -> None:
    with pytest.raises(ValueError, match="no names looked up in tasks"):
        roql.name_by_id("tasks", 1)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 28, 10, 0, 5),  # naive: read as UTC, never as the machine's zone
        datetime(2026, 11, 28, 10, 0, 5, tzinfo=UTC),
        datetime(2026, 11, 28, 23, 45, 5, tzinfo=timezone(timedelta(hours=13, minutes=45))),
    ],
)
def test_a_time_literal_is_utc_whatever_the_machine_zone(moment: datetime, monkeypatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Pacific/Chatham")
    time.tzset()
    try:
        assert roql.time_literal(moment) == "'2026-11-28T10:00:05'"
    finally:
        monkeypatch.undo()
        time.tzset()
