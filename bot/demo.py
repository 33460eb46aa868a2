"""``python -m bot demo "/task ..."``: the whole path offline.

The embedded sandbox plays Oracle, a local Slack fake plays Slack, and the bot runs exactly as in
HTTP mode: the command is signed as Slack signs it and sent over HTTP. What the bot sent to
Oracle and posted to Slack is then printed readably (or as JSON with ``--json``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, TextIO
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.app import Runtime, build_runtime
from bot.domain.grammar import GrammarError, parse
from bot.domain.slack_text import escape, to_plain
from bot.server import EVENTS_PATH, start_http
from bot.settings import Mode, Settings
from bot.standins.sandbox import API, SEED_TASKS
from bot.standins.slack_fake import DEFAULT_USERS, SlackFake

DEMO_USER = "U1"  # Jane Doe, America/New_York, in the Slack fake
DEMO_COMMAND = "/task"  # the command manifest.yaml gives the app (Slack sends it no other)


_TOKEN = re.compile(r"<(?:[@#!][^<>\s]*|(?:https?|mailto):[^<>\s]*)>")
_AT_NAME = re.compile(r"(?<![\w@])@([a-z][\w.-]*)")
_USER_IDS = {user["name"]: user_id for user_id, user in DEFAULT_USERS.items()}


def mention_users(text: str) -> str:
    """``@jane`` as Slack sends it when jane is a member: ``<@U1|jane>`` (the Slack fake's
    users; any other @word is left as typed, as Slack does)."""
    return _AT_NAME.sub(
        lambda m: (
            f"<@{_USER_IDS[m.group(1)]}|{m.group(1)}>" if m.group(1) in _USER_IDS else m.group(0)
        ),
        text,
    )


def as_slack_sends(text: str) -> str:
    """Typed text as Slack sends it with escaping on: ``&``, ``<``, ``>`` entity-encoded, except
    mention and link tokens written in Slack's own form (``<@U2>``, ``<#C1|general>``)."""
    parts, last = [], 0
    for match in _TOKEN.finditer(text):
        parts.append(escape(text[last : match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(escape(text[last:]))
    return "".join(parts)


def slash_form(
    command_line: str,
    *,
    response_url: str,
    user: str = DEMO_USER,
    channel: str = "C0DEMO",
    channel_name: str = "support",
) -> dict[str, str]:
    """The form Slack posts for a command typed as ``command_line`` (escaped as Slack does)."""
    line = command_line.strip()
    command, _, text = line.partition(" ") if line.startswith("/") else ("/task", "", line)
    return {
        "token": "legacy-unused",
        "team_id": "T1",
        "team_domain": "demo",
        "channel_id": channel,
        "channel_name": channel_name,
        "user_id": user,
        "user_name": "jane",
        "command": command,
        "text": as_slack_sends(text.strip()),
        "api_app_id": "A1",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{int(time.time())}.{secrets.randbelow(10**9)}.demo",
    }


def signed_headers(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers exactly as Slack sends them with a request body."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


_NAMES = {user_id: user["real_name"] for user_id, user in DEFAULT_USERS.items()}


_DATE = re.compile(r"<!date\^(\d+)\^[^|>]*\|[^>]*>")


def _plain(text: str) -> str:
    """Text as the demo user reads it in Slack: names for mentions, dates in their zone."""
    zone = ZoneInfo(DEFAULT_USERS[DEMO_USER]["tz"])

    def local(found: re.Match[str]) -> str:
        moment = datetime.fromtimestamp(int(found[1]), zone)
        return moment.strftime("%a %-d %b %Y %H:%M")

    return to_plain(_DATE.sub(local, text), _NAMES)


def _block_lines(blocks: list[dict[str, Any]] | None, fallback: str) -> list[str]:
    if not blocks:
        return [_plain(fallback)]
    lines: list[str] = []
    for block in blocks:
        if block.get("text"):
            lines.append(_plain(block["text"]["text"]))
        for item in block.get("fields", []):
            lines.append("  " + _plain(item["text"]).replace("\n", ": ", 1))
        for element in block.get("elements", []):
            if element.get("type") == "button":
                link = f" → {element['url']}" if element.get("url") else ""
                lines.append(f"  [{element['text']['text']}]{link}")
            elif element.get("type") == "static_select":
                lines.append(f"  [{element['placeholder']['text']} ▾]")
            elif element.get("text"):
                lines.append("  " + _plain(element["text"]))
    return lines


def _print_readable(report: dict[str, Any], out: TextIO) -> None:
    ack = report["ack"]
    out.write(f"Slack → bot: {report['command']}\n")
    out.write(f"bot → Slack: HTTP {ack['status']} ack in {ack['ms']:.0f} ms\n")
    if ack["body"]:
        out.write("  (ephemeral, only the requester sees it)\n")
        for line in _block_lines(ack["body"].get("blocks"), ack["body"].get("text", "")):
            out.write(f"  {line}\n")
    print_calls(report["oracle"], report["slack"], out)
    for response in report["response_url"]:
        out.write("\nbot → Slack: response_url (ephemeral)\n")
        for line in _block_lines(response.get("blocks"), response.get("text", "")):
            out.write(f"  {line}\n")
    for step in report.get("round_trip", []):
        out.write(f"\n— {step['what']} —\n")
        print_calls(step["oracle"], step["slack"], out)


def print_calls(oracle: list[dict[str, Any]], slack: list[dict[str, Any]], out: TextIO) -> None:
    for request in oracle:
        out.write(f"\nbot → Oracle: {request['method']} {API}{request['path']}\n")
        out.write(f"  OSvC-CREST-Application-Context: {request['app_context']}\n")
        if request.get("query"):
            out.write(f"  ROQL: {request['query']}\n")
        if request["body"] is not None:
            body = json.dumps(request["body"], indent=2, ensure_ascii=False)
            out.write("  " + body.replace("\n", "\n  ") + "\n")
        answer = request.get("answer")
        if answer and "items" in answer:
            for table in answer["items"]:
                out.write(f"  Oracle → bot: {table['count']} row(s) {table['rows']}\n")
        elif answer and "detail" in answer:
            out.write(f"  Oracle → bot: {answer['status']} {answer['detail']}\n")
        elif answer:
            out.write(f"  Oracle → bot: {answer['status']} {_brief(answer.get('body'))}\n")
    for call in slack:
        if call["method"].startswith("views."):
            labels = [b["label"]["text"] for b in call.get("blocks") or [] if b.get("label")]
            out.write(f"\nbot → Slack: {call['method']}, a form: {', '.join(labels)}\n")
            continue
        where = call["channel"] + (
            f" (thread {call['thread_ts']})" if call.get("thread_ts") else ""
        )
        out.write(f"\nbot → Slack: {call['method']} in {where}\n")
        if call["method"] == "reactions.add":
            out.write(f"  :{call['text']}: on message {call['ts']}\n")
            continue
        for line in _block_lines(call.get("blocks"), call.get("text", "")):
            out.write(f"  {line}\n")


def _brief(body: Any, most: int = 300) -> str:
    """An Oracle answer in a line: its JSON without the links, shortened."""

    def bare(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: bare(v) for k, v in value.items() if k != "links"}
        if isinstance(value, list):
            return [bare(v) for v in value]
        return value

    text = json.dumps(bare(body), ensure_ascii=False) if body is not None else "(no body)"
    return text if len(text) <= most else text[: most - 1] + "…"


async def run_demo(
    command_line: str,
    *,
    as_json: bool = False,
    out: TextIO = sys.stdout,
    round_trip: bool = False,
) -> int:
    command = command_line.strip().split(None, 1)[0] if command_line.strip() else ""
    if command.startswith("/") and command != DEMO_COMMAND:
        said = (
            f"{command} is not this app's command: its manifest names {DEMO_COMMAND}, and Slack "
            f"sends an app only its own commands (in Slack, {command} goes to whichever app or "
            f"built-in owns it). Try {DEMO_COMMAND} {command_line.strip()[len(command) :].strip()}"
        ).rstrip()
        if as_json:
            out.write(json.dumps({"command": command_line, "not_sent": said}) + "\n")
        else:
            out.write(f"Slack → bot: nothing. {said}\n")
        return 1
    with tempfile.TemporaryDirectory() as workdir:
        return await _run_demo(command_line, as_json, out, workdir, round_trip)


@contextlib.asynccontextmanager
async def offline_bot(workdir: str, slack: SlackFake) -> AsyncIterator[tuple[Runtime, int, str]]:
    """The bot in HTTP mode against ``slack`` (started here) and the embedded sandbox, served
    on a free local port: (its runtime, the port, its signing secret); all stopped after."""
    await slack.start()
    secret = secrets.token_hex(16)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-demo",
        slack_signing_secret=secret,
        slack_api_url=slack.api_url,
        journal_path=os.path.join(workdir, "journal.sqlite3"),
    )
    runtime = await build_runtime(settings, Mode.HTTP, use_sandbox=True)
    runner, port = await start_http(runtime, "127.0.0.1", 0)
    try:
        yield runtime, port, secret
    finally:
        await runner.cleanup()
        await runtime.close()
        await slack.stop()


async def _run_demo(
    command_line: str, as_json: bool, out: TextIO, workdir: str, round_trip: bool = False
) -> int:
    slack = SlackFake()
    async with offline_bot(workdir, slack) as (runtime, port, secret):
        form = slash_form(mention_users(command_line), response_url=slack.response_url("demo"))
        body = urlencode(form)
        async with httpx.AsyncClient() as http:
            started = time.perf_counter()
            response = await http.post(
                f"http://127.0.0.1:{port}{EVENTS_PATH}",
                content=body,
                headers=signed_headers(secret, body),
            )
            ack_ms = (time.perf_counter() - started) * 1000
        await runtime.creator.wait_idle()
        sandbox = runtime.sandbox
        assert sandbox is not None
        report = {
            "command": command_line,
            "ack": {
                "status": response.status_code,
                "ms": ack_ms,
                "body": response.json() if response.content else None,
            },
            "oracle": oracle_calls(sandbox.requests),
            "slack": slack_calls(slack.calls),
            "response_url": slack.responses,
            "tasks_created": sorted(set(sandbox.tasks) - set(SEED_TASKS)),
        }
        if round_trip and report["tasks_created"]:
            report["round_trip"] = await _round_trip(
                runtime, slack, port, secret, report["tasks_created"][0]
            )
        subscribed = any(
            str(r.get("text", "")).startswith("Subscribed") for r in report["response_url"]
        )
        if subscribed:  # what it leads to: an agent's matching task, then its change
            report["round_trip"] = await _subscription_steps(runtime, slack)
    if as_json:
        out.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    else:
        _print_readable(report, out)
    return _exit_code(form["text"], report)


def oracle_calls(requests: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "method": r.method,
            "path": r.path,
            "query": r.query.get("query"),
            "body": r.body,
            "answer": r.answer,
            "app_context": r.headers.get("OSvC-CREST-Application-Context"),
        }
        for r in requests
    ]


def slack_calls(calls: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "method": c.method,
            "channel": c.args.get("channel"),
            "thread_ts": c.args.get("thread_ts"),
            "ts": c.args.get("ts") or c.args.get("timestamp"),
            "text": c.args.get("text", "") or c.args.get("name", ""),
            "blocks": c.args.get("blocks") or (c.args.get("view") or {}).get("blocks"),
        }
        for c in calls
        if c.method.startswith(("chat.", "views.", "reactions."))
    ]


async def _recorded(
    sandbox: Any, slack: SlackFake, what: str, action: Any, then: Any
) -> dict[str, Any]:
    """One step of a demo's story: ``action``, then ``then`` (what lets its effects land),
    and the Oracle and Slack calls both made."""
    oracle_before, slack_before = len(sandbox.requests), len(slack.calls)
    await action()
    await then()
    return {
        "what": what,
        "oracle": oracle_calls(sandbox.requests[oracle_before:]),
        "slack": slack_calls(slack.calls[slack_before:]),
    }


async def _round_trip(
    runtime: Any, slack: SlackFake, port: int, secret: str, task_id: int
) -> list[dict[str, Any]]:
    """Synced threads, both ways: an agent changes the task in B2C Service (the poller tells
    the thread), then someone replies in the thread (it becomes a note)."""
    sandbox, sync = runtime.sandbox, runtime.sync
    steps: list[dict[str, Any]] = []
    if sync is None:
        return steps
    [parent] = [m for m in slack.top_messages() if f"#{task_id}" in m.text] or [None]
    if parent is None:
        return steps

    async def step(what: str, action: Any) -> None:
        steps.append(await _recorded(sandbox, slack, what, action, runtime.creator.wait_idle))

    async def agent_changes() -> None:
        in_progress = next(
            status_id
            for status_id, name in sandbox.named_ids["status"].items()
            if name == "In Progress"
        )
        sandbox.agent_edit(
            task_id,
            {
                "statusWithType": {"status": {"id": in_progress}},
                "notes": [{"text": "Called the customer, no answer yet."}],
            },
        )
        await sync.poll_once()

    async def someone_replies() -> None:
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": "T0DEMO",
                "event_id": "EvDEMO",
                "event": {
                    "type": "message",
                    "channel": parent.channel,
                    "user": "U2",
                    "text": "They called back: the invoice is paid.",
                    "ts": f"{time.time():.6f}",
                    "thread_ts": parent.ts,
                },
            }
        )
        async with httpx.AsyncClient() as http:
            await http.post(
                f"http://127.0.0.1:{port}{EVENTS_PATH}",
                content=body,
                headers={**signed_headers(secret, body), "Content-Type": "application/json"},
            )

    await step(
        "In B2C Service, an agent sets the task In Progress and adds a note (the poller's round)",
        agent_changes,
    )
    await step("In Slack, Sam replies in the task's thread", someone_replies)
    return steps


async def _subscription_steps(runtime: Any, slack: SlackFake) -> list[dict[str, Any]]:
    """After ``/task subscribe``: an agent creates a task that matches in B2C Service (the
    poller's round: its card in the channel), then sets it In Progress (a line in the card's
    thread, the card redrawn)."""
    sandbox, sync = runtime.sandbox, runtime.sync
    feed = sync.followers[0].__self__
    feed.per_second = 1000.0  # (no other channel posts to wait for)
    [subscription] = (await feed.store.all())[-1:]
    await sync.poll_once()  # the first round: it starts from now
    steps: list[dict[str, Any]] = []
    made: list[int] = []

    async def next_round() -> None:
        sandbox.later()
        await sync.poll_once()

    async def step(what: str, action: Any) -> None:
        steps.append(await _recorded(sandbox, slack, what, action, next_round))

    async def agent_creates() -> None:
        made.append(sandbox.agent_create(_matching(subscription.conditions)))

    async def agent_changes() -> None:
        in_progress = next(i for i, n in sandbox.named_ids["status"].items() if n == "In Progress")
        sandbox.agent_edit(made[0], {"statusWithType": {"status": {"id": in_progress}}})

    await step(
        "In B2C Service, an agent creates a task that matches (the poller's round)", agent_creates
    )
    await step("In B2C Service, the agent sets it In Progress (the next round)", agent_changes)
    return steps


def _matching(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    """A new task's fields that meet a subscription's conditions (a negated condition is met
    by leaving its field out)."""
    paths = {
        "priority": "priority",
        "type": "taskType",
        "template": "taskTemplate",
        "org": "organization",
        "contact": "contact",
        "assign": "assignedToAccount",
    }
    fields: dict[str, Any] = {"name": "Replacement part for Acme"}
    for condition in conditions:
        if condition.get("negated") or not condition["values"]:
            continue
        value = condition["values"][0]
        if condition["field"] == "status":
            fields["statusWithType"] = {"status": {"id": value["id"]}}
        else:
            fields[paths[condition["field"]]] = {"id": value["id"]}
    return fields


def _exit_code(text: str, report: dict[str, Any]) -> int:
    """0 when the command did what it asks: a task created; help, show, mine or the form
    answered. 1 for a mistake or a task not created."""
    try:
        kind = parse(text).kind
    except GrammarError:
        return 1
    if kind == "create":
        return 0 if report["tasks_created"] else 1
    if kind == "subscribe":
        said = [str(r.get("text", "")) for r in report["response_url"]]
        return 0 if any(text.startswith("Subscribed") for text in said) else 1
    if kind == "defaults":  # set, shown or cleared: said privately, with no warning
        said = " ".join(r.get("text", "") for r in report["response_url"])
        return 0 if said and ":warning:" not in said else 1
    return 0 if report["ack"]["status"] == 200 else 1


def main(command_line: str, as_json: bool, round_trip: bool = False) -> int:
    return asyncio.run(run_demo(command_line, as_json=as_json, round_trip=round_trip))
