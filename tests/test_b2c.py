"""The Oracle client against the sandbox: headers, models, and the typed errors."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from bot.domain.tasks import NewNote, Ref, TaskCreate
from bot.oracle import roql
from bot.oracle.client import B2CClient, TokenAuth, _failure
from bot.oracle.errors import (
    B2CAuthError,
    B2CConnectionError,
    B2CError,
    B2CNotFoundError,
    B2CRateLimitError,
    B2CServerError,
    B2CTimeoutError,
    B2CValidationError,
    error_from_response,
)
from bot.standins.sandbox import PASSWORD, USERNAME, B2CSandbox, Fault


@pytest.fixture
async def client(sandbox: B2CSandbox) -> AsyncIterator[B2CClient]:
    async with B2CClient(
        sandbox.base_url,
        auth=httpx.BasicAuth(USERNAME, PASSWORD),
        app_context="Slack task bot tests",
        timeout=2,
    ) as b2c:
        yield b2c


async def test_create_returns_the_seed_shape(client: B2CClient, sandbox: B2CSandbox) -> None:
    task = await client.create_task(TaskCreate(name="Return customer call", contact=Ref(id=83)))
    assert task.id == 100
    assert task.name == "Return customer call"
    assert task.status_name == "Not Started"
    assert task.status_with_type.status_type.lookup_name == "Not Complete"
    assert {link.rel for link in task.links} == {"self", "canonical", "describedby"}
    [request] = sandbox.requests
    assert request.path == "/tasks" and request.method == "POST"
    assert request.headers["OSvC-CREST-Application-Context"] == "Slack task bot tests"


async def test_every_request_asks_for_utc_and_a_note_is_added_by_post(
    client: B2CClient, sandbox: B2CSandbox
) -> None:
    created = await client.create_task(TaskCreate(name="A", notes=[NewNote(text="first")]))
    await client.add_note(created.id, "second & <last>")
    [post] = sandbox.requests_to("POST", f"/tasks/{created.id}/notes")
    assert post.body == {"text": "second & <last>"}
    assert [n["text"] for n in (await client.get(f"tasks/{created.id}/notes"))["items"]] == [
        "first",
        "second & <last>",
    ]
    # times in UTC whatever the site's zone (the thread sync's cursor and due dates rely on it)
    assert {r.headers.get("OSvC-CREST-Time-UTC") for r in sandbox.requests} == {"yes"}


async def test_oracle_time_is_the_date_of_its_latest_dated_answer(
    client: B2CClient, sandbox: B2CSandbox
) -> None:
    assert client.oracle_time() is None  # nothing asked yet
    sandbox.later(30)  # Oracle's clock half a minute ahead of ours
    await client.named_ids("priority")
    told = client.oracle_time()
    assert told is not None and told.tzinfo is not None
    assert abs((told - sandbox.now()).total_seconds()) < 2
    assert (told - datetime.now(UTC)).total_seconds() > 25
    sandbox.dated = False  # a proxy that strips Date: the last one known stays
    sandbox.later(300)
    await client.named_ids("priority")
    assert client.oracle_time() == told


async def test_get_patch_and_query(client: B2CClient) -> None:
    created = await client.create_task(TaskCreate(name="A", notes=[NewNote(text="n")]))
    await client.update_task(
        created.id, {"statusWithType": {"status": {"lookupName": "Completed"}}}
    )
    fetched = await client.get_task(created.id)
    assert fetched.status_name == "Completed"
    ids = await client.query_one_column("select id from accounts where login = 'jdoe'")
    assert ids == ["2"]
    rows = await client.rows(roql.contact_by_email("zoe@example.org"))
    assert rows == [["85", "Zoë O'Brien"]]


async def test_injection_attempt_matches_nothing(client: B2CClient) -> None:
    ids = await client.query_one_column(roql.account_by_login("x' or login like '%"))
    assert ids == []


async def test_bad_reference_is_a_validation_error_with_oracle_words(client: B2CClient) -> None:
    with pytest.raises(B2CValidationError) as caught:
        await client.create_task(TaskCreate(name="x", contact=Ref(id=209)))
    error = caught.value
    assert error.status == 400
    assert error.code == "OSC-CREST-00006"
    assert error.title == "An attempt to write a resource failed"
    assert error.reason == "Invalid ID: No such Contact with ID = 209"
    assert "reference another object" in error.detail


async def test_wrong_password_is_an_auth_error_without_the_secret(
    sandbox: B2CSandbox, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    async with B2CClient(
        sandbox.base_url, auth=httpx.BasicAuth(USERNAME, "hunter2-secret"), app_context="t"
    ) as b2c:
        with pytest.raises(B2CAuthError) as caught:
            await b2c.create_task(TaskCreate(name="x"))
    assert caught.value.status == 401
    assert "hunter2" not in repr(caught.value) + str(caught.value) + caplog.text


async def test_token_auth(sandbox: B2CSandbox) -> None:
    sandbox.tokens.add("tok-123")
    auth = TokenAuth("Bearer", "tok-123")
    assert "tok-123" not in repr(auth)
    async with B2CClient(sandbox.base_url, auth=auth, app_context="t") as b2c:
        await b2c.create_task(TaskCreate(name="x"))
    assert sandbox.requests[-1].headers["Authorization"] == "Bearer tok-123"


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (429, B2CRateLimitError),
        (500, B2CServerError),
        (503, B2CServerError),
        (404, B2CNotFoundError),
        (403, B2CAuthError),
    ],
)
async def test_status_maps_to_error_class(client, sandbox, status, error_class) -> None:
    sandbox.inject(Fault(status=status, headers={"Retry-After": "7"}))
    with pytest.raises(error_class) as caught:
        await client.get_task(1)
    assert caught.value.status == status
    assert caught.value.retry_after == 7


async def test_next_request_after_header_wins(client: B2CClient, sandbox: B2CSandbox) -> None:
    sandbox.inject(Fault(status=429, headers={"osvc-crest-next-request-after": "1500"}))
    with pytest.raises(B2CRateLimitError) as caught:
        await client.get_task(1)
    assert caught.value.retry_after == 1.5


async def test_a_refused_call_is_one_info_line_naming_the_call_and_oracles_code(
    client: B2CClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.oracle.client"), pytest.raises(B2CError):
        await client.get_task(99999)
    [line] = [r for r in caplog.records if r.name == "bot.oracle.client"]
    assert line.levelno == logging.INFO
    assert line.getMessage() == "oracle GET tasks/99999 -> 404 OSC-CREST-00013"


async def test_non_json_error_body(client: B2CClient, sandbox: B2CSandbox) -> None:
    sandbox.inject(Fault(status=502, html=True))
    with pytest.raises(B2CServerError) as caught:
        await client.get_task(1)
    assert caught.value.status == 502


async def test_timeout_after_sending_is_unknown_outcome(
    client: B2CClient, sandbox: B2CSandbox
) -> None:
    sandbox.inject(Fault(method="POST", delay=5, after_create=True, status=201))
    with pytest.raises(B2CTimeoutError) as caught:
        await client.create_task(TaskCreate(name="x"))
    assert caught.value.sent is True


async def test_unreachable_site_is_a_connection_error() -> None:
    async with B2CClient(
        "http://127.0.0.1:9", auth=httpx.BasicAuth("a", "b"), app_context="t"
    ) as b2c:
        with pytest.raises(B2CConnectionError) as caught:
            await b2c.get_task(1)
    assert caught.value.sent is False
    assert caught.value.retryable


async def test_access_token_is_echoed(client: B2CClient, sandbox: B2CSandbox) -> None:
    sandbox.inject(Fault(status=404, headers={"osvc-crest-api-access-token": "abc"}))
    with pytest.raises(B2CNotFoundError):
        await client.get_task(1)
    await client.create_task(TaskCreate(name="x"))
    assert sandbox.requests[-1].headers["osvc-crest-api-access-token"] == "abc"


def test_app_context_is_checked() -> None:
    auth = httpx.BasicAuth("a", "b")
    with pytest.raises(ValueError):
        B2CClient("http://x", auth=auth, app_context="x" * 41)
    with pytest.raises(ValueError):
        B2CClient("http://x", auth=auth, app_context="")


@pytest.mark.parametrize(
    ("error", "kind", "sent"),
    [
        (httpx.ConnectTimeout("x"), B2CConnectionError, False),
        (httpx.ConnectError("x"), B2CConnectionError, False),
        (httpx.PoolTimeout("x"), B2CConnectionError, False),
        (httpx.ReadTimeout("x"), B2CTimeoutError, True),
        (httpx.RemoteProtocolError("x"), B2CConnectionError, True),
    ],
)
def test_transport_failures_say_whether_the_request_may_have_arrived(error, kind, sent) -> None:
    failure = _failure(error)
    assert type(failure) is kind and failure.sent is sent


def test_aiohttp_causes_are_told_apart() -> None:
    """The aiohttp transport reports a dropped connection as ConnectTimeout: the cause says
    the request had gone out."""
    import aiohttp

    dropped = httpx.ConnectTimeout("x")
    dropped.__cause__ = aiohttp.ServerDisconnectedError()
    assert _failure(dropped).sent is True
    refused = httpx.ConnectError("x")
    refused.__cause__ = aiohttp.ClientConnectorError(None, OSError(111, "refused"))
    assert _failure(refused).sent is False
    late = httpx.ConnectTimeout("x")
    late.__cause__ = aiohttp.ServerTimeoutError()
    assert isinstance(_failure(late), B2CTimeoutError) and _failure(late).sent is True


async def test_cookies_are_neither_kept_nor_sent(client: B2CClient, sandbox: B2CSandbox) -> None:
    sandbox.inject(Fault(status=404, headers={"Set-Cookie": "node=b2c-7; Path=/"}))
    with pytest.raises(B2CNotFoundError):
        await client.get_task(1)
    await client.create_task(TaskCreate(name="x"))
    assert "cookie" not in {name.lower() for name in sandbox.requests[-1].headers}


# --- what each failure says, and every call's method and path (table by table) -------------


@pytest.mark.parametrize(
    ("error", "cause", "words"),
    [
        (httpx.ReadTimeout("x"), None, "Oracle B2C Service did not answer in time"),
        (
            httpx.ConnectTimeout("x"),
            None,
            "Oracle B2C Service could not be reached (connect timeout)",
        ),
        (httpx.PoolTimeout("x"), None, "Too many requests to Oracle B2C Service already waiting"),
        (httpx.ConnectError("x"), None, "Oracle B2C Service could not be reached"),
        (
            httpx.RemoteProtocolError("x"),
            None,
            "The connection to Oracle B2C Service failed (RemoteProtocolError)",
        ),
        (
            "dropped",
            "ServerDisconnectedError",
            "The connection to Oracle B2C Service failed (ServerDisconnectedError)",
        ),
        ("late", "ServerTimeoutError", "Oracle B2C Service did not answer in time"),
    ],
)
def test_transport_failures_say_what_happened_in_words(error, cause, words: str) -> None:
    """These words reach the thread ("Oracle is not answering…" and the final reason)."""
    import aiohttp

    if isinstance(error, str):
        error = httpx.ConnectTimeout("x")
        error.__cause__ = getattr(aiohttp, cause)()
    failure = _failure(error)
    assert str(failure) == words and failure.detail == words and failure.reason == words


def _response(status: int, body: bytes = b"", **headers: str) -> httpx.Response:
    return httpx.Response(status, content=body, headers=headers)


PROBLEM = json.dumps(
    {"title": "Refused", "detail": "  line one \n\n No such Contact  ", "o:errorCode": "OSC-1"}
).encode()


@pytest.mark.parametrize(
    ("response", "kind", "reason", "code", "title", "retry_after"),
    [
        (_response(400, PROBLEM), B2CValidationError, "No such Contact", "OSC-1", "Refused", None),
        (
            _response(401, b""),
            B2CAuthError,
            "Oracle B2C Service answered HTTP 401",
            None,
            None,
            None,
        ),
        (
            _response(403, b"null"),
            B2CAuthError,
            "Oracle B2C Service answered HTTP 403",
            None,
            None,
            None,
        ),
        (
            _response(404, b"[1, 2]"),
            B2CNotFoundError,
            "Oracle B2C Service answered HTTP 404",
            None,
            None,
            None,
        ),
        (
            _response(409, b"<html>busy</html>"),
            B2CValidationError,
            "Oracle B2C Service answered HTTP 409",
            None,
            None,
            None,
        ),
        (
            _response(422, json.dumps({"title": 5, "detail": ["x"], "o:errorCode": 7}).encode()),
            B2CValidationError,
            "Oracle B2C Service answered HTTP 422",
            None,
            None,
            None,
        ),
        (
            _response(400, json.dumps({"title": "Only a title"}).encode()),
            B2CValidationError,
            "Only a title",
            None,
            "Only a title",
            None,
        ),
        (
            _response(429, b"", **{"Retry-After": "0"}),
            B2CRateLimitError,
            "Oracle B2C Service answered HTTP 429",
            None,
            None,
            0.0,
        ),
        (
            _response(429, b"", **{"Retry-After": "-5"}),
            B2CRateLimitError,
            "Oracle B2C Service answered HTTP 429",
            None,
            None,
            0.0,
        ),
        (
            _response(429, b"", **{"Retry-After": "soon"}),
            B2CRateLimitError,
            "Oracle B2C Service answered HTTP 429",
            None,
            None,
            None,
        ),
        (
            _response(429, b"", **{"Retry-After": "3", "osvc-crest-next-request-after": " 250 "}),
            B2CRateLimitError,
            "Oracle B2C Service answered HTTP 429",
            None,
            None,
            0.25,
        ),
        (
            _response(500, b""),
            B2CServerError,
            "Oracle B2C Service answered HTTP 500",
            None,
            None,
            None,
        ),
        (
            _response(504, b""),
            B2CServerError,
            "Oracle B2C Service answered HTTP 504",
            None,
            None,
            None,
        ),
    ],
)
def test_error_answers_are_read_table_by_table(
    response: httpx.Response, kind, reason: str, code, title, retry_after
) -> None:
    error = error_from_response(response)
    assert type(error) is kind
    assert error.reason == reason and str(error) == error.detail
    assert (error.status, error.code, error.title) == (response.status_code, code, title)
    assert error.retry_after == retry_after


def test_a_detail_keeps_its_lines_without_blanks_or_padding() -> None:
    error = error_from_response(_response(400, PROBLEM))
    assert error.detail == "line one\nNo such Contact"


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, False), (502, True), (503, True), (504, True)]
)
def test_only_gateway_and_overload_server_errors_are_retried(status: int, retryable: bool) -> None:
    assert error_from_response(_response(status)).retryable is retryable


async def test_post_delete_get_and_metadata_send_what_they_say(
    client: B2CClient, sandbox: B2CSandbox
) -> None:
    answer = await client.post("tasks", {"name": "Posted"})
    assert answer.status_code == 201
    [posted] = sandbox.requests_to("POST", "/tasks")
    assert posted.body["name"] == "Posted"
    task_id = answer.json()["id"]
    await client.delete_task(task_id)
    assert sandbox.requests_to("DELETE", f"/tasks/{task_id}")
    with pytest.raises(B2CNotFoundError):
        await client.get_task(task_id)
    listing = await client.get("tasks", limit=1)
    assert sandbox.requests[-1].query == {"limit": "1"} and "items" in listing
    await client.get("tasks")
    assert sandbox.requests[-1].query == {}
    schema = await client.metadata("tasks")
    assert sandbox.requests[-1].path == "/metadata-catalog/tasks"
    assert sandbox.requests[-1].headers["Accept"] == "application/schema+json"
    assert isinstance(schema, dict)


async def test_slowest_call_is_how_long_the_oldest_call_in_flight_has_waited(
    client: B2CClient, sandbox: B2CSandbox
) -> None:
    assert client.slowest_call() == 0.0
    sandbox.inject(Fault(method="GET", delay=0.6, status=404))
    call = asyncio.create_task(client.get_task(1))
    await asyncio.sleep(0.3)
    assert 0.2 < client.slowest_call() < 0.6
    with pytest.raises(B2CNotFoundError):
        await call
    assert client.slowest_call() == 0.0


async def test_query_one_column_drops_empty_rows_and_cells() -> None:
    table = {"items": [{"rows": [[], [None], [""], ["5"], ["6", "x"]], "columnNames": ["id"]}]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=table))
    async with B2CClient(
        "http://site.test", auth=httpx.BasicAuth("a", "b"), app_context="t", transport=transport
    ) as b2c:
        assert await b2c.query_one_column("select id from tasks") == ["5", "6"]


def _mock_site(answer: httpx.Response) -> B2CClient:
    transport = httpx.MockTransport(lambda request: answer)
    return B2CClient(
        "http://site.test", auth=httpx.BasicAuth("a", "b"), app_context="t", transport=transport
    )


@pytest.mark.parametrize(
    ("answer", "words", "status"),
    [
        (httpx.Response(200, text="<html>maintenance</html>"), "an answer that is not JSON", 200),
        (httpx.Response(200, json=[1, 2]), "an unexpected answer", None),
        (httpx.Response(200, json="text"), "an unexpected answer", None),
    ],
)
async def test_an_answer_that_is_not_a_json_object_is_a_b2c_error(answer, words, status) -> None:
    async with _mock_site(answer) as b2c:
        with pytest.raises(B2CError) as caught:
            await b2c.get_task(1)
    assert str(caught.value) == f"Oracle B2C Service sent {words}"
    assert caught.value.status == status


@pytest.mark.parametrize(
    ("answer", "items"),
    [
        ({"items": [{"id": 1, "lookupName": "Low"}]}, [{"id": 1, "lookupName": "Low"}]),
        ({"items": {"id": 1}}, []),
        ({}, []),
    ],
)
async def test_named_ids_are_the_items_oracle_lists(answer: dict, items: list) -> None:
    async with _mock_site(httpx.Response(200, json=answer)) as b2c:
        assert await b2c.named_ids("priority") == items


async def test_named_ids_from_the_sandbox(client: B2CClient, sandbox: B2CSandbox) -> None:
    items = await client.named_ids("priority")
    assert sandbox.requests[-1].path == "/namedIDs/tasks/priority"
    assert items and all({"id", "lookupName"} <= set(item) for item in items)


async def test_a_query_with_no_table_has_no_rows() -> None:
    async with _mock_site(httpx.Response(200, json={"items": []})) as b2c:
        assert await b2c.rows("select id from tasks") == []


async def test_a_query_waits_its_turn_unless_it_is_a_small_read_beside_the_work(
    sandbox: B2CSandbox,
) -> None:
    """With every slot taken by a slow call, a bounded query waits for it; a small read
    (``bounded=False``, a name for the thread) goes at once."""
    async with B2CClient(
        sandbox.base_url,
        auth=httpx.BasicAuth(USERNAME, PASSWORD),
        app_context="t",
        max_concurrency=1,
    ) as b2c:
        sandbox.inject(Fault(method="GET", path="/tasks/1", delay=0.8, status=404))
        finished: list[str] = []

        async def slow() -> None:
            with pytest.raises(B2CNotFoundError):
                await b2c.get_task(1)
            finished.append("slow")

        async def read(label: str, **kwargs: bool) -> None:
            await b2c.rows("select id from accounts where login = 'jdoe'", **kwargs)
            finished.append(label)

        first = asyncio.create_task(slow())
        await asyncio.sleep(0.2)  # the slow call holds the only slot
        await asyncio.gather(first, read("bounded"), read("beside", bounded=False))
        assert finished == ["beside", "slow", "bounded"]


async def test_every_call_names_the_bot_and_asks_for_json(sandbox: B2CSandbox) -> None:
    async with B2CClient(
        sandbox.base_url + "/",  # a trailing slash in the setting changes nothing
        auth=httpx.BasicAuth(USERNAME, PASSWORD),
        app_context="x" * 40,  # the longest Oracle takes
    ) as b2c:
        assert b2c.site_url == sandbox.base_url
        await b2c.named_ids("priority")
    [request] = sandbox.requests
    assert request.path == "/namedIDs/tasks/priority"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"] == "b2c-slack-tasks/0.1"
    assert request.headers["OSvC-CREST-Application-Context"] == "x" * 40


def test_an_application_context_too_long_says_the_limit() -> None:
    with pytest.raises(ValueError) as refused:
        B2CClient("http://x", auth=httpx.BasicAuth("a", "b"), app_context="x" * 41)
    assert str(refused.value) == "the application context must be 1 to 40 characters"


@pytest.mark.parametrize("awaited", [False, True], ids=["plain", "coroutine"])
async def test_on_send_runs_just_before_the_post_leaves(
    client: B2CClient, sandbox: B2CSandbox, awaited: bool
) -> None:
    seen: list[int] = []

    def noted() -> None:
        seen.append(len(sandbox.requests))

    async def noted_later() -> None:
        await asyncio.sleep(0.05)  # awaited: the POST waits for it
        noted()

    await client.create_task(TaskCreate(name="x"), on_send=noted_later if awaited else noted)
    assert seen == [0] and len(sandbox.requests_to("POST", "/tasks")) == 1


async def test_on_send_that_fails_sends_nothing(client: B2CClient, sandbox: B2CSandbox) -> None:
    def refuse() -> None:
        raise RuntimeError("the journal is away")

    with pytest.raises(RuntimeError):
        await client.create_task(TaskCreate(name="x"), on_send=refuse)
    assert sandbox.requests == []


async def test_the_pause_oracle_asks_for_is_waited_before_the_next_call(
    client: B2CClient, sandbox: B2CSandbox
) -> None:
    sandbox.inject(Fault(status=404, headers={"osvc-crest-next-request-after": "400"}))
    with pytest.raises(B2CNotFoundError):
        await client.get_task(1)
    await client.named_ids("priority")
    first, second = sandbox.requests
    assert second.at - first.at >= 0.39


async def test_the_timeout_is_the_one_given(sandbox: B2CSandbox) -> None:
    sandbox.inject(Fault(method="GET", delay=1.0, status=404))
    async with B2CClient(
        sandbox.base_url, auth=httpx.BasicAuth(USERNAME, PASSWORD), app_context="t", timeout=0.3
    ) as b2c:
        with pytest.raises(B2CTimeoutError):
            await b2c.get_task(1)
