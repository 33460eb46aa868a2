"""The embedded B2C sandbox: a local stand-in for the part of Oracle's Connect REST API we use.

It speaks Oracle's dialect: the same paths under ``/services/rest/connect/v1.4/``, Basic (or
Session/Bearer) auth, the required ``OSvC-CREST-Application-Context`` header (at most 40
characters), ``201`` with the seed page's response shape, ``200`` with an empty body on PATCH,
and Oracle's problem JSON for errors. It is seeded with a few contacts, accounts,
organizations and named IDs, records every request it receives, and can inject latency and
failures, for the tests, the offline demo and ``serve --sandbox``.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from bot.standins import roql

API = "/services/rest/connect/v1.4"
USERNAME = "sandbox"
PASSWORD = "sandbox-password"


@dataclass
class Fault:
    """An injected failure: the next ``times`` matching requests get this answer instead.

    ``after_create`` lets a POST create the task first and then fail (an outcome the client
    cannot know); ``delay`` holds the answer back (a timeout when longer than the client's).
    """

    status: int = 503
    method: str | None = None
    path: str | None = None
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    delay: float = 0.0
    after_create: bool = False
    html: bool = False  # answer like a proxy in front of Oracle: an HTML page, not JSON
    drop: bool = False  # close the connection instead of answering
    query: str | None = None  # only ROQL queries (queryResults) that hold this text

    def matches(self, method: str, path: str, query: str = "") -> bool:
        return (
            (self.method is None or self.method == method)
            and (self.path is None or path.startswith(self.path))
            and (self.query is None or self.query in query)
        )


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]  # as HTTP has them: names in any case
    body: Any
    at: float = field(default_factory=time.monotonic)
    answer: Any = None  # what a query answered (for the demo to show)
    status: int | None = None  # the HTTP status it was answered with (None: not yet, or none)


def _json_or_none(response: web.Response) -> Any:
    """An answer's JSON body (for the demo to show), or None."""
    try:
        return json.loads(response.body) if response.body else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _seed() -> dict[str, dict[int, dict[str, Any]]]:
    return {
        "contacts": {
            83: {"name": "Mary Major", "email": "mary.major@example.com", "disabled": False},
            84: {"name": "Carlos Salazar", "email": "carlos@example.com", "disabled": False},
            85: {"name": "Zoë O'Brien", "email": "zoe@example.org", "disabled": False},
            86: {"name": "Inactive Person", "email": "gone@example.com", "disabled": True},
            # names that test quoting: %, _, a backslash, non-Latin, and their look-alikes that
            # a wildcard would wrongly match
            87: {"name": "50% Off Ltd", "email": "deals@fifty.example", "disabled": False},
            88: {"name": "500 Off Ltd", "email": "five@hundred.example", "disabled": False},
            89: {"name": "Ann under_score", "email": "ann@under.example", "disabled": False},
            90: {"name": "Ann underXscore", "email": "ann@x.example", "disabled": False},
            91: {"name": "Back\\Slash Ltd", "email": "bs@example.com", "disabled": False},
            92: {"name": "山田 太郎", "email": "yamada@example.jp", "disabled": False},
            93: {"name": "Ольга Петрова", "email": "olga@example.ru", "disabled": False},
        },
        "accounts": {
            2: {"name": "Jane Doe", "login": "jdoe", "email": "jane@example.com"},
            3: {"name": "Sam Agent", "login": "sagent", "email": "sam@example.com"},
            4: {"name": "API Integration", "login": "sandbox", "email": "api@example.com"},
        },
        "organizations": {
            1: {"name": "Acme"},
            2: {"name": "Globex Corporation"},
            3: {"name": "Initech & Partners"},
            4: {"name": "O'Neil & Sons"},
        },
        "incidents": {
            4021: {"name": "261128-000123"},
            4022: {"name": "261127-000045"},
        },
        "answers": {1234: {"name": "How to reset a password"}},
        "opportunities": {77: {"name": "Renewal 2027"}},
    }


NAMED_IDS: dict[str, dict[int, str]] = {
    "priority": {1: "Low", 2: "Normal", 3: "High", 4: "Critical"},
    "status": {
        16: "Not Started",
        17: "In Progress",
        18: "Completed",
        19: "Waiting",
        20: "Deferred",
    },
    "statusType": {14: "Not Complete", 15: "Completed"},
    "taskType": {1: "Call", 2: "Email", 3: "Meeting", 4: "Follow-up"},
    "taskTemplate": {1: "Onboarding", 2: "Renewal call"},
}
STATUS_TYPE = {16: 14, 17: 14, 18: 15, 19: 14, 20: 14}
SEED_TASKS: dict[int, dict[str, Any]] = {
    12: {
        "name": "Call back about the invoice",
        "contact": {"id": 83},
        "assignedToAccount": {"id": 2},
        "dueTime": "2026-12-02T17:00:00Z",
        "notes": [{"text": "Customer asked twice"}],
    },
    13: {
        "name": "Send the renewal quote",
        "organization": {"id": 2},
        "assignedToAccount": {"id": 2},
        "statusWithType": {"status": {"lookupName": "In Progress"}},
    },
    14: {
        "name": "Close the onboarding",
        "assignedToAccount": {"id": 2},
        "statusWithType": {"status": {"lookupName": "Completed"}},
    },
}
# inferred: the task name's maximum length is not documented; a live site reports it in
# GET /metadata-catalog/tasks, which `doctor` reads
NAME_MAX_LENGTH = 240
_REFERENCES = {  # body attribute -> (table, Oracle class name)
    "contact": ("contacts", "Contact"),
    "organization": ("organizations", "Organization"),
    "assignedToAccount": ("accounts", "Account"),
}
_NESTED_REFERENCES = {
    ("serviceSettings", "incident"): ("incidents", "Incident"),
    ("serviceSettings", "answer"): ("answers", "Answer"),
    ("salesSettings", "opportunity"): ("opportunities", "Opportunity"),
}
_NAMED = {"priority": "Priority", "taskType": "TaskType", "taskTemplate": "TaskTemplate"}
_WRITABLE = {
    "name",
    "contact",
    "organization",
    "assignedToAccount",
    "dueTime",
    "startTime",
    "plannedCompletionTime",
    "completedTime",
    "percentComplete",
    "priority",
    "statusWithType",
    "taskType",
    "taskTemplate",
    "serviceSettings",
    "salesSettings",
    "marketingSettings",
    "notes",
    "inherit",
    "customFields",
}


class SandboxError(Exception):
    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail


def _write_failed(detail: str) -> SandboxError:
    return SandboxError(400, "OSC-CREST-00006", "An attempt to write a resource failed", detail)


def _bad_reference(detail: str) -> SandboxError:
    return _write_failed(
        "A problem setting a property to reference another object was encountered:\n" + detail
    )


class B2CSandbox:
    """An in-process Oracle B2C stand-in served by aiohttp on a local port."""

    def __init__(
        self,
        *,
        username: str = USERNAME,
        password: str = PASSWORD,
        latency: float = 0.0,
        tokens: tuple[str, ...] = (),
    ) -> None:
        self.username = username
        self.password = password
        self.tokens = set(tokens)
        self.latency = latency
        self.ahead = 0.0  # seconds Oracle's clock is ahead of ours (``later``)
        self.stopped: datetime | None = None  # a test holds Oracle's clock at a moment
        self.dated = True  # False: answers without a Date header (a proxy that strips it)
        # extra latency for one kind of request, e.g. {"POST /tasks": 7.0} (inferred: Oracle's
        # time varies by operation; a create is the slow one a test wants to catch in flight)
        self.slow: dict[str, float] = {}
        self.data = _seed()
        self.named_ids = copy.deepcopy(NAMED_IDS)  # a test may take a kind away
        # the site's task custom fields (name -> maximum length); an admin adds them
        self.custom_fields: dict[str, int] = {"slack_request_id": 64}
        self.name_max_length = NAME_MAX_LENGTH
        # switches that make the site misbehave as a live one can (doctor's tests use them)
        self.rest_enabled = True
        self.refused_contexts: set[str] = set()
        self.denied: set[str] = set()  # e.g. {"Read Task"}: permissions the API account lacks
        self.refused_queries: list[str] = []  # queries containing one of these are refused
        self.tasks: dict[int, dict[str, Any]] = {}
        self.requests: list[Recorded] = []
        self._recording: dict[int, Recorded] = {}  # requests being answered, by id() (their
        # answer's status is kept once it has been sent, by the middleware)
        self.faults: list[Fault] = []
        self._next_id = 100
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()
        self.base_url = ""

    # ----------------------------------------------------------------- lifecycle
    def web_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", API + "/{tail:.*}", self._dispatch)
        app.router.add_get("/_sandbox/tasks", self._list_tasks)
        app.router.add_post("/_sandbox/tasks", self._agent_create)
        app.router.add_post("/_sandbox/tasks/{id}", self._agent_edit)
        app.router.add_get("/_sandbox/stats", self._stats)
        app.router.add_post("/_sandbox/config", self._configure)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.web_app(), access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        self.base_url = f"http://{host}:{sockets[0].getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ----------------------------------------------------------------- inspection for tests
    def requests_to(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def inject(self, fault: Fault) -> None:
        self.faults.append(fault)

    async def wait_for(self, predicate: Any, limit: float = 30.0) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked whenever a request is handled)."""
        async with self._changed:
            return await asyncio.wait_for(self._changed.wait_for(predicate), limit)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ----------------------------------------------------------------- HTTP plumbing
    def _problem(self, request: web.Request, error: SandboxError) -> web.Response:
        base = f"{request.scheme}://{request.host}"
        body = {
            "type": f"{base}/services/rest/connect/exceptions/{error.code}",
            "title": error.title,
            "status": error.status,
            "detail": error.detail,
            "instance": f"{base}{request.path}",
            "o:errorCode": error.code,
        }
        return web.json_response(body, status=error.status)

    def _take_fault(self, method: str, path: str, query: str = "") -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.matches(method, path, query):
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def now(self) -> datetime:
        """Oracle's clock: ours (or the moment a test stopped it at, ``stopped``), plus however
        far ``later`` moved it."""
        return (self.stopped or datetime.now(UTC)) + timedelta(seconds=self.ahead)

    def later(self, seconds: float = 1.0) -> None:
        """Oracle's clock moves on: what happens next happens "a moment later" (a later
        ``updatedTime``, a later ``Date``) without waiting for it."""
        self.ahead += seconds

    def _stamp(self) -> str:
        # Oracle doc (the seed's example): times in whole seconds, "…T14:00:56.000Z"
        return self.now().strftime("%Y-%m-%dT%H:%M:%S.000Z")

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response = await self._answer(request, handler)
        finally:
            recorded = self._recording.pop(id(request), None)
        if recorded is not None and not (
            request.transport is None or request.transport.is_closing()
        ):
            recorded.status = response.status
        # HTTP (RFC 9110): a server with a clock dates its answers; by Oracle's clock here
        response.headers["Date"] = format_datetime(self.now(), usegmt=True)
        if not self.dated:  # an empty one: aiohttp would add its own to an answer with none
            response.headers["Date"] = ""
        return response

    async def _answer(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/_sandbox/"):
            return await handler(request)
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        path = request.path[len(API) :] if request.path.startswith(API) else request.path
        recorded = Recorded(
            request.method, path, dict(request.query), CIMultiDict(request.headers), body
        )
        self.requests.append(recorded)
        self._recording[id(request)] = recorded
        await self._notify()  # (a test may wait for a request to arrive, not only to end)
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.slow.get(f"{request.method} {path}"):
            await asyncio.sleep(self.slow[f"{request.method} {path}"])
        fault = self._take_fault(request.method, path, request.query.get("query", ""))
        if fault is not None and not fault.after_create:
            await asyncio.sleep(fault.delay)
            return self._fault_response(request, fault)
        try:
            self._check_auth(request)
            response = await handler(request)
        except SandboxError as error:
            recorded.answer = {"status": error.status, "detail": error.detail}
            return self._problem(request, error)
        finally:
            await self._notify()
        if recorded.answer is None and isinstance(response, web.Response):
            recorded.answer = {"status": response.status, "body": _json_or_none(response)}
        if fault is not None:  # the work is done; only the answer is late or lost
            await asyncio.sleep(fault.delay)
            if fault.drop and request.transport is not None:
                request.transport.close()
            return response if fault.status < 300 else self._fault_response(request, fault)
        return response

    def _fault_response(self, request: web.Request, fault: Fault) -> web.Response:
        if fault.html:
            return web.Response(
                status=fault.status,
                text="<html><body>Bad gateway</body></html>",
                content_type="text/html",
                headers=fault.headers,
            )
        if fault.body is not None:
            return web.json_response(fault.body, status=fault.status, headers=fault.headers)
        titles = {
            429: "Too Many Requests",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }
        error = SandboxError(
            fault.status,
            "OSC-CREST-00008",
            titles.get(fault.status, "Error"),
            "The service is temporarily unavailable",
        )
        response = self._problem(request, error)
        response.headers.update(fault.headers)
        return response

    def _check_auth(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        ok = False
        if scheme == "Basic":
            try:
                decoded = base64.b64decode(credentials).decode()
            except ValueError:
                decoded = ""
            ok = decoded == f"{self.username}:{self.password}"
        elif scheme in ("Session", "Bearer"):
            ok = credentials in self.tokens
        if not ok:
            # inferred: 401 for wrong credentials (Oracle's documentation says "likely")
            raise SandboxError(
                401, "OSC-CREST-00001", "Unauthorized", "Access Denied: invalid credentials"
            )
        if not self.rest_enabled:
            # Oracle doc: OSC-CREST-00015 "The Connect REST API isn't enabled"; status inferred
            raise SandboxError(
                403,
                "OSC-CREST-00015",
                "The Connect REST API isn't enabled",
                "The Connect REST API is not enabled for this account",
            )
        context = request.headers.get("OSvC-CREST-Application-Context")
        # Oracle doc: the header is required from v1.4 on, at most 40 characters
        if not context or len(context) > 40 or context in self.refused_contexts:
            raise SandboxError(
                400,
                "OSC-CREST-00016",
                "Bad Request",
                "The OSvC-CREST-Application-Context header is required and must be at most "
                "40 characters",
            )

    def _allowed(self, permission: str) -> None:
        if permission in self.denied:
            # Oracle's answer 12346 (accounts): 403 OSC-CREST-00028 "Not Allowed: No
            # permission granted to Read Account."; for tasks inferred by analogy
            raise SandboxError(
                403,
                "OSC-CREST-00028",
                "You are forbidden to access this site",
                f"Not Allowed: No permission granted to {permission}.",
            )

    async def _dispatch(self, request: web.Request) -> web.Response:
        tail = request.match_info["tail"].strip("/")
        method = request.method
        if tail == "tasks" and method == "POST":
            self._allowed("Create Task")
            return await self._create_task(request)
        if tail == "tasks" and method == "GET":
            self._allowed("Read Task")
            return self._list(request)
        match = re.fullmatch(r"tasks/(\d+)(/notes)?", tail)
        if match and method == "GET":
            self._allowed("Read Task")
            if match.group(2):
                return self._notes(request, int(match.group(1)))
            return self._get_task(request, int(match.group(1)))
        if match and match.group(2) and method == "POST":
            self._allowed("Update Task")
            return await self._add_note(request, int(match.group(1)))
        if match and not match.group(2) and method == "PATCH":
            self._allowed("Update Task")
            return await self._patch_task(request, int(match.group(1)))
        if match and not match.group(2) and method == "DELETE":
            self._allowed("Delete Task")
            self._task(int(match.group(1)))
            del self.tasks[int(match.group(1))]
            return web.Response(status=200)  # Oracle doc: 200 with an empty body
        if tail == "queryResults" and method == "GET":
            return self._query(request)
        if tail == "namedIDs/tasks" and method == "GET":
            return self._named_id_paths(request)
        match = re.fullmatch(r"namedIDs/tasks/([\w/]+)", tail)
        if match and method == "GET":
            return self._named_ids(match.group(1))
        if tail == "metadata-catalog/tasks" and method == "GET":
            return self._metadata(request)
        raise SandboxError(
            404, "OSC-CREST-00013", "Unknown resource", f"Unknown resource: {tail or '/'}"
        )

    # ----------------------------------------------------------------- tasks
    async def _json_body(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        # Oracle doc: OSC-CREST-00010 no POST data, 00011 bad JSON
        if not raw.strip():
            raise SandboxError(400, "OSC-CREST-00010", "No POST data", "No data was submitted")
        try:
            body = json.loads(raw)
        except ValueError as error:
            raise SandboxError(
                400, "OSC-CREST-00011", "Invalid JSON", f"Could not parse the JSON body: {error}"
            ) from None
        if not isinstance(body, dict):
            raise SandboxError(
                400, "OSC-CREST-00011", "Invalid JSON", "The JSON body must be an object"
            )
        return body

    def _resolve(self, value: Any, table: str, label: str) -> dict[str, Any] | None:
        if value is None:
            return None
        # Oracle doc: a reference has either id or lookupName, never both; error text: Oracle's
        if not isinstance(value, dict) or ("id" in value) == ("lookupName" in value):
            raise _bad_reference(f"Only ID or lookupName can be provided to specify a {label}")
        rows = self.data[table]
        if "id" in value:
            if not isinstance(value["id"], int) or value["id"] not in rows:
                raise _bad_reference(f"Invalid ID: No such {label} with ID = {value['id']}")
            return {"id": value["id"]}
        matches = [rid for rid, row in rows.items() if row["name"] == value["lookupName"]]
        if len(matches) != 1:
            raise _bad_reference(
                f"Invalid lookupName: No such {label} with lookupName = '{value['lookupName']}'"
            )
        return {"id": matches[0]}

    @staticmethod
    def _named(value: Any, table: dict[int, str], label: str) -> dict[str, Any] | None:
        if value is None:
            return None
        # Oracle doc: a named ID is set by id or by a name that identifies exactly one value
        if not isinstance(value, dict) or ("id" in value) == ("lookupName" in value):
            raise _write_failed(f"Only ID or lookupName can be provided to specify a {label}")
        if "id" in value:
            if value["id"] not in table:
                raise _write_failed(f"Invalid ID: No such {label} with ID = {value['id']}")
            return {"id": value["id"], "lookupName": table[value["id"]]}
        found = [i for i, name in table.items() if name.lower() == str(value["lookupName"]).lower()]
        if len(found) != 1:
            raise _write_failed(
                f"Invalid Named ID: {label} with lookupName = '{value['lookupName']}' "
                "does not identify exactly one value"
            )
        return {"id": found[0], "lookupName": table[found[0]]}

    def _apply(self, task: dict[str, Any], body: dict[str, Any]) -> None:
        # Oracle doc: the seed page's writable task attributes; inferred: wording for others
        unknown = sorted(set(body) - _WRITABLE)
        if unknown:
            raise _write_failed(f"Unknown property: {unknown[0]}")
        if "name" in body:
            if not isinstance(body["name"], str) or not body["name"].strip():
                raise _write_failed("Task.Name is a required field and cannot be empty")
            if len(body["name"]) > self.name_max_length:
                # inferred: a live site's limit and its wording are unverified (doctor reads
                # the limit from the metadata catalog)
                raise _write_failed(
                    f"Task.Name exceeds its maximum length of {self.name_max_length} characters"
                )
            task["name"] = task["lookupName"] = body["name"]
        if "customFields" in body:
            task["customFields"] = self._custom_fields(task["customFields"], body["customFields"])
        for attribute, (table, label) in _REFERENCES.items():
            if attribute in body:
                ref = self._resolve(body[attribute], table, label)
                # inferred: a disabled contact is refused (wording inferred)
                if attribute == "contact" and ref and self.data["contacts"][ref["id"]]["disabled"]:
                    raise _bad_reference(f"Invalid ID: Contact with ID = {ref['id']} is disabled")
                task[attribute] = ref
        for (group, attribute), (table, label) in _NESTED_REFERENCES.items():
            if isinstance(body.get(group), dict) and attribute in body[group]:
                task[group][attribute] = self._resolve(body[group][attribute], table, label)
        for attribute, label in _NAMED.items():
            if attribute in body:
                task[attribute] = self._named(body[attribute], self.named_ids[attribute], label)
        if isinstance(body.get("statusWithType"), dict) and "status" in body["statusWithType"]:
            status = self._named(
                body["statusWithType"]["status"], self.named_ids["status"], "Status"
            )
            if status is not None:
                type_id = STATUS_TYPE[status["id"]]
                task["statusWithType"] = {
                    "status": status,
                    "statusType": {
                        "id": type_id,
                        "lookupName": self.named_ids["statusType"][type_id],
                    },
                }
        for attribute in ("dueTime", "startTime", "plannedCompletionTime", "completedTime"):
            if attribute in body:
                task[attribute] = self._time(body[attribute], attribute)
        if "percentComplete" in body:
            value = body["percentComplete"]
            # inferred: percentComplete outside 0-100 is refused (wording inferred)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 100):
                raise _write_failed("Task.PercentComplete must be between 0 and 100")
            task["percentComplete"] = value
        if "notes" in body:
            notes = body["notes"]
            # Oracle doc: notes are a list of {text, ...}; inferred: items are appended
            if not isinstance(notes, list) or not all(
                isinstance(n, dict) and isinstance(n.get("text"), str) for n in notes
            ):
                raise _write_failed("Task.Notes must be a list of notes with text")
            task["_notes"].extend(n["text"] for n in notes)

    def _custom_fields(self, current: dict[str, Any], value: Any) -> dict[str, Any]:
        # Oracle doc: task custom fields live under customFields.c.<name>, created by the
        # site's admin; inferred: an unknown one is refused like any unknown property
        fields = value.get("c") if isinstance(value, dict) else None
        if not isinstance(fields, dict) or set(value) - {"c"}:
            raise _write_failed("Task.CustomFields must be an object with c")
        merged = {"c": dict(current.get("c", {}))}
        for name, text in fields.items():
            if name not in self.custom_fields:
                raise _write_failed(f"Unknown property: customFields.c.{name}")
            if text is not None and (
                not isinstance(text, str) or len(text) > self.custom_fields[name]
            ):
                raise _write_failed(
                    f"Task.CustomFields.c.{name} must be text of at most "
                    f"{self.custom_fields[name]} characters"
                )
            merged["c"][name] = text
        return merged

    @staticmethod
    def _time(value: Any, attribute: str) -> str | None:
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise _write_failed(f"Invalid date and time for {attribute}: {value}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    async def _create_task(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        if "name" not in body:
            raise _write_failed("Task.Name is a required field and cannot be empty")
        task = self._new_task(self._next_id, body)
        self._next_id += 1
        self.tasks[task["id"]] = task
        location = f"{request.scheme}://{request.host}{API}/tasks/{task['id']}"
        return web.json_response(
            self._render(request, task), status=201, headers={"Location": location}
        )

    def _new_task(self, task_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """A task as Oracle keeps it (the seed page's response shape), with ``body`` applied."""
        now = self._stamp()
        task: dict[str, Any] = {
            "id": task_id,
            "lookupName": None,
            "createdTime": now,
            "updatedTime": now,
            "assignedToAccount": None,
            "completedTime": None,
            "contact": None,
            "customFields": {"c": dict.fromkeys(self.custom_fields)},
            "dueTime": None,
            "inherit": {
                "inheritContact": False,
                "inheritOrganization": False,
                "inheritStaffAssignment": False,
            },
            "marketingSettings": {
                "campaign": None,
                "document": None,
                "mailing": None,
                "survey": None,
            },
            "name": None,
            "organization": None,
            "percentComplete": None,
            "plannedCompletionTime": None,
            "priority": None,
            "salesSettings": {"opportunity": None},
            "serviceSettings": {"answer": None, "incident": None},
            "startTime": None,
            "statusWithType": {
                "status": {"id": 16, "lookupName": "Not Started"},
                "statusType": {"id": 14, "lookupName": "Not Complete"},
            },
            "taskTemplate": None,
            "taskType": None,
            "_notes": [],
        }
        self._apply(task, body)
        return task

    def seed_tasks(self) -> None:
        """A few tasks that exist before anyone asks (for the demo and ``serve --sandbox``:
        ``/task show 12``, ``/task mine`` for Jane, staff account 2)."""
        for task_id, body in SEED_TASKS.items():
            self.tasks[task_id] = self._new_task(task_id, body)

    def _task(self, task_id: int) -> dict[str, Any]:
        if task_id not in self.tasks:
            raise SandboxError(
                404, "OSC-CREST-00013", "Not Found", f"No such Task with ID = {task_id}"
            )
        return self.tasks[task_id]

    def _get_task(self, request: web.Request, task_id: int) -> web.Response:
        return web.json_response(self._render(request, self._task(task_id)))

    async def _patch_task(self, request: web.Request, task_id: int) -> web.Response:
        task = self._task(task_id)
        body = await self._json_body(request)
        updated = json.loads(json.dumps(task))
        self._apply(updated, body)
        # inferred: updatedTime moves on every update, a note's included, in whole seconds
        # (doctor --write checks that a note moves it)
        updated["updatedTime"] = self._stamp()
        self.tasks[task_id] = updated
        return web.Response(status=200)

    def _render(self, request: web.Request, task: dict[str, Any]) -> dict[str, Any]:
        base = f"{request.scheme}://{request.host}{API}"

        def links(resource: str, rid: int) -> dict[str, Any]:
            href = f"{base}/{resource}/{rid}"
            return {
                "links": [
                    {"rel": "self", "href": href},
                    {"rel": "canonical", "href": href},
                    {
                        "rel": "describedby",
                        "href": f"{base}/metadata-catalog/{resource}",
                        "mediaType": "application/schema+json",
                    },
                ]
            }

        out = {k: v for k, v in task.items() if not k.startswith("_")}
        for attribute, (table, _label) in _REFERENCES.items():
            if out.get(attribute):
                out[attribute] = links(table, out[attribute]["id"])
        for (group, attribute), (table, _label) in _NESTED_REFERENCES.items():
            ref = out[group].get(attribute)
            out[group] = {**out[group], attribute: links(table, ref["id"]) if ref else None}
        out["fileAttachments"] = {
            "links": [{"rel": "self", "href": f"{base}/tasks/{task['id']}/fileAttachments"}]
        }
        out["notes"] = {"links": [{"rel": "self", "href": f"{base}/tasks/{task['id']}/notes"}]}
        out.update(links("tasks", task["id"]))
        return out

    # ----------------------------------------------------------------- queries and named IDs
    _NAMED_PATHS: dict[str, str] = {  # noqa: RUF012 - a constant table
        "priority": "priority",
        "statusWithType/status": "status",
        "statusWithType/statusType": "statusType",
        "taskType": "taskType",
        "taskTemplate": "taskTemplate",
    }

    def _named_ids(self, path: str) -> web.Response:
        # Oracle doc: GET /namedIDs/{resource}/{property path} lists {id, lookupName} items;
        # inferred: the task paths, by analogy with namedIDs/incidents/severity
        key = self._NAMED_PATHS.get(path)
        if key is None or key not in self.named_ids:
            raise SandboxError(404, "OSC-CREST-00013", "Unknown resource", f"Unknown: {path}")
        items = [{"id": i, "lookupName": n} for i, n in self.named_ids[key].items()]
        return web.json_response({"items": items})

    def _named_id_paths(self, request: web.Request) -> web.Response:
        # Oracle doc: GET /namedIDs/incidents lists one link per property; inferred for tasks
        base = f"{request.scheme}://{request.host}{API}/namedIDs/tasks"
        items = [
            {"name": path, "links": [{"rel": "self", "href": f"{base}/{path}"}]}
            for path, key in self._NAMED_PATHS.items()
            if key in self.named_ids
        ]
        return web.json_response({"items": items})

    def _metadata(self, request: web.Request) -> web.Response:
        # Oracle doc: GET /metadata-catalog/tasks with Accept: application/schema+json describes
        # the resource as JSON Schema; inferred: where it puts maxLength and the custom fields
        custom = {
            name: {"type": "string", "maxLength": length, "isAvailableForPOST": True}
            for name, length in self.custom_fields.items()
        }
        schema = {
            "title": "tasks",
            "type": "object",
            "required": ["name"],
            "properties": {
                "id": {"type": "integer", "isAvailableForPOST": False},
                "name": {
                    "type": "string",
                    "maxLength": self.name_max_length,
                    "isAvailableForPOST": True,
                },
                "dueTime": {"type": "string", "format": "date-time", "isAvailableForPOST": True},
                "customFields": {
                    "type": "object",
                    "properties": {"c": {"type": "object", "properties": custom}},
                },
            },
        }
        return web.json_response(schema, content_type="application/schema+json")

    def _list(self, request: web.Request) -> web.Response:
        # Oracle doc: collections answer items with id, lookupName and links; limit/offset
        limit = int(request.query.get("limit", "1000") or 1000)
        offset = int(request.query.get("offset", "0") or 0)
        chosen = list(self.tasks.values())[offset : offset + limit]
        base = f"{request.scheme}://{request.host}{API}/tasks"
        items = [
            {
                "id": t["id"],
                "lookupName": t["lookupName"],
                "links": [{"rel": "canonical", "href": f"{base}/{t['id']}"}],
            }
            for t in chosen
        ]
        has_more = offset + limit < len(self.tasks)
        return web.json_response({"items": items, "hasMore": has_more, "links": []})

    async def _add_note(self, request: web.Request, task_id: int) -> web.Response:
        # Oracle's code: the Mobile Agent accelerator (TaskController.java) adds a note with
        # POST tasks/{id}/notes {"text", "channel"}; inferred: 201 with the note, the task's
        # updatedTime moves as on a PATCH (doctor --write checks both on a live site)
        task = self._task(task_id)
        body = await self._json_body(request)
        if not isinstance(body.get("text"), str) or not body["text"]:
            raise _write_failed("Note.Text is a required field and cannot be empty")
        task["_notes"].append(body["text"])
        task["updatedTime"] = self._stamp()
        note_id = len(task["_notes"])
        return web.json_response(
            {"id": note_id, "text": body["text"], "createdTime": task["updatedTime"]}, status=201
        )

    def _notes(self, request: web.Request, task_id: int) -> web.Response:
        # inferred: the notes of a task as a collection (its link is in the task's notes)
        notes = self._task(task_id)["_notes"]
        items = [{"id": i + 1, "text": text} for i, text in enumerate(notes)]
        return web.json_response({"items": items, "hasMore": False, "links": []})

    def _reference(self, table: str, ref: dict[str, Any] | None) -> dict[str, Any]:
        if not ref:
            return {"id": None, "lookupName": None}
        return {"id": ref["id"], "lookupName": self.data[table][ref["id"]]["name"]}

    @staticmethod
    def _moment(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None

    def _rows(self, table: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """A table's rows as nested objects, as ROQL paths walk them, and a template row with
        every field (so that a column is checked even when the table is empty)."""
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        blank = {"id": None, "lookupName": None}
        if table == "tasks":
            template = {
                "id": 0,
                "name": "",
                "lookupName": "",
                "createdTime": epoch,
                "updatedTime": epoch,
                "dueTime": epoch,
                "startTime": epoch,
                "percentComplete": 0,
                "contact": blank,
                "organization": blank,
                "assignedToAccount": blank,
                "statusWithType": {"status": blank, "statusType": blank},
                "priority": blank,
                "taskType": blank,
                # Oracle doc: taskTemplate is a task's named ID (the seed page); its path in
                # ROQL inferred as taskType's (doctor runs the poll's query on a live site)
                "taskTemplate": blank,
                "customFields": {"c": dict.fromkeys(self.custom_fields, "")},
            }
            rows = [
                {
                    "id": t["id"],
                    "name": t["name"],
                    "lookupName": t["lookupName"],
                    "createdTime": self._moment(t["createdTime"]),
                    "updatedTime": self._moment(t["updatedTime"]),
                    "dueTime": self._moment(t["dueTime"]),
                    "startTime": self._moment(t["startTime"]),
                    "percentComplete": t.get("percentComplete"),
                    "contact": self._reference("contacts", t["contact"]),
                    "organization": self._reference("organizations", t["organization"]),
                    "assignedToAccount": self._reference("accounts", t["assignedToAccount"]),
                    "statusWithType": t["statusWithType"],
                    "priority": t["priority"] or blank,
                    "taskType": t["taskType"] or blank,
                    "taskTemplate": t["taskTemplate"] or blank,
                    "customFields": t["customFields"],
                }
                for t in self.tasks.values()
            ]
            return rows, template
        if table not in self.data:
            # inferred: the wording of an unknown table's error
            raise roql.RoqlError(f"Unknown table in query: {table}")
        rows = []
        for rid, row in self.data[table].items():
            first, _, last = row["name"].partition(" ")
            record: dict[str, Any] = {
                "id": rid,
                "lookupName": row["name"],
                "name": row["name"] if table == "organizations" else {"first": first, "last": last},
            }
            if "email" in row:
                record["emails"] = {"address": row["email"]}
            if "login" in row:
                record["login"] = row["login"]
            if "disabled" in row:
                record["disabled"] = row["disabled"]
            rows.append(record)
        template = rows[0] if rows else {"id": 0, "lookupName": ""}
        return rows, template

    def _query(self, request: web.Request) -> web.Response:
        text = request.query.get("query", "")
        items = []
        try:
            for statement in roql.split_statements(text):
                if any(refused in statement for refused in self.refused_queries):
                    raise roql.RoqlError(f"Invalid field in query: {statement.strip()}")
                query = roql.parse(statement)
                if query.table.lower() == "tasks":
                    self._allowed("Read Task")
                rows, template = self._rows(query.table.lower())
                items.append(roql.run(query, rows, template))
        except roql.RoqlError as error:
            # Oracle doc: OSC-CREST-00007, an invalid query parameter
            raise SandboxError(
                400, "OSC-CREST-00007", "An invalid query parameter was used", str(error)
            ) from None
        recorded = self._recording.get(id(request))
        if recorded is not None:
            recorded.answer = {"items": items}
        return web.json_response({"items": items, "links": []})

    # ----------------------------------------------------------------- control (for processes)
    def agent_create(self, fields: dict[str, Any]) -> int:
        """An agent (or a business rule) creates a task in B2C Service, not through the API:
        the same fields as a POST; its id."""
        # inferred: such a task is a task like any other (the same fields, ids, updatedTime)
        task = self._new_task(self._next_id, fields)
        self.tasks[task["id"]] = task
        self._next_id += 1
        return task["id"]

    def agent_edit(self, task_id: int, changes: dict[str, Any]) -> None:
        """An agent changes a task in B2C Service (the agent desktop, not the API): the same
        fields as a PATCH, and updatedTime moves (Oracle doc: updatedTime is the time of the
        last update, whoever made it)."""
        task = self._task(task_id)
        updated = json.loads(json.dumps(task))
        self._apply(updated, changes)
        # inferred: as a PATCH (see _patch_task)
        updated["updatedTime"] = self._stamp()
        self.tasks[task_id] = updated

    async def _agent_create(self, request: web.Request) -> web.Response:
        """``POST /_sandbox/tasks`` with POST's fields: ``agent_create`` over HTTP."""
        try:
            task_id = self.agent_create(await request.json())
        except SandboxError as error:
            return self._problem(request, error)
        await self._notify()
        return web.json_response({"id": task_id})

    async def _agent_edit(self, request: web.Request) -> web.Response:
        """``POST /_sandbox/tasks/{id}`` with PATCH's fields: ``agent_edit`` over HTTP, for
        ``python -m bot sandbox`` (``curl -d '{"statusWithType": ...}'``)."""
        try:
            self.agent_edit(int(request.match_info["id"]), await request.json())
        except SandboxError as error:
            return self._problem(request, error)
        await self._notify()
        return web.json_response({"ok": True})

    def bulk_tasks(self, start: int, count: int) -> None:
        """``count`` tasks from id ``start``, named "Bench task <id>", made long ago and not
        changed since (for benchmarks and tests of many tracked tasks)."""
        made = "2026-01-01T00:00:00.000Z"
        for task_id in range(start, start + count):
            task = self._new_task(task_id, {"name": f"Bench task {task_id}"})
            task["createdTime"] = task["updatedTime"] = made
            self.tasks[task_id] = task

    async def _stats(self, request: web.Request) -> web.Response:
        """How many requests of each kind the sandbox has answered (for a benchmark)."""
        counts: dict[str, int] = {}
        for recorded in self.requests:
            key = f"{recorded.method} {recorded.path}"
            counts[key] = counts.get(key, 0) + 1
        return web.json_response({"requests": counts, "total": len(self.requests)})

    async def _list_tasks(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "items": [
                    {**self._render(request, t), "noteTexts": t["_notes"]}
                    for t in self.tasks.values()
                ]
            }
        )

    async def _configure(self, request: web.Request) -> web.Response:
        config = await request.json()
        if "latency" in config:
            self.latency = float(config["latency"])
        bulk = config.get("bulk_tasks")  # a benchmark's many tasks, made at once
        if bulk:
            self.bulk_tasks(int(bulk["start"]), int(bulk["count"]))
        for fault in config.get("faults", []):
            self.inject(Fault(**fault))
        for account_id, account in (config.get("accounts") or {}).items():  # a benchmark's staff
            self.data["accounts"][int(account_id)] = account
        for edit in config.get("edits", []):  # agents' changes, many at once
            self.agent_edit(int(edit["id"]), edit["changes"])
        return web.json_response({"ok": True})
