"""The Slack fake's custom steps (Workflow Builder "functions"): a run started as Slack starts
it (the ``function_executed`` event), and ``functions.completeSuccess`` / ``completeError``
answered as Slack answers them. Used by ``bot.standins.slack_fake``.

Each rule says where it comes from. Slack's references: the ``function_executed`` event, the
``functions.completeSuccess`` and ``functions.completeError`` methods (their arguments and
errors), and the token page (a workflow token starts with ``xwfp-``).
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# (the type names Slack gives step parameters) -> what a value of it is, in JSON
_KINDS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}
# inferred: Slack says only "short-lived"; a secondary source says 15 minutes
TOKEN_LIFETIME = 900.0


@dataclass
class Execution:
    """One run of a step, from its start to its completion."""

    callback_id: str
    inputs: dict[str, Any]
    token: str
    started: float = field(default_factory=time.monotonic)
    state: str = "running"  # running, completed, failed
    outputs: dict[str, Any] | None = None
    error: str | None = None


class SlackFunctions:
    def __init__(self) -> None:
        # callback_id -> its definition, as the app's manifest declares it (the caller's)
        self.definitions: dict[str, dict[str, Any]] = {}
        self.executions: dict[str, Execution] = {}
        self.token_lifetime = TOKEN_LIFETIME
        self._ids = itertools.count(1)

    def start(self, callback_id: str, inputs: dict[str, Any], app_id: str = "A1") -> dict[str, Any]:
        """A new run: the ``function_executed`` event Slack sends for it (Slack doc: the event's
        fields; ``inputs`` holds only the inputs the workflow set)."""
        number = next(self._ids)
        execution_id = f"Fx{number:010d}"
        token = f"xwfp-{number}-{secrets.token_hex(16)}"  # Slack doc (tokens): xwfp- prefix
        self.executions[execution_id] = Execution(callback_id, dict(inputs), token)
        definition = self.definitions.get(callback_id, {})

        def parameters(side: str) -> list[dict[str, Any]]:
            declared = definition.get(side) or {}
            required = set(declared.get("required") or [])
            return [
                {"name": name, "is_required": name in required, **spec}
                for name, spec in (declared.get("properties") or {}).items()
            ]

        return {
            "type": "function_executed",
            "function": {
                "id": f"Fn{number:010d}",
                "callback_id": callback_id,
                "title": definition.get("title", callback_id),
                "description": definition.get("description", ""),
                "type": "app",
                "input_parameters": parameters("input_parameters"),
                "output_parameters": parameters("output_parameters"),
                "app_id": app_id,
                "date_created": 1700000000,
                "date_updated": 1700000000,
                "date_deleted": 0,
            },
            "inputs": dict(inputs),
            "function_execution_id": execution_id,
            "workflow_execution_id": f"Wx{number:010d}",
            "event_ts": f"{time.time():.6f}",
            "bot_access_token": token,
        }

    def _running(self, args: dict[str, Any], token: str | None) -> Execution | dict[str, Any]:
        execution = self.executions.get(str(args.get("function_execution_id") or ""))
        if execution is None:
            # Slack doc (both methods): function_execution_not_found
            return {"ok": False, "error": "function_execution_not_found"}
        if token != execution.token:
            # Slack doc: access_denied, "This actor does not have access to this function
            # execution"; that the bot's own token gets it is inferred (the doc asks for the
            # workflow token)
            return {"ok": False, "error": "access_denied"}
        if time.monotonic() - execution.started > self.token_lifetime:
            # inferred: a spent workflow token is refused as any expired token is
            return {"ok": False, "error": "token_expired"}
        if execution.state != "running":
            # Slack doc (both methods): execution_not_in_running_state
            return {"ok": False, "error": "execution_not_in_running_state"}
        return execution

    def complete_success(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        execution = self._running(args, token)
        if isinstance(execution, dict):
            return execution
        outputs = args.get("outputs")
        if isinstance(outputs, str):  # a form-encoded call carries it as JSON text
            try:
                outputs = json.loads(outputs)
            except ValueError:
                outputs = None
        problems = self._output_problems(execution.callback_id, outputs)
        if problems:
            # Slack doc (completeSuccess): parameter_validation_failed, "problems when
            # validating the outputs against the Function parameters"
            return {
                "ok": False,
                "error": "parameter_validation_failed",
                "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
            }
        execution.state, execution.outputs = "completed", outputs
        return {"ok": True}

    def complete_error(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        execution = self._running(args, token)
        if isinstance(execution, dict):
            return execution
        error = args.get("error")
        if not isinstance(error, str) or not error.strip():
            # Slack doc (common errors): a required argument missing
            return {"ok": False, "error": "invalid_arguments"}
        execution.state, execution.error = "failed", error
        return {"ok": True}

    def _output_problems(self, callback_id: str, outputs: Any) -> list[str]:
        """What Slack's check of the outputs against the manifest's output_parameters finds."""
        if not isinstance(outputs, dict):
            return ["outputs must be an object"]
        declared = self.definitions.get(callback_id, {}).get("output_parameters") or {}
        properties = declared.get("properties") or {}
        problems = [
            f"missing required output {name}"
            for name in declared.get("required") or []
            if name not in outputs
        ]
        for name, value in outputs.items():
            spec = properties.get(name)
            if spec is None:
                problems.append(f"unknown output {name}")
            elif not _KINDS.get(spec.get("type", ""), lambda v: isinstance(v, str))(value):
                problems.append(f"output {name} is not of type {spec.get('type')}")
        return problems
