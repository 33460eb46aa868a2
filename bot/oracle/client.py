"""Async client for the Oracle B2C Service Connect REST API (v1.4), the part the bot uses.

One shared ``httpx.AsyncClient`` (connection reuse, explicit timeouts). Responses are parsed into
the models of ``bot.domain.tasks``; failures become the typed errors of ``bot.oracle.errors``. The
client never logs or raises anything that holds a credential: auth lives in httpx's auth object and
headers, neither of which reaches an error message.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Generator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from bot.domain.tasks import QueryTable, Task, TaskCreate
from bot.oracle.errors import (
    B2CConnectionError,
    B2CError,
    B2CTimeoutError,
    error_from_response,
)

API_PATH = "/services/rest/connect/v1.4/"
MAX_APP_CONTEXT = 40
log = logging.getLogger(__name__)
# told of every call's end: its operation, the HTTP status or what failed, and its seconds
CallObserver = Callable[[str, str, float], None]


def operation(method: str, path: str) -> str:
    """A call's operation, for counting: ``create_task``, ``query``, ``named_ids`` … (an
    id in the path never makes a name of its own)."""
    parts = path.split("?")[0].strip("/").split("/")
    if parts[0] == "tasks":
        if len(parts) == 1:
            return {"POST": "create_task", "GET": "list_tasks"}.get(method, "tasks")
        if len(parts) == 3 and parts[2] == "notes":
            return "add_note" if method == "POST" else "read_notes"
        return {"GET": "get_task", "PATCH": "update_task", "DELETE": "delete_task"}.get(
            method, "tasks"
        )
    named = {
        "queryResults": "query",
        "namedIDs": "named_ids",
        "metadata-catalog": "metadata",
    }
    return named.get(parts[0], "other")


class TokenAuth(httpx.Auth):
    """``Session <token>`` or ``Bearer <token>`` authorization, kept out of reprs."""

    def __init__(self, scheme: str, token: str) -> None:
        self._header = f"{scheme} {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return f"TokenAuth({self._header.split()[0]}, ***)"


class _NoCookies(httpx.Cookies):
    """A cookie store that keeps nothing."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


_NO_COOKIES = _NoCookies()


class _CookielessClient(httpx.AsyncClient):
    """httpx's client, without its cookie store: Oracle's REST API authenticates every call
    and needs no cookies, and httpx has no switch to keep none. Keeping them costs on every
    answer (its headers are copied into an ``email.message`` for ``http.cookiejar``): 4% of
    the bot's CPU per task under a burst (py-spy, docs/benchmarks.md)."""

    @property  # type: ignore[override]
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        pass


def _failure(error: httpx.HTTPError) -> B2CConnectionError:
    """The typed error for a transport failure, and whether the request may have arrived.

    Only a failure to connect proves that nothing was sent. The aiohttp transport reports some
    failures after sending (a dropped connection) as ``ConnectTimeout``; its original
    exception, kept as the cause, tells them apart."""
    cause = error.__cause__
    if isinstance(cause, aiohttp.ClientError | TimeoutError):
        not_sent = isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
        if not not_sent and isinstance(error, httpx.TimeoutException | httpx.ConnectError):
            if isinstance(cause, aiohttp.ServerTimeoutError | TimeoutError):
                return B2CTimeoutError("Oracle B2C Service did not answer in time", sent=True)
            return B2CConnectionError(
                f"The connection to Oracle B2C Service failed ({type(cause).__name__})", sent=True
            )
    if isinstance(error, httpx.ConnectTimeout):
        return B2CConnectionError("Oracle B2C Service could not be reached (connect timeout)")
    if isinstance(error, httpx.PoolTimeout):
        return B2CConnectionError("Too many requests to Oracle B2C Service already waiting")
    if isinstance(error, httpx.TimeoutException):
        return B2CTimeoutError("Oracle B2C Service did not answer in time", sent=True)
    if isinstance(error, httpx.ConnectError):
        return B2CConnectionError("Oracle B2C Service could not be reached")
    return B2CConnectionError(
        f"The connection to Oracle B2C Service failed ({type(error).__name__})", sent=True
    )


class B2CClient:
    """Talks to one Oracle B2C Service site."""

    def __init__(
        self,
        site_url: str,
        *,
        auth: httpx.Auth,
        app_context: str,
        timeout: float = 20.0,
        connect_timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_concurrency: int = 8,
    ) -> None:
        if not app_context or len(app_context) > MAX_APP_CONTEXT:
            raise ValueError(f"the application context must be 1 to {MAX_APP_CONTEXT} characters")
        self.site_url = site_url.rstrip("/")
        self.timeout = timeout
        self._access_token: str | None = None
        # a bound on calls in flight, so a burst of commands cannot trip Oracle's throttling
        self._slots = asyncio.Semaphore(max_concurrency)
        self._not_before = 0.0  # osvc-crest-next-request-after: when the next call may go
        self._url = functools.lru_cache(maxsize=64)(self._absolute_url)
        self._calls: dict[object, float] = {}  # calls holding a slot: when each left
        self._date: str | None = None  # the Date of Oracle's latest answer, as it came
        self.observe: CallObserver | None = None  # (bot.metrics)
        limits = httpx.Limits(
            max_connections=max_concurrency + 2, max_keepalive_connections=max_concurrency
        )
        self._http = _CookielessClient(
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=limits,
            headers={
                "Accept": "application/json",
                "OSvC-CREST-Application-Context": app_context,
                # times in UTC whatever the site's own zone (Oracle's community clients send
                # it): the thread sync's cursor and every due date read depend on it
                "OSvC-CREST-Time-UTC": "yes",
                "User-Agent": "b2c-slack-tasks/0.1",
            },
            # httpx's API over aiohttp's connections: httpx's own stack (httpcore on anyio)
            # measured about 1 ms of CPU per call here, most of the bot's budget per task
            transport=transport or AiohttpTransport(limits=limits),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> B2CClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        on_send: Callable[[], Awaitable[None] | None] | None = None,
        bounded: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        if not bounded:  # a small read beside the bounded work (a name for the thread)
            await self._wait_turn()
            return await self._send(method, path, **kwargs)
        async with self._slots:
            await self._wait_turn()
            if on_send is not None:
                sending = on_send()
                if sending is not None:
                    await sending
            call = object()
            self._calls[call] = time.monotonic()
            try:
                return await self._send(method, path, **kwargs)
            finally:
                del self._calls[call]

    async def _wait_turn(self) -> None:
        """Wait as long as Oracle asked (``osvc-crest-next-request-after``)."""
        pause = self._not_before - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)

    def oracle_time(self) -> datetime | None:
        """A moment Oracle's clock has certainly passed: the ``Date`` of its latest answer
        (whole seconds, rounded down), by Oracle's own clock whatever ours says; None before
        any answer or when it cannot be read."""
        if self._date is None:
            return None
        try:
            return parsedate_to_datetime(self._date)
        except (TypeError, ValueError):
            return None

    def slowest_call(self) -> float:
        """Seconds the longest call in flight has been waiting for Oracle (0: none)."""
        return time.monotonic() - min(self._calls.values()) if self._calls else 0.0

    def _absolute_url(self, path: str) -> httpx.URL:
        """The absolute URL of an API path (kept by ``_url``, the most recent 64: httpx parses
        a path relative to its base URL anew on every call, 25 µs, half of building a
        request)."""
        return httpx.URL(self.site_url + API_PATH + path)

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if self._access_token:
            headers["osvc-crest-api-access-token"] = self._access_token
        started = time.monotonic()
        try:
            response = await self._http.request(method, self._url(path), headers=headers, **kwargs)
        except httpx.HTTPError as error:
            failure = _failure(error)
            if self.observe is not None:
                status = "timeout" if isinstance(failure, B2CTimeoutError) else "connection"
                self.observe(operation(method, path), status, time.monotonic() - started)
            raise failure from None
        if self.observe is not None:
            seconds = time.monotonic() - started
            self.observe(operation(method, path), str(response.status_code), seconds)
        self._date = response.headers.get("date") or self._date
        token = response.headers.get("osvc-crest-api-access-token")
        if token:
            self._access_token = token
        next_after = response.headers.get("osvc-crest-next-request-after", "")
        if next_after.isdigit():
            self._not_before = time.monotonic() + min(int(next_after), 60_000) / 1000
        if response.status_code >= 400:
            error = error_from_response(response)
            log.info("oracle %s %s -> %s %s", method, path, response.status_code, error.code or "")
            raise error
        return response

    @staticmethod
    def _json(response: httpx.Response) -> dict:
        try:
            data = response.json()
        except ValueError:
            raise B2CError(
                "Oracle B2C Service sent an answer that is not JSON", status=response.status_code
            ) from None
        if not isinstance(data, dict):
            raise B2CError("Oracle B2C Service sent an unexpected answer")
        return data

    async def create_task(
        self,
        task: TaskCreate | dict[str, Any],
        *,
        on_send: Callable[[], Awaitable[None] | None] | None = None,
    ) -> Task:
        """``POST /tasks``; the created task as Oracle returned it. ``on_send`` is called (and
        awaited, if it returns an awaitable) just before the POST leaves, once one of the
        ``max_concurrency`` slots is free; if it raises, nothing is sent."""
        body = task.body() if isinstance(task, TaskCreate) else task
        response = await self._request("POST", "tasks", on_send=on_send, json=body)
        return Task.model_validate(self._json(response))

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """``POST`` to any API path, the answer as it came (``doctor`` reads its headers)."""
        return await self._request("POST", path, json=body)

    async def get_task(self, task_id: int) -> Task:
        response = await self._request("GET", f"tasks/{int(task_id)}")
        return Task.model_validate(self._json(response))

    async def update_task(self, task_id: int, changes: dict[str, Any]) -> None:
        """``PATCH /tasks/{id}``; Oracle answers 200 with an empty body."""
        await self._request("PATCH", f"tasks/{int(task_id)}", json=changes)

    async def add_note(self, task_id: int, text: str) -> None:
        """``POST /tasks/{id}/notes`` with ``{"text": ...}``: a note appended to the task (as
        Oracle's own Mobile Agent accelerator adds one; a PATCH with ``notes`` appending rather
        than replacing is only inferred)."""
        await self._request("POST", f"tasks/{int(task_id)}/notes", json={"text": text})

    async def note_texts(self, task_id: int) -> list[str]:
        """``GET /tasks/{id}/notes``: the texts of a task's notes, oldest first."""
        data = self._json(await self._request("GET", f"tasks/{int(task_id)}/notes"))
        return [str(n.get("text") or "") for n in data.get("items") or [] if isinstance(n, dict)]

    async def named_ids(self, path: str) -> list[dict[str, Any]]:
        """``GET /namedIDs/tasks/{path}``: the items (``id``, ``lookupName``)."""
        response = await self._request("GET", f"namedIDs/tasks/{path}")
        items = self._json(response).get("items")
        return items if isinstance(items, list) else []

    async def query(self, roql: str, *, bounded: bool = True) -> list[QueryTable]:
        """``GET /queryResults?query=...``: one table per ``;``-separated query. ``bounded=False``
        skips the queue of ``max_concurrency`` calls (for a small read that must not wait
        behind a burst's creates, nor hold up one)."""
        response = await self._request(
            "GET", "queryResults", bounded=bounded, params={"query": roql}
        )
        items = self._json(response).get("items") or []
        return [QueryTable.model_validate(item) for item in items]

    async def rows(self, roql: str, *, bounded: bool = True) -> list[list[str | None]]:
        """The rows of a single query, each cell read by its position in the select list (how
        Oracle names a dotted column in ``columnNames`` is unverified)."""
        tables = await self.query(roql, bounded=bounded)
        return tables[0].rows if tables else []

    async def query_one_column(self, roql: str) -> list[str]:
        """The first column of the first table's rows (empty cells dropped)."""
        return [row[0] for row in await self.rows(roql) if row and row[0]]

    async def delete_task(self, task_id: int) -> None:
        """``DELETE /tasks/{id}``; Oracle answers 200 with an empty body."""
        await self._request("DELETE", f"tasks/{int(task_id)}")

    async def get(self, path: str, **params: Any) -> dict:
        """``GET`` any API path, as JSON (``doctor`` reads collections and listings)."""
        return self._json(await self._request("GET", path, params=params or None))

    async def metadata(self, resource: str) -> dict:
        """``GET /metadata-catalog/{resource}`` as JSON Schema."""
        response = await self._request(
            "GET",
            f"metadata-catalog/{resource}",
            headers={"Accept": "application/schema+json"},
        )
        return self._json(response)
