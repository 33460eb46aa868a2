"""The embedded sandbox speaks Oracle's dialect: status codes, headers, problem JSON."""

from __future__ import annotations

import httpx
import pytest

from bot.standins.sandbox import API, PASSWORD, USERNAME


def problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status
    body = response.json()
    assert body["status"] == status and body["o:errorCode"] == code
    assert body["type"].endswith(f"/services/rest/connect/exceptions/{code}")
    assert body["instance"].endswith(response.request.url.path)
    return body


async def test_created_task_matches_the_seed_page(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/tasks", json={"name": "Return customer call", "contact": {"id": 83}}
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["Location"].endswith(f"{API}/tasks/{body['id']}")
    for key in (
        "id",
        "lookupName",
        "createdTime",
        "updatedTime",
        "assignedToAccount",
        "contact",
        "customFields",
        "dueTime",
        "fileAttachments",
        "inherit",
        "marketingSettings",
        "name",
        "notes",
        "organization",
        "percentComplete",
        "plannedCompletionTime",
        "priority",
        "salesSettings",
        "serviceSettings",
        "startTime",
        "statusWithType",
        "taskTemplate",
        "taskType",
        "links",
    ):
        assert key in body, key
    assert body["statusWithType"] == {
        "status": {"id": 16, "lookupName": "Not Started"},
        "statusType": {"id": 14, "lookupName": "Not Complete"},
    }
    assert body["contact"]["links"][0]["href"].endswith(f"{API}/contacts/83")
    patched = await http.patch(f"/tasks/{body['id']}", json={"percentComplete": 50})
    assert patched.status_code == 200 and patched.content == b""
    assert (await http.get(f"/tasks/{body['id']}")).json()["percentComplete"] == 50


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"OSvC-CREST-Application-Context": ""}, 400, "OSC-CREST-00016"),
        ({"OSvC-CREST-Application-Context": "x" * 41}, 400, "OSC-CREST-00016"),
    ],
)
async def test_header_rules(http: httpx.AsyncClient, headers, status, code) -> None:
    response = await http.post("/tasks", json={"name": "x"}, headers=headers)
    problem(response, status, code)


@pytest.mark.parametrize(
    "auth", [httpx.BasicAuth("wrong", "wrong"), httpx.BasicAuth(USERNAME, PASSWORD + "x")]
)
async def test_bad_credentials(http: httpx.AsyncClient, sandbox, auth) -> None:
    problem(await http.post("/tasks", json={"name": "x"}, auth=auth), 401, "OSC-CREST-00001")
    assert sandbox.tasks == {}


@pytest.mark.parametrize(
    ("content", "code", "detail"),
    [
        (b"", "OSC-CREST-00010", "No data"),
        (b"{not json", "OSC-CREST-00011", "Could not parse"),
        (b"[1]", "OSC-CREST-00011", "must be an object"),
        (b'{"contact": {"id": 83}}', "OSC-CREST-00006", "Name is a required field"),
        (b'{"name": "  "}', "OSC-CREST-00006", "Name is a required field"),
        (b'{"name": "x", "bogus": 1}', "OSC-CREST-00006", "Unknown property: bogus"),
        (
            b'{"name": "x", "contact": {"id": 209}}',
            "OSC-CREST-00006",
            "A problem setting a property to reference another object was encountered:\n"
            "Invalid ID: No such Contact with ID = 209",
        ),
        (b'{"name": "x", "contact": {"id": 86}}', "OSC-CREST-00006", "is disabled"),
        (
            b'{"name": "x", "contact": {"id": 83, "lookupName": "a"}}',
            "OSC-CREST-00006",
            "Only ID or lookupName",
        ),
        (
            b'{"name": "x", "organization": {"lookupName": "Nope"}}',
            "OSC-CREST-00006",
            "No such Organization with lookupName = 'Nope'",
        ),
        (
            b'{"name": "x", "priority": {"lookupName": "Urgentt"}}',
            "OSC-CREST-00006",
            "Priority with lookupName = 'Urgentt' does not identify exactly one value",
        ),
        (b'{"name": "x", "priority": {"id": 99}}', "OSC-CREST-00006", "No such Priority"),
        (b'{"name": "x", "percentComplete": 101}', "OSC-CREST-00006", "between 0 and 100"),
        (b'{"name": "x", "dueTime": "soon"}', "OSC-CREST-00006", "Invalid date"),
        (
            b'{"name": "x", "serviceSettings": {"incident": {"id": 1}}}',
            "OSC-CREST-00006",
            "No such Incident with ID = 1",
        ),
    ],
)
async def test_write_errors(http: httpx.AsyncClient, sandbox, content, code, detail) -> None:
    response = await http.post(
        "/tasks", content=content, headers={"Content-Type": "application/json"}
    )
    body = problem(response, 400, code)
    assert detail in body["detail"]
    assert sandbox.tasks == {}


async def test_unknown_resource_and_missing_task(http: httpx.AsyncClient) -> None:
    problem(await http.get("/nothing"), 404, "OSC-CREST-00013")
    problem(await http.get("/tasks/999"), 404, "OSC-CREST-00013")


async def test_named_ids_and_queries(http: httpx.AsyncClient) -> None:
    items = (await http.get("/namedIDs/tasks/priority")).json()["items"]
    assert {"id": 3, "lookupName": "High"} in items
    statuses = (await http.get("/namedIDs/tasks/statusWithType/status")).json()["items"]
    assert {"id": 16, "lookupName": "Not Started"} in statuses
    result = (
        await http.get(
            "/queryResults",
            params={
                "query": "select id, lookupName from contacts where emails.address = "
                "'carlos@example.com'; select id from organizations where name like 'Glo%'"
            },
        )
    ).json()
    assert [item["rows"] for item in result["items"]] == [[["84", "Carlos Salazar"]], [["2"]]]
    problem(
        await http.get("/queryResults", params={"query": "drop table x"}), 400, "OSC-CREST-00007"
    )


async def test_rows_come_in_the_order_asked_for_and_in_no_order_otherwise(
    http: httpx.AsyncClient, sandbox
) -> None:
    """A database owes no order to rows it was not asked to order: the sandbox changes it from
    call to call, so that a client relying on one fails here, not on a live site."""
    sandbox.bulk_tasks(300, 12)

    async def ids(query: str) -> list[int]:
        result = (await http.get("/queryResults", params={"query": query})).json()
        return [int(row[0]) for row in result["items"][0]["rows"]]

    unordered = {tuple(await ids("select id from tasks where id >= 300")) for _ in range(10)}
    assert len(unordered) > 1
    asked = await ids("select id from tasks where id >= 300 order by id desc limit 5 offset 2")
    assert asked == [309, 308, 307, 306, 305]
    # several keys: the first decides, the next breaks its ties
    both = await ids("select id from tasks where id >= 300 order by updatedTime, id limit 3")
    assert both == [300, 301, 302]
    problem(
        await http.get("/queryResults", params={"query": "select id from tasks order by nope"}),
        400,
        "OSC-CREST-00007",
    )


async def test_a_note_is_added_by_post_to_the_tasks_notes(http: httpx.AsyncClient, sandbox) -> None:
    created = (await http.post("/tasks", json={"name": "A", "notes": [{"text": "first"}]})).json()
    sandbox.later(2)
    added = await http.post(f"/tasks/{created['id']}/notes", json={"text": "second"})
    assert added.status_code == 201 and added.json()["text"] == "second"
    listed = (await http.get(f"/tasks/{created['id']}/notes")).json()["items"]
    assert [n["text"] for n in listed] == ["first", "second"]  # appended
    task = (await http.get(f"/tasks/{created['id']}")).json()
    assert task["updatedTime"] > created["updatedTime"]  # as a PATCH moves it
    refused = await http.post(f"/tasks/{created['id']}/notes", json={"text": ""})
    problem(refused, 400, "OSC-CREST-00006")
    missing = await http.post("/tasks/999/notes", json={"text": "x"})
    problem(missing, 404, "OSC-CREST-00013")


async def test_answers_are_dated_by_oracles_clock(http: httpx.AsyncClient, sandbox) -> None:
    from email.utils import parsedate_to_datetime

    before = parsedate_to_datetime((await http.get("/tasks")).headers["Date"])
    sandbox.later(3600)
    after = parsedate_to_datetime((await http.get("/tasks")).headers["Date"])
    assert 3599 <= (after - before).total_seconds() <= 3610
