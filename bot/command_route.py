"""Slash commands over HTTP, straight to their listener.

A burst of slash commands is acked one after the other on one event loop, so each ack's cost
adds to the wait of every command behind it. Bolt's dispatch (its request object and context,
its middleware chain, listener matching) measured about a third of an ack's time here (burst of
200: ack p99 66-72 ms through Bolt, 43-58 ms without); a slash command needs only the signature
check, the allow-lists and its listener, which this route runs with Bolt's and slack_sdk's own
parts (``SignatureVerifier``, ``parse_body``, ``AsyncAck``). Everything else (interactivity,
SSL checks, a bad or missing signature, Socket Mode) goes through Bolt as before. Message events
(replies in task threads) and reactions (emoji tasks) take the same short way: a burst of
replies or reactions is acked as fast as a burst of commands.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.internals import parse_body
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.slack import deliveries
from bot.slack.access import Gate
from handlers.access import command_refusal
from handlers.commands import CommandListener
from handlers.events import EventListener

log = logging.getLogger(__name__)
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class CommandRoute:
    def __init__(
        self,
        signing_secret: str,
        listener: CommandListener,
        gate: Gate,
        events: dict[str, EventListener] | None = None,
    ) -> None:
        self.verifier = SignatureVerifier(signing_secret)
        self.listener = listener
        self.gate = gate
        # events acked as fast as commands: thread replies (message), emoji tasks (reactions)
        self.events = events or {}

    def _signed(self, body: str, headers: Mapping[str, str]) -> bool:
        """Whether Slack signed this request (slack_sdk's check, which raises on a missing or
        malformed timestamp instead of saying no)."""
        try:
            return self.verifier.is_valid(
                body,
                headers.get("x-slack-request-timestamp", ""),
                headers.get("x-slack-signature", ""),
            )
        except ValueError:
            return False

    async def answer(self, body: str, headers: Mapping[str, str]) -> BoltResponse | None:
        """The answer to a signed slash command (or message event); None for anything Bolt
        should handle."""
        stamp = headers.get("x-slack-request-timestamp", "")
        if stamp and not (
            stamp.isascii() and stamp.isdigit()
        ):  # Bolt's own check would raise on it (a 500)
            log.warning("refused a request whose timestamp is not a number of seconds")
            return BoltResponse(status=401)
        refused = self._malformed(body, headers)
        if refused is not None:
            return refused
        if headers.get("content-type", "").startswith(JSON) and '"event_callback"' in body:
            return await self._event(body, headers)
        if not headers.get("content-type", "").startswith(FORM) or "command=" not in body:
            return None
        if not self._signed(body, headers):
            return None  # Bolt answers 401 (and logs it)
        command = parse_body(body, FORM)
        if "command" not in command or "ssl_check" in command:  # (a payload: parsed as one)
            return None
        problem = deliveries.command_problem(command)
        if problem is not None:
            log.warning("refused a malformed delivery from Slack: %s", problem)
            return BoltResponse(status=400, body="")
        refusal = await command_refusal(self.gate, command)
        if refusal is not None:
            return refusal
        ack = AsyncAck()
        try:
            await self.listener(ack, command)
        except Exception:  # as Bolt does: log it, and answer 500
            log.exception("the slash command's listener failed")
            return BoltResponse(status=500)
        return ack.response or BoltResponse(status=200)

    def _malformed(self, body: str, headers: Mapping[str, str]) -> BoltResponse | None:
        """A signed delivery without the shape its listener reads: an event is answered with
        the empty 200 Slack expects (else it sends it again), anything else with a 400; one
        WARNING line says what was wrong. None for a well-formed one (or an unsigned one:
        Bolt answers that 401)."""
        content_type = headers.get("content-type", "")
        if content_type.startswith(JSON):
            try:
                delivery: Any = json.loads(body)
            except ValueError:
                delivery = None
            problem = deliveries.event_problem(delivery) if delivery is not None else None
            problem = problem or (None if delivery is not None else "the body is not JSON")
            status = 200
        elif content_type.startswith(FORM) and "payload=" in body:
            raw = parse_qs(body).get("payload", [""])[0]
            try:
                problem = deliveries.interactive_problem(json.loads(raw))
            except ValueError:
                problem = "the payload is not JSON"
            status = 400
        else:
            return None
        if problem is None or not self._signed(body, headers):
            return None
        log.warning("refused a malformed delivery from Slack: %s", problem)
        return BoltResponse(status=status, body="")

    async def _event(self, body: str, headers: Mapping[str, str]) -> BoltResponse | None:
        """A message event (a reply in a task's thread) or a reaction (an emoji task):
        journaled, then acked, as a command is; any other event, and a bad signature, go to
        Bolt."""
        if not self.events or not self._signed(body, headers):
            return None
        payload = json.loads(body)
        event = payload.get("event") or {}
        listener = self.events.get(event.get("type"))
        if payload.get("type") != "event_callback" or listener is None:
            return None
        try:
            await listener(event=event, body=payload)
        except Exception:  # as Bolt does: log it, and answer 500 (Slack will retry)
            log.exception("the %s event's listener failed", event.get("type"))
            return BoltResponse(status=500)
        return BoltResponse(status=200)
