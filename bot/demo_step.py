"""``python -m bot demo --step '{"name": ...}'``: a run of the Workflow Builder step offline.

The Slack fake starts a run of ``create_b2c_task`` with these inputs, as Slack does when a
workflow reaches the step, and delivers its ``function_executed`` event to the bot over signed
HTTP; the embedded sandbox plays Oracle. Printed: what the bot sent to Oracle, what it posted,
and how the step ended (its outputs, or its error) — what the workflow's next step receives.
"""

from __future__ import annotations

import json
import tempfile
import time
from typing import Any, TextIO

import httpx

from bot.demo import offline_bot, oracle_calls, print_calls, signed_headers, slack_calls
from bot.server import EVENTS_PATH
from bot.standins.slack_fake import SlackFake
from bot.workflow.definition import FUNCTION
from bot.workflow.inputs import CALLBACK_ID, INPUTS


def read_step_inputs(text: str) -> dict[str, Any] | str:
    """The inputs given on the command line, or what is wrong with them (one line)."""
    try:
        inputs = json.loads(text)
    except ValueError as error:
        return f"--step needs a JSON object of the step's inputs ({error.msg})"
    if not isinstance(inputs, dict):
        return '--step needs a JSON object of the step\'s inputs, like {"name": "Call back"}'
    unknown = [name for name in inputs if name not in INPUTS]
    if unknown:
        return f"the step has no input {', '.join(unknown)}; its inputs are: {', '.join(INPUTS)}"
    return inputs


async def run_step_demo(text: str, *, as_json: bool = False, out: TextIO) -> int:
    inputs = read_step_inputs(text)
    if isinstance(inputs, str):
        out.write(f"error: {inputs}\n")
        return 2
    with tempfile.TemporaryDirectory() as workdir:
        report = await _run(inputs, workdir)
    if as_json:
        out.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    else:
        _print(report, out)
    return 0 if report["ended"]["state"] == "completed" else 1


async def _run(inputs: dict[str, Any], workdir: str) -> dict[str, Any]:
    slack = SlackFake()
    slack.functions.definitions = {CALLBACK_ID: FUNCTION}  # as manifest.yaml declares it
    async with offline_bot(workdir, slack) as (runtime, port, secret):
        event = slack.functions.start(CALLBACK_ID, inputs)
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": "T1",
                "api_app_id": "A1",
                "event_id": "EvSTEP",
                "event_time": int(time.time()),
                "event": event,
            }
        )
        headers = {**signed_headers(secret, body), "Content-Type": "application/json"}
        async with httpx.AsyncClient() as http:
            started = time.perf_counter()
            response = await http.post(
                f"http://127.0.0.1:{port}{EVENTS_PATH}", content=body, headers=headers
            )
            ack_ms = (time.perf_counter() - started) * 1000
        execution = slack.functions.executions[event["function_execution_id"]]
        await slack.wait_for(lambda: execution.state != "running", 30)
        await runtime.creator.wait_idle()
        sandbox = runtime.sandbox
        assert sandbox is not None
        return {
            "inputs": inputs,
            "ack": {"status": response.status_code, "ms": ack_ms},
            "oracle": oracle_calls(sandbox.requests),
            "slack": slack_calls(slack.calls),
            "ended": {
                "state": execution.state,
                "outputs": execution.outputs,
                "error": execution.error,
            },
        }


def _print(report: dict[str, Any], out: TextIO) -> None:
    out.write(
        f"Slack → bot: function_executed, step {CALLBACK_ID} with "
        f"{json.dumps(report['inputs'], ensure_ascii=False)}\n"
    )
    out.write(f"bot → Slack: HTTP {report['ack']['status']} ack in {report['ack']['ms']:.0f} ms\n")
    print_calls(report["oracle"], report["slack"], out)
    ended = report["ended"]
    if ended["state"] == "completed":
        out.write("\nbot → Slack: functions.completeSuccess (the step's outputs)\n")
        for name, value in (ended["outputs"] or {}).items():
            out.write(f"  {name}: {value}\n")
    else:
        out.write("\nbot → Slack: functions.completeError (shown to whoever ran the workflow)\n")
        out.write(f"  {ended['error']}\n")
