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
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

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

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or path.startswith(self.path)
        )


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]  # as HTTP has them: names in any case
    body: Any
    at: float = field(default_factory=time.monotonic)


def _seed() -> dict[str, dict[int, dict[str, Any]]]:
    return {
        "contacts": {
            83: {"name": "Mary Major", "email": "mary.major@example.com", "disabled": False},
            84: {"name": "Carlos Salazar", "email": "carlos@example.com", "disabled": False},
            85: {"name": "Zoë O'Brien", "email": "zoe@example.org", "disabled": False},
            86: {"name": "Inactive Person", "email": "gone@example.com", "disabled": True},
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
        self.data = _seed()
        self.tasks: dict[int, dict[str, Any]] = {}
        self.requests: list[Recorded] = []
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
        app.router.add_post("/_sandbox/config", self._configure)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.web_app(), access_log=None)
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

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.matches(method, path):
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                return fault
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/_sandbox/"):
            return await handler(request)
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        path = request.path[len(API) :] if request.path.startswith(API) else request.path
        self.requests.append(
            Recorded(request.method, path, dict(request.query), CIMultiDict(request.headers), body)
        )
        if self.latency:
            await asyncio.sleep(self.latency)
        fault = self._take_fault(request.method, path)
        if fault is not None and not fault.after_create:
            await asyncio.sleep(fault.delay)
            return self._fault_response(request, fault)
        try:
            self._check_auth(request)
            response = await handler(request)
        except SandboxError as error:
            return self._problem(request, error)
        finally:
            await self._notify()
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
            raise SandboxError(
                401, "OSC-CREST-00001", "Unauthorized", "Access Denied: invalid credentials"
            )
        context = request.headers.get("OSvC-CREST-Application-Context")
        if not context or len(context) > 40:
            raise SandboxError(
                400,
                "OSC-CREST-00016",
                "Bad Request",
                "The OSvC-CREST-Application-Context header is required and must be at most "
                "40 characters",
            )

    async def _dispatch(self, request: web.Request) -> web.Response:
        tail = request.match_info["tail"].strip("/")
        method = request.method
        if tail == "tasks" and method == "POST":
            return await self._create_task(request)
        match = re.fullmatch(r"tasks/(\d+)", tail)
        if match and method == "GET":
            return self._get_task(request, int(match.group(1)))
        if match and method == "PATCH":
            return await self._patch_task(request, int(match.group(1)))
        if tail == "queryResults" and method == "GET":
            return self._query(request)
        match = re.fullmatch(r"namedIDs/tasks/([\w/]+)", tail)
        if match and method == "GET":
            return self._named_ids(match.group(1))
        raise SandboxError(
            404, "OSC-CREST-00013", "Unknown resource", f"Unknown resource: {tail or '/'}"
        )

    # ----------------------------------------------------------------- tasks
    async def _json_body(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
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
        unknown = sorted(set(body) - _WRITABLE)
        if unknown:
            raise _write_failed(f"Unknown property: {unknown[0]}")
        if "name" in body:
            if not isinstance(body["name"], str) or not body["name"].strip():
                raise _write_failed("Task.Name is a required field and cannot be empty")
            task["name"] = task["lookupName"] = body["name"]
        for attribute, (table, label) in _REFERENCES.items():
            if attribute in body:
                ref = self._resolve(body[attribute], table, label)
                if attribute == "contact" and ref and self.data["contacts"][ref["id"]]["disabled"]:
                    raise _bad_reference(f"Invalid ID: Contact with ID = {ref['id']} is disabled")
                task[attribute] = ref
        for (group, attribute), (table, label) in _NESTED_REFERENCES.items():
            if isinstance(body.get(group), dict) and attribute in body[group]:
                task[group][attribute] = self._resolve(body[group][attribute], table, label)
        for attribute, label in _NAMED.items():
            if attribute in body:
                task[attribute] = self._named(body[attribute], NAMED_IDS[attribute], label)
        if isinstance(body.get("statusWithType"), dict) and "status" in body["statusWithType"]:
            status = self._named(body["statusWithType"]["status"], NAMED_IDS["status"], "Status")
            if status is not None:
                type_id = STATUS_TYPE[status["id"]]
                task["statusWithType"] = {
                    "status": status,
                    "statusType": {"id": type_id, "lookupName": NAMED_IDS["statusType"][type_id]},
                }
        for attribute in ("dueTime", "startTime", "plannedCompletionTime", "completedTime"):
            if attribute in body:
                task[attribute] = self._time(body[attribute], attribute)
        if "percentComplete" in body:
            value = body["percentComplete"]
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 100):
                raise _write_failed("Task.PercentComplete must be between 0 and 100")
            task["percentComplete"] = value
        if "notes" in body:
            notes = body["notes"]
            if not isinstance(notes, list) or not all(
                isinstance(n, dict) and isinstance(n.get("text"), str) for n in notes
            ):
                raise _write_failed("Task.Notes must be a list of notes with text")
            task["_notes"].extend(n["text"] for n in notes)

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
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        task: dict[str, Any] = {
            "id": self._next_id,
            "lookupName": None,
            "createdTime": now,
            "updatedTime": now,
            "assignedToAccount": None,
            "completedTime": None,
            "contact": None,
            "customFields": {"c": {}},
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
        self._next_id += 1
        self.tasks[task["id"]] = task
        location = f"{request.scheme}://{request.host}{API}/tasks/{task['id']}"
        return web.json_response(
            self._render(request, task), status=201, headers={"Location": location}
        )

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
        updated["updatedTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
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
    def _named_ids(self, path: str) -> web.Response:
        key = {
            "priority": "priority",
            "statusWithType/status": "status",
            "taskType": "taskType",
            "taskTemplate": "taskTemplate",
            "statusWithType/statusType": "statusType",
        }.get(path)
        if key is None:
            raise SandboxError(404, "OSC-CREST-00013", "Unknown resource", f"Unknown: {path}")
        items = [{"id": i, "lookupName": n} for i, n in NAMED_IDS[key].items()]
        return web.json_response({"items": items})

    def _table_rows(self, table: str) -> list[dict[str, Any]]:
        if table == "tasks":
            return [
                {
                    "id": t["id"],
                    "name": t["name"],
                    "contact": (t["contact"] or {}).get("id"),
                    "assignedtoaccount": (t["assignedToAccount"] or {}).get("id"),
                    "createdtime": t["createdTime"],
                    "statuswithtype.status": t["statusWithType"]["status"]["lookupName"],
                    "statuswithtype.statustype": t["statusWithType"]["statusType"]["lookupName"],
                }
                for t in self.tasks.values()
            ]
        if table not in self.data:
            raise SandboxError(
                400, "OSC-CREST-00007", "Invalid query", f"Unknown table in query: {table}"
            )
        rows = []
        for rid, row in self.data[table].items():
            record = {"id": rid, "name": row["name"], "lookupname": row["name"]}
            if "email" in row:
                record["emails.address"] = row["email"]
            if "login" in row:
                record["login"] = row["login"]
            rows.append(record)
        return rows

    def _query(self, request: web.Request) -> web.Response:
        text = request.query.get("query", "")
        items = []
        for statement in (s for s in _split_statements(text) if s.strip()):
            columns, table, conditions, limit = _parse_roql(statement)
            rows = [r for r in self._table_rows(table) if _matches(r, conditions)][:limit]
            items.append(
                {
                    "tableName": table,
                    "count": len(rows),
                    "columnNames": columns,
                    "rows": [
                        [
                            None if r.get(c.lower()) is None else str(r.get(c.lower()))
                            for c in columns
                        ]
                        for r in rows
                    ],
                }
            )
        return web.json_response({"items": items, "links": []})

    # ----------------------------------------------------------------- control (for processes)
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
        for fault in config.get("faults", []):
            self.inject(Fault(**fault))
        return web.json_response({"ok": True})


# --------------------------------------------------------------------- a tiny ROQL reader
# Enough ROQL for the bot's own queries: select <columns> from <table> [where <conditions>]
# [limit n], conditions joined by "and"/"or" ("and" binds tighter), each "<column> = <literal>",
# "<column> != <literal>" or "<column> like <pattern>". Literals are single-quoted with
# backslash escapes; in a pattern, % and _ are wildcards unless escaped.
_STRING = r"'(?:\\.|[^'\\])*'"
_ROQL = re.compile(
    r"^\s*select\s+(?P<columns>.+?)\s+from\s+(?P<table>\w+)"
    r"(?:\s+where\s+(?P<where>.+?))?(?:\s+limit\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(
    rf"^\s*(?P<column>[\w.]+)\s*(?P<op>!=|>=|<=|=|>|<|like)\s*(?P<value>{_STRING}|\d+)\s*$",
    re.IGNORECASE,
)
Condition = tuple[str, str, Any]


def _split_statements(text: str) -> list[str]:
    return re.findall(rf"(?:{_STRING}|[^;'])+", text)


def _split_outside_quotes(text: str, word: str) -> list[str]:
    masked = re.sub(_STRING, lambda m: "'" + "x" * (len(m.group(0)) - 2) + "'", text)
    pieces, start = [], 0
    for match in re.finditer(rf"\s+{word}\s+", masked, re.IGNORECASE):
        pieces.append(text[start : match.start()])
        start = match.end()
    pieces.append(text[start:])
    return [piece.strip() for piece in pieces if piece.strip()]


def _literal(literal: str) -> str | int:
    if literal.startswith("'"):
        return re.sub(r"\\(.)", r"\1", literal[1:-1])
    return int(literal)


def _pattern(literal: str) -> re.Pattern[str]:
    body, out, index = literal[1:-1], [], 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            out.append(re.escape(body[index + 1]))
            index += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _parse_roql(statement: str) -> tuple[list[str], str, list[list[Condition]], int]:
    match = _ROQL.match(statement)
    if not match:
        raise SandboxError(400, "OSC-CREST-00007", "Invalid query", f"Bad query: {statement}")
    columns = [c.strip() for c in match.group("columns").split(",")]
    alternatives: list[list[Condition]] = []
    if match.group("where"):
        for alternative in _split_outside_quotes(match.group("where"), "or"):
            conditions: list[Condition] = []
            for part in _split_outside_quotes(alternative, "and"):
                cond = _CONDITION.match(part)
                if not cond:
                    raise SandboxError(
                        400, "OSC-CREST-00007", "Invalid query", f"Bad condition: {part}"
                    )
                op, value = cond.group("op").lower(), cond.group("value")
                conditions.append(
                    (
                        cond.group("column").lower(),
                        op,
                        _pattern(value) if op == "like" else _literal(value),
                    )
                )
            alternatives.append(conditions)
    return columns, match.group("table").lower(), alternatives, int(match.group("limit") or 20000)


def _matches(row: dict[str, Any], alternatives: list[list[Condition]]) -> bool:
    if not alternatives:
        return True
    return any(
        all(_holds(row, condition) for condition in conditions) for conditions in alternatives
    )


def _holds(row: dict[str, Any], condition: Condition) -> bool:
    column, op, value = condition
    cell = row.get(column)
    if op == "like":
        return cell is not None and bool(value.fullmatch(str(cell)))
    if op in ("=", "!="):
        same = str(cell).lower() == str(value).lower()
        return same if op == "=" else not same
    if cell is None:
        return False
    left, right = (cell, value) if isinstance(value, int) else (str(cell), str(value))
    try:
        return {">=": left >= right, "<=": left <= right, ">": left > right, "<": left < right}[op]
    except TypeError:
        return False
