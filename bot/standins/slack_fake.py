"""A local stand-in for the Slack Web API, ``response_url`` and Socket Mode, for tests and demos.

It answers the methods the bot calls (``auth.test``, ``chat.postMessage``, ``chat.update``,
``chat.postEphemeral``, ``users.info``, ``views.*``, ``apps.connections.open``, ``functions.*``
for custom steps, ``apps.manifest.export``), starts Workflow Builder steps (``functions``),
records every
call, and can inject latency and Slack errors (``not_in_channel``, ``ratelimited``...). Point an
``AsyncWebClient`` at ``base_url + "/api/"``; ``response_url`` values at ``response_url(...)``.
Tests wait on it with ``wait_for`` (an awaited condition, never a sleep).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from bot.standins.block_kit import message_problems, view_problems
from bot.standins.slack_functions import SlackFunctions


def _page(key: str, items: list[Any], args: dict[str, Any], limit: int) -> dict[str, Any]:
    """One page of a cursor-paged Slack list (the cursor here is the next index)."""
    start = int(args.get("cursor") or 0)
    size = int(args.get("limit") or limit)
    following = start + size if start + size < len(items) else ""
    return {
        "ok": True,
        key: items[start : start + size],
        "has_more": bool(following),
        "response_metadata": {"next_cursor": str(following)},
    }


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None = None
    error: str = ""  # the error Slack answered with ("": none)


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    received_at: float = field(default_factory=time.monotonic)
    user: str | None = None  # a person's message (post_user_message); None: the bot's
    files: list[dict[str, Any]] = field(default_factory=list)


DEFAULT_USERS = {
    "U1": {
        "name": "jane",
        "real_name": "Jane Doe",
        "tz": "America/New_York",
        "locale": "en-US",
        "email": "jane@example.com",
    },
    "U2": {
        "name": "sam",
        "real_name": "Sam Agent",
        "tz": "Europe/Paris",
        "locale": "fr-FR",
        "email": "sam@example.com",
    },
    "U3": {
        "name": "nomatch",
        "real_name": "No Match",
        "tz": "Asia/Tokyo",
        "locale": "ja-JP",
        "email": "nobody@example.net",
    },
    "U4": {
        "name": "carlos",
        "real_name": "Carlos Salazar",
        "tz": "America/Mexico_City",
        "locale": "es-LA",
        "email": "carlos@example.com",
    },
    # a customer's person, met in a channel shared with their organization (Slack Connect)
    "UX1": {
        "name": "cora",
        "real_name": "Cora Customer",
        "tz": "Europe/Berlin",
        "locale": "de-DE",
        "email": "cora@customer.example",
        "team_id": "TX1",
    },
}
HOME_TEAM = "T1"  # the workspace that installed the bot (auth.test)


MANIFEST_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "users:read.email",
    "channels:history",
    "groups:history",
    "reactions:write",
    "reactions:read",
    "links:read",
    "links:write",
    "im:write",
    "channels:read",
    "groups:read",
)


class SlackFake:
    """An in-process Slack Web API served by aiohttp on a local port."""

    def __init__(self, *, latency: float = 0.0, users: dict[str, dict[str, Any]] | None = None):
        self.latency = latency
        # each fake its own copies: a test may change a person without touching the next test's
        self.users = {
            user_id: dict(user)
            for user_id, user in (DEFAULT_USERS if users is None else users).items()
        }
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], Message] = {}
        self.responses: list[dict[str, Any]] = []
        self.errors: dict[str, list[str]] = {}
        self.unreachable_channels: set[str] = set()
        self.usergroups: dict[str, set[str]] = {"S1": {"U2"}}
        # channels shared with another organization (Slack Connect): conversations.info says
        # is_ext_shared, and the test's events say is_ext_shared_channel
        self.shared_channels: set[str] = set()
        self.acks: dict[str, dict[str, Any]] = {}
        # the scopes the app was granted (as manifest.yaml asks), sent back in x-oauth-scopes
        # on every Web API answer as Slack does; tokens Slack refuses (revoked, say)
        self.scopes = list(MANIFEST_SCOPES)
        self.refused_tokens: set[str] = set()
        # methods whose calls are held on arrival until released (a test freezes the bot at a
        # chosen point); a held call whose client has gone meanwhile never reaches "Slack"
        self.holds: set[str] = set()
        self.arrivals: list[str] = []  # every method called, as it arrives
        self.home_views: dict[str, dict[str, Any]] = {}  # user -> their published Home tab
        self.unfurls: list[dict[str, Any]] = []  # chat.unfurl calls, as made
        self.arrived_at: list[tuple[float, str]] = []  # (monotonic time, method) of each call
        # every message, view or unfurl Slack would have refused (Block Kit limits): a test
        # fixture fails the test that caused one
        self.refused_blocks: list[tuple[str, list[str]]] = []
        # custom steps (Workflow Builder): their runs, and the definitions the app declares
        self.functions = SlackFunctions()
        # what apps.manifest.export gives a configuration token (None: the app has no manifest)
        self.app_id = "A1"
        self.manifest: dict[str, Any] | None = None
        self._token: str | None = None  # the token of the call being answered
        self.base_url = ""
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._ack_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}

    # ----------------------------------------------------------------- lifecycle
    def web_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/_fake/messages", self._list_messages)
        app.router.add_post("/_fake/config", self._configure)
        app.router.add_get("/_fake/calls", self._list_calls)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.web_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.base_url = f"http://{host}:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self.base_url

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    def response_url(self, key: str = "1") -> str:
        return f"{self.base_url}/response/{key}"

    # ----------------------------------------------------------------- inspection for tests
    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def thread_replies(self, channel: str, thread_ts: str) -> list[Message]:
        return [
            m for m in self.messages.values() if m.channel == channel and m.thread_ts == thread_ts
        ]

    def top_messages(self, channel: str | None = None) -> list[Message]:
        return [
            m
            for m in self.messages.values()
            if m.thread_ts is None and (channel is None or m.channel == channel)
        ]

    def fail(self, method: str, *errors: str) -> None:
        """The next calls to ``method`` answer these Slack errors, in order ("": that call is
        answered as usual)."""
        self.errors.setdefault(method, []).extend(errors)

    async def wait_for(self, predicate: Callable[[], Any], limit: float = 10.0) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every recorded call)."""
        async with self._changed:
            return await asyncio.wait_for(self._changed.wait_for(predicate), limit)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ----------------------------------------------------------------- Web API
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            if request.content_type == "application/json":
                args.update(json.loads(raw))
            else:
                args.update(parse_qsl(raw.decode()))
        for key in ("blocks", "attachments", "view", "unfurls"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        auth = request.headers.get("Authorization", "")
        call = Call(method, args, auth.removeprefix("Bearer ") or args.get("token"))
        self.arrivals.append(method)
        self.arrived_at.append((time.monotonic(), method))
        await self._notify()
        while method in self.holds:
            await asyncio.sleep(0.02)
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # the caller died before Slack took the call
        if self.latency:
            await asyncio.sleep(self.latency)
        headers = {"x-oauth-scopes": ",".join(self.scopes)}
        if call.token in self.refused_tokens:
            call.error = "token_revoked"
            self.calls.append(call)
            return web.json_response({"ok": False, "error": "token_revoked"})
        queued = self.errors.get(method)
        error = queued.pop(0) if queued else ""
        if error:
            call.error = error
            self.calls.append(call)
            await self._notify()
            if error == "ratelimited":
                return web.json_response(
                    {"ok": False, "error": error}, status=429, headers={"Retry-After": "1"}
                )
            return web.json_response({"ok": False, "error": error})
        refused = self._refused(method, args)
        self._token = call.token
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        body = refused or (handler(args) if handler else {"ok": True})
        if body.get("ok") is False:
            call.error = str(body.get("error") or "")
        self.calls.append(call)
        await self._notify()
        return web.json_response(body, headers=headers)

    def _refused(self, method: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """Slack's answer to blocks or a view it would not show (Block Kit's limits), or None."""
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            problems = message_problems(args.get("blocks"))
            # Slack doc (chat.postMessage errors): invalid_blocks, with the problems listed
            error = "invalid_blocks"
        elif method in ("views.open", "views.update", "views.push", "views.publish"):
            problems = view_problems(args.get("view"))
            # Slack doc (views.* errors): invalid_arguments, the problems in response_metadata
            error = "invalid_arguments"
        elif method == "chat.unfurl":
            problems = [
                f"{url}: {problem}"
                for url, unfurl in (args.get("unfurls") or {}).items()
                for problem in message_problems((unfurl or {}).get("blocks"))
            ]
            # inferred from chat.postMessage: an unfurl's blocks are a message's blocks
            error = "invalid_blocks"
        else:
            return None
        if not problems:
            return None
        self.refused_blocks.append((method, problems))
        answer: dict[str, Any] = {"ok": False, "error": error}
        if error == "invalid_blocks":
            answer["errors"] = problems
        answer["response_metadata"] = {"messages": [f"[ERROR] {p}" for p in problems]}
        return answer

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
            "team": "Fake",
            "user": "taskbot",
            "team_id": HOME_TEAM,
            "user_id": "UBOT",
            "bot_id": "BBOT",
        }

    def _new_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel", "")
        if channel in self.unreachable_channels:
            return {"ok": False, "error": "not_in_channel"}
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        ts = self._new_ts()
        message = Message(
            channel, ts, args.get("text", ""), args.get("blocks"), args.get("thread_ts")
        )
        self.messages[(channel, ts)] = message
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "message": {"text": message.text, "ts": ts},
        }

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (args.get("channel", ""), args.get("ts", ""))
        message = self.messages.get(key)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        message.history.append({"text": message.text, "blocks": message.blocks})
        message.text = args.get("text", message.text)
        message.blocks = args.get("blocks", message.blocks)
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._new_ts()}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user", "")
        user = self.users.get(user_id)
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        # the language only when asked for (Slack's users.info reference: include_locale)
        asked = str(args.get("include_locale", "")).lower() in ("true", "1")
        return {
            "ok": True,
            "user": {
                **({"locale": user.get("locale")} if asked and user.get("locale") else {}),
                "id": user_id,
                "name": user["name"],
                "real_name": user["real_name"],
                "tz": user.get("tz"),
                "team_id": user.get("team_id", HOME_TEAM),
                "profile": {
                    "real_name": user["real_name"],
                    "display_name": user["name"],
                    "email": user.get("email"),
                },
            },
        }

    def _m_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """Slack's members, 200 a page by cursor."""
        members = [
            {
                "id": user_id,
                "name": user["name"],
                "deleted": False,
                "is_bot": False,
                "tz": user.get("tz"),
                "profile": {"real_name": user["real_name"], "email": user.get("email")},
            }
            for user_id, user in sorted(self.users.items())
        ]
        return _page("members", members, args, 200)

    def _m_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        email = (args.get("email") or "").lower()
        for user_id, user in self.users.items():
            if (user.get("email") or "").lower() == email:
                return self._m_users_info({"user": user_id})
        return {"ok": False, "error": "users_not_found"}

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """A channel as Slack describes it: ``is_ext_shared`` when shared with another
        organization (Slack's conversations.info reference)."""
        channel = args.get("channel", "")
        if not channel or channel in self.unreachable_channels:
            return {"ok": False, "error": "channel_not_found"}
        shared = channel in self.shared_channels
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "is_channel": channel.startswith("C"),
                "is_im": channel.startswith("D"),
                "is_ext_shared": shared,
                "is_shared": shared,
                "context_team_id": HOME_TEAM,
            },
        }

    def team_of(self, user: str) -> str:
        """The workspace a person belongs to (another organization's for a customer)."""
        return self.users.get(user, {}).get("team_id", HOME_TEAM)

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": "D" + str(args.get("users", ""))}}

    def post_user_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = "U2",
        thread_ts: str | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> Message:
        """A person's message (what a test then reacts to, or makes a task of)."""
        ts = self._new_ts()
        message = Message(channel, ts, text, None, thread_ts)
        message.user = user
        message.files = files or []
        self.messages[(channel, ts)] = message
        return message

    def _as_slack_message(self, m: Message) -> dict[str, Any]:
        found: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text}
        if m.user:
            found["user"] = m.user
        else:
            found["bot_id"] = "BBOT"
        if m.thread_ts:
            found["thread_ts"] = m.thread_ts
        if m.files:
            found["files"] = m.files
        return found

    def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """A channel's top-level messages (``latest``/``oldest``/``inclusive`` as Slack)."""
        channel = args.get("channel", "")
        latest, oldest = args.get("latest"), args.get("oldest")
        found = [
            self._as_slack_message(m)
            for m in self.messages.values()
            if m.channel == channel
            and (m.thread_ts is None or m.thread_ts == m.ts)
            and (latest is None or float(m.ts) <= float(latest))
            and (oldest is None or float(m.ts) >= float(oldest))
        ]
        found.sort(key=lambda m: float(m["ts"]), reverse=True)
        return _page("messages", found, args, 100)

    def _m_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """A thread, its parent first, by ``ts`` of the parent or of any reply (as Slack);
        paged by cursor (the next index here)."""
        channel, ts = args.get("channel", ""), args.get("ts", "")
        asked = self.messages.get((channel, ts))
        if asked is None:
            return {"ok": False, "error": "thread_not_found"}
        parent = asked.thread_ts or asked.ts
        thread = [
            self._as_slack_message(m)
            for m in self.messages.values()
            if m.channel == channel and (m.ts == parent or m.thread_ts == parent)
        ]
        thread.sort(key=lambda m: float(m["ts"]))
        if thread and thread[0]["ts"] == parent:
            thread[0]["thread_ts"] = parent if len(thread) > 1 else thread[0].get("thread_ts")
        return _page("messages", thread, args, 1000)

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = args.get("user_id", "")
        view = args.get("view") or {}
        self.home_views[user] = view
        return {"ok": True, "view": {"id": f"VH{user}", **view}}

    def _m_chat_unfurl(self, args: dict[str, Any]) -> dict[str, Any]:
        self.unfurls.append(args)  # (its unfurls decoded on arrival, as blocks and views are)
        return {"ok": True}

    def _m_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel", ""), args.get("message_ts", "")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://fake.slack.test/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _m_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = self.usergroups.get(args.get("usergroup", ""))
        if group is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": sorted(group)}

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id") or f"V{len(self.calls_to('views.open')) + 1}"
        return {
            "ok": True,
            "view": {"id": view_id, "hash": f"h-{view_id}", **(args.get("view") or {})},
        }

    _m_views_update = _m_views_open
    _m_views_push = _m_views_open

    def _m_functions_completeSuccess(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.functions.complete_success(args, self._token)

    def _m_functions_completeError(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.functions.complete_error(args, self._token)

    def _m_apps_manifest_export(self, args: dict[str, Any]) -> dict[str, Any]:
        if not (self._token or "").startswith("xoxe."):
            # Slack doc (apps.manifest.export): an app configuration token is required;
            # another kind is refused as the common error not_allowed_token_type
            return {"ok": False, "error": "not_allowed_token_type"}
        if args.get("app_id") != self.app_id or self.manifest is None:
            # Slack doc (apps.manifest.export errors): invalid_app_id
            return {"ok": False, "error": "invalid_app_id"}
        return {"ok": True, "manifest": self.manifest}

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.base_url.replace("http", "ws", 1) + "/socket"}

    # ----------------------------------------------------------------- control (for processes)
    async def _list_messages(self, request: web.Request) -> web.Response:
        """Messages posted so far (``?threaded=1``: thread replies only), with the monotonic
        time each arrived, for a benchmark running in another process on this machine."""
        threaded = request.query.get("threaded") == "1"
        return web.json_response(
            {
                "messages": [
                    {
                        "channel": m.channel,
                        "ts": m.ts,
                        "thread_ts": m.thread_ts,
                        "text": m.text,
                        "received_at": m.received_at,
                    }
                    for m in self.messages.values()
                    if not threaded or m.thread_ts
                ]
            }
        )

    async def _configure(self, request: web.Request) -> web.Response:
        config = await request.json()
        if "latency" in config:
            self.latency = float(config["latency"])
        if config.get("reset"):
            self.calls.clear()
            self.messages.clear()
            self.responses.clear()
        if "users" in config:  # a benchmark's workspace: id -> name, real_name, tz, email
            self.users = dict(config["users"])
        posted = [
            self.post_user_message(m["channel"], m["text"], user=m.get("user", "U2")).ts
            for m in config.get("user_messages", [])
        ]
        return web.json_response({"ok": True, "user_messages": posted})

    async def _list_calls(self, request: web.Request) -> web.Response:
        """Every call's method and the monotonic time it arrived (``?method=`` one method),
        with what it was sent to (``channel``, ``user_id``), for a benchmark in another
        process on this machine."""
        method = request.query.get("method")
        return web.json_response(
            {
                "calls": [
                    {"method": c.method, "channel": c.args.get("channel") or c.args.get("user_id")}
                    for c in self.calls
                    if method is None or c.method == method
                ],
                "arrivals": [[t, m] for t, m in self.arrived_at if method is None or m == method],
            }
        )

    # ----------------------------------------------------------------- response_url
    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        problems = message_problems(body.get("blocks"))
        if problems:  # inferred: response_url refuses what chat.postMessage refuses
            self.refused_blocks.append(("response_url", problems))
            return web.Response(status=400, text="invalid_blocks")
        self.responses.append({"key": request.match_info["key"], **body})
        await self._notify()
        return web.Response(text="ok")

    # ----------------------------------------------------------------- Socket Mode
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self._sockets.append(ws)
        await self._notify()
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}}
        )
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            envelope_id = data.get("envelope_id")
            if envelope_id:
                self.acks[envelope_id] = data
                waiter = self._ack_waiters.pop(envelope_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(data)
                await self._notify()
        if ws in self._sockets:
            self._sockets.remove(ws)
        return ws

    async def send_envelope(
        self, kind: str, payload: dict[str, Any], limit: float = 5.0
    ) -> dict[str, Any]:
        """Deliver a Socket Mode envelope to the connected app; return its ack."""
        await self.wait_for(lambda: self._sockets, limit)
        envelope_id = f"env-{next(self._ts)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._ack_waiters[envelope_id] = future
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
            }
        )
        return await asyncio.wait_for(future, limit)
