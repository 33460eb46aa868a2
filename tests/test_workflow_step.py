"""The Workflow Builder step "Create B2C Service task", driven as Slack drives it: a
``function_executed`` event (signed HTTP, or a Socket Mode envelope) for a run the Slack fake
started, and what reaches the B2C sandbox and the Slack fake (``functions.completeSuccess`` /
``completeError`` with the run's workflow token, the task message in the step's channel)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.standins.sandbox import B2CSandbox, Fault
from bot.standins.slack_fake import SlackFake
from bot.standins.slack_functions import Execution
from bot.workflow.definition import FUNCTION, difference
from bot.workflow.inputs import CALLBACK_ID, INPUTS, OUTPUTS
from tests.conftest import KNOWN_SECRETS, Bot, make_settings, serving, socket_mode_bot

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = yaml.safe_load((ROOT / "manifest.yaml").read_text())


@pytest.fixture(autouse=True)
def declared(slack: SlackFake) -> None:
    """The Slack fake knows the step as the app's manifest declares it (manifest.yaml)."""
    slack.functions.definitions = MANIFEST["functions"]


async def run_step(bot: Bot, inputs: dict[str, Any], *, retry: int = 0) -> Execution:
    """Start a run as Slack does, deliver its event, and wait until Slack was told its end."""
    event = bot.slack.functions.start(CALLBACK_ID, inputs)
    KNOWN_SECRETS.add(event["bot_access_token"])  # the run's logs must never hold it
    assert await bot.event(event) == 200
    execution = bot.slack.functions.executions[event["function_execution_id"]]
    await bot.slack.wait_for(lambda: execution.state != "running", 20)
    await bot.finished()
    return execution


def completions(slack: SlackFake) -> list[Any]:
    return [c for c in slack.calls if c.method.startswith("functions.")]


# ------------------------------------------------------------------ the manifest
def test_manifest_declares_the_step_as_the_bot_reads_it() -> None:
    assert MANIFEST["functions"][CALLBACK_ID] == FUNCTION
    assert difference(MANIFEST) is None
    assert list(FUNCTION["input_parameters"]["properties"]) == list(INPUTS)
    assert tuple(FUNCTION["output_parameters"]["properties"]) == OUTPUTS
    assert MANIFEST["settings"]["org_deploy_enabled"] is True


@pytest.mark.parametrize(
    ("manifest", "said"),
    [
        ({}, "declares no functions.create_b2c_task"),
        ({"functions": {"other": {}}}, "declares no functions.create_b2c_task"),
        (
            {"functions": {CALLBACK_ID: {"input_parameters": {"properties": {}}}}},
            "lacks the input_parameters name, contact",
        ),
    ],
)
def test_a_manifest_without_the_step_is_told_apart(manifest: dict[str, Any], said: str) -> None:
    assert said in (difference(manifest) or "")


def test_a_manifest_not_deployed_to_the_organization_is_told_apart() -> None:
    manifest = {**MANIFEST, "settings": {**MANIFEST["settings"], "org_deploy_enabled": False}}
    assert "org_deploy_enabled" in (difference(manifest) or "")


# ------------------------------------------------------------------ good inputs
async def test_a_run_creates_the_task_and_finishes_the_step_with_its_outputs(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    execution = await run_step(
        bot,
        {
            "name": "Replacement part request",
            "contact": "83",
            "priority": "high",
            "due": "2026-12-24 17:00",
            "note": "Customer <Mary> & the 3rd unit",
            "channel": "C1",
            "requester": "U1",
        },
    )
    [task] = sandbox.tasks.values()
    assert task["name"] == "Replacement part request"
    assert task["contact"]["id"] == 83
    assert task["priority"]["id"] == 3  # the site's "High", named as /task names it
    assert task["dueTime"] == "2026-12-24T22:00:00.000Z"  # 17:00 in the requester's zone
    [create] = sandbox.requests_to("POST", "/tasks")
    notes = [n["text"] for n in create.body["notes"]]
    assert "Customer <Mary> & the 3rd unit" in notes
    assert "Created from Slack by Jane Doe in a Workflow Builder step" in notes
    assert execution.state == "completed"
    assert execution.outputs == {
        "task_id": task["id"],
        "task_url": bot.runtime.creator.link(task["id"]),
        "status": "Not Started",
    }
    [call] = completions(slack)
    assert call.method == "functions.completeSuccess"
    assert call.token == execution.token  # the workflow token, as Slack requires
    [parent] = slack.top_messages("C1")
    assert f"#{task['id']}" in parent.text and "<@U1>" in json.dumps(parent.blocks)
    [reply] = slack.thread_replies("C1", parent.ts)
    assert f"Task #{task['id']} created" in reply.text
    [entry] = await bot.runtime.journal.all()
    assert (entry.kind, entry.state, entry.delivery) == ("workflow", "created", "thread")
    assert await bot.runtime.step.runs.token(entry.request["function_execution_id"]) is None
    # the thread follows the task like any other: a change in B2C Service is told there
    in_progress = next(i for i, n in sandbox.named_ids["status"].items() if n == "In Progress")
    sandbox.agent_edit(task["id"], {"statusWithType": {"status": {"id": in_progress}}})
    assert bot.runtime.sync is not None
    await bot.runtime.sync.poll_once()
    lines = [m.text for m in slack.thread_replies("C1", parent.ts)]
    assert any("In Progress" in line for line in lines[1:]), lines


async def test_a_run_without_a_channel_posts_nothing_and_without_a_requester_names_a_workflow(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    execution = await run_step(bot, {"name": "Weekly check", "priority": "3"})
    [task] = sandbox.tasks.values()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["notes"][0]["text"] == (
        "Created from Slack by a workflow in a Workflow Builder step"
    )
    assert execution.outputs and execution.outputs["task_id"] == task["id"]
    assert not slack.top_messages()
    assert not slack.calls_to("users.info")  # nobody to look up
    [entry] = await bot.runtime.journal.all()
    assert entry.delivery == "workflow"


async def test_a_contact_by_e_mail_and_a_slack_timestamp_due(bot: Bot, sandbox: B2CSandbox) -> None:
    email = sandbox.data["contacts"][83]["email"]
    execution = await run_step(bot, {"name": "Call back", "contact": email, "due": 1798131600})
    [task] = sandbox.tasks.values()
    assert task["contact"]["id"] == 83
    assert task["dueTime"] == "2026-12-24T17:00:00.000Z"
    assert execution.state == "completed"


async def test_an_assignee_given_as_a_slack_user_is_their_staff_account(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await run_step(bot, {"name": "Follow up", "assignee": "U2", "channel": "C1"})
    [task] = sandbox.tasks.values()
    assert task["assignedToAccount"]["id"] == 3  # Sam Agent's staff account, by e-mail
    assert slack.calls_to("chat.postMessage")  # the task message, and Sam told in a DM
    assert any(m.channel == "U2" for m in slack.messages.values())


# ------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize(
    ("inputs", "error"),
    [
        ({}, "Task name (name) is required"),
        ({"name": "   "}, "Task name (name) is required"),
        ({"name": "x", "contact": "Mary"}, "Contact (contact) must be a B2C Service contact ID"),
        ({"name": "x", "due": "someday"}, "Due (due): could not read “someday”"),
        ({"name": "x", "due": "04/03"}, "“04/03” could be read day first or month first"),
        ({"name": "x", "incident": "abc"}, "Incident (incident) needs an incident ID"),
        ({"name": "x", "channel": "#support"}, "Post in channel (channel) must be a Slack channel"),
        ({"name": "x", "assignee": "jane"}, "Assignee (assignee) must be a Slack user"),
        ({"name": "x" * 300}, "B2C Service takes at most 240"),
    ],
)
async def test_bad_inputs_fail_the_step_with_a_reason_and_create_nothing(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, inputs: dict[str, Any], error: str
) -> None:
    execution = await run_step(bot, inputs)
    assert execution.state == "failed"
    assert error in (execution.error or "")
    assert execution.error and execution.error.endswith("fix the step's inputs.")
    assert not sandbox.requests_to("POST", "/tasks")
    assert await bot.runtime.journal.all() == []
    [call] = completions(slack)
    assert call.method == "functions.completeError" and call.token == execution.token


async def test_a_value_the_site_does_not_have_fails_the_step_naming_the_sites_values(
    bot: Bot, sandbox: B2CSandbox
) -> None:
    execution = await run_step(bot, {"name": "Urgent call", "priority": "Urgent"})
    assert execution.state == "failed"
    assert "Priority must be one of: Low, Normal, High, Critical (not “Urgent”)" in (
        execution.error or ""
    )
    assert not sandbox.requests_to("POST", "/tasks")


async def test_a_contact_e_mail_no_contact_has_fails_the_step(
    bot: Bot, sandbox: B2CSandbox
) -> None:
    execution = await run_step(bot, {"name": "Call back", "contact": "nobody@example.org"})
    assert execution.state == "failed"
    assert "No single contact in B2C Service has the e-mail nobody@example.org" in (
        execution.error or ""
    )
    assert not sandbox.requests_to("POST", "/tasks")


async def test_oracle_refusing_the_task_fails_the_step_with_oracles_reason(
    bot: Bot, sandbox: B2CSandbox
) -> None:
    execution = await run_step(bot, {"name": "Call back", "contact": "999999"})
    assert execution.state == "failed"
    assert "fix the step's inputs" in (execution.error or "")
    assert not sandbox.tasks


# ------------------------------------------------------------------ once, whatever happens
async def test_a_redelivered_run_makes_one_task_and_finishes_once(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    event = slack.functions.start(CALLBACK_ID, {"name": "Replacement part request"})
    KNOWN_SECRETS.add(event["bot_access_token"])
    sandbox.slow["create"] = 0.5
    assert await bot.event(event) == 200
    assert await bot.event(event, retry=1) == 200  # Slack thought the first went unanswered
    execution = slack.functions.executions[event["function_execution_id"]]
    await slack.wait_for(lambda: execution.state != "running", 20)
    await bot.finished()
    assert await bot.event(event, retry=2) == 200  # and again, after it was finished
    await bot.finished()
    assert len(sandbox.tasks) == 1 and len(sandbox.requests_to("POST", "/tasks")) == 1
    assert [c.method for c in completions(slack)] == ["functions.completeSuccess"]


async def test_the_step_turned_off_refuses_every_run(sandbox: B2CSandbox, slack: SlackFake) -> None:
    settings = make_settings(sandbox, slack, task_workflow_step=False)
    async with serving(settings, slack) as bot:
        execution = await run_step(bot, {"name": "Replacement part request"})
    assert execution.state == "failed"
    assert "TASK_WORKFLOW_STEP=off" in (execution.error or "")
    assert not sandbox.requests_to("POST", "/tasks")


async def test_the_allow_lists_hold_for_the_steps_channel_and_requester(
    sandbox: B2CSandbox, slack: SlackFake
) -> None:
    settings = make_settings(sandbox, slack, allowed_channels="C1", allowed_users="U1")
    async with serving(settings, slack) as bot:
        elsewhere = await run_step(bot, {"name": "a", "channel": "C2", "requester": "U1"})
        stranger = await run_step(bot, {"name": "b", "channel": "C1", "requester": "U4"})
        allowed = await run_step(bot, {"name": "c", "channel": "C1", "requester": "U1"})
    assert "may not post in channel C2 (ALLOWED_CHANNELS)" in (elsewhere.error or "")
    assert "(ALLOWED_USERS)" in (stranger.error or "")
    assert allowed.state == "completed"
    assert [t["name"] for t in sandbox.tasks.values()] == ["c"]


# ------------------------------------------------------------------ Oracle away, restarts
async def test_oracle_away_then_back_within_the_budget_finishes_the_step(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sandbox.inject(Fault(method="POST", path="/tasks", status=503, times=2))
    execution = await run_step(bot, {"name": "Replacement part request", "channel": "C1"})
    assert execution.state == "completed"
    assert len(sandbox.tasks) == 1 and len(sandbox.requests_to("POST", "/tasks")) == 3
    assert [c.method for c in completions(slack)] == ["functions.completeSuccess"]


async def test_oracle_away_past_the_budget_fails_the_step_saying_so(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sandbox.inject(Fault(method="POST", path="/tasks", status=503, times=1000))
    execution = await run_step(bot, {"name": "Replacement part request", "channel": "C1"})
    assert execution.state == "failed"
    assert "kept trying for 5 seconds (B2C_RETRY_BUDGET)" in (execution.error or "")
    assert not sandbox.tasks
    assert not slack.top_messages("C1")  # the run's end is told where it ran, not posted
    [entry] = await bot.runtime.journal.all()
    assert entry.state == "failed"


async def test_a_restart_in_between_finishes_the_run_with_the_kept_token(
    sandbox: B2CSandbox, slack: SlackFake, database_url: str
) -> None:
    settings = make_settings(
        sandbox,
        slack,
        database_url=database_url,
        b2c_retry_budget=30,
        shutdown_grace=0.2,
        b2c_timeout=2,  # (how long a POST cut off by the stop is looked for before resending)
    )
    await sandbox.stop()  # Oracle away when the run arrives
    event = slack.functions.start(CALLBACK_ID, {"name": "Replacement part request"})
    KNOWN_SECRETS.add(event["bot_access_token"])
    async with serving(settings, slack) as first:
        assert await first.event(event) == 200
        await asyncio.sleep(1.0)  # retrying meanwhile; then the bot stops
    execution = slack.functions.executions[event["function_execution_id"]]
    assert execution.state == "running" and not completions(slack)
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    await sandbox.start(port=port)  # Oracle back
    async with serving(settings, slack) as second:  # a new process: its sweep resumes it
        assert await second.runtime.creator.resume() == 1
        await slack.wait_for(lambda: execution.state != "running", 20)
        await second.finished()
    assert execution.state == "completed" and len(sandbox.tasks) == 1
    [call] = completions(slack)
    assert call.token == event["bot_access_token"]


async def test_slack_away_when_finishing_leaves_the_run_for_later_and_finishes_it_once(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    slack.fail("functions.completeSuccess", "internal_error")
    event = slack.functions.start(CALLBACK_ID, {"name": "Replacement part request"})
    KNOWN_SECRETS.add(event["bot_access_token"])
    assert await bot.event(event) == 200
    execution = slack.functions.executions[event["function_execution_id"]]
    await slack.wait_for(lambda: completions(slack), 20)
    await bot.finished()
    assert execution.state == "running"  # Slack did not take it: the journal keeps it
    assert await bot.runtime.creator.resume() == 1  # the sweep's next look
    await slack.wait_for(lambda: execution.state != "running", 20)
    await bot.finished()
    assert len(sandbox.tasks) == 1 and len(sandbox.requests_to("POST", "/tasks")) == 1
    assert [c.error for c in completions(slack)] == ["internal_error", ""]


async def test_a_spent_token_is_not_tried_again(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake, caplog: pytest.LogCaptureFixture
) -> None:
    slack.functions.token_lifetime = 0.0  # Slack no longer takes the token
    event = slack.functions.start(CALLBACK_ID, {"name": "Replacement part request"})
    KNOWN_SECRETS.add(event["bot_access_token"])
    assert await bot.event(event) == 200
    await slack.wait_for(lambda: completions(slack), 20)
    await bot.finished()
    assert await bot.runtime.creator.resume() == 0  # nothing left to try
    assert [c.error for c in completions(slack)] == ["token_expired"]
    assert "would not finish the Workflow Builder step" in caplog.text
    assert event["bot_access_token"] not in caplog.text


# ------------------------------------------------------------------ Socket Mode
async def test_a_run_over_socket_mode(sandbox: B2CSandbox, slack: SlackFake) -> None:
    async with socket_mode_bot(sandbox, slack) as runtime:
        event = slack.functions.start(CALLBACK_ID, {"name": "Replacement part request"})
        KNOWN_SECRETS.add(event["bot_access_token"])
        ack = await slack.send_envelope(
            "events_api",
            {
                "type": "event_callback",
                "team_id": "T1",
                "api_app_id": "A1",
                "event_id": "Ev1",
                "event_time": 1,
                "event": event,
            },
        )
        assert ack["envelope_id"]
        execution = slack.functions.executions[event["function_execution_id"]]
        await slack.wait_for(lambda: execution.state != "running", 20)
        await runtime.creator.wait_idle()
    assert execution.state == "completed" and len(sandbox.tasks) == 1


# ------------------------------------------------------------------ the doctor
async def test_the_doctor_reads_the_apps_manifest_with_a_configuration_token(
    sandbox: B2CSandbox, slack: SlackFake
) -> None:
    from bot.doctor import run_doctor
    from tests.test_doctor import settings_for

    slack.manifest = MANIFEST
    config = {"slack_config_token": "xoxe.xoxp-1-config-0123456789", "slack_app_id": "A1"}
    KNOWN_SECRETS.add(config["slack_config_token"])
    report = await run_doctor(settings_for(sandbox, slack, **config), [])
    assert "✓ Workflow Builder step: the app's manifest declares create_b2c_task" in report.text()
    [export] = slack.calls_to("apps.manifest.export")
    assert export.token == config["slack_config_token"] and export.args["app_id"] == "A1"

    slack.manifest = {k: v for k, v in MANIFEST.items() if k != "functions"}
    report = await run_doctor(settings_for(sandbox, slack, **config), [])
    [check] = [c for c in report.checks if c.status == "fail"]
    assert check.what == "Workflow Builder step: the manifest declares no functions.create_b2c_task"
    assert check.fix and "paste manifest.yaml again" in check.fix


async def test_the_doctor_says_how_to_check_the_manifest_by_hand_without_a_configuration_token(
    sandbox: B2CSandbox, slack: SlackFake
) -> None:
    from bot.doctor import run_doctor
    from tests.test_doctor import settings_for

    report = await run_doctor(settings_for(sandbox, slack), [])
    [line] = [c.what for c in report.checks if "Workflow Builder step" in c.what]
    assert line.startswith("not checked: Workflow Builder step: the app's manifest not checked;")
    assert "App Manifest should show functions: create_b2c_task" in line
    assert not slack.calls_to("apps.manifest.export")
    # a token Slack refuses for it (the bot's own): a warning, not a failure
    report = await run_doctor(
        settings_for(sandbox, slack, slack_config_token="xoxb-not-a-config", slack_app_id="A1"),
        [],
    )
    assert any(
        "apps.manifest.export refused (not_allowed_token_type)" in c.what
        for c in report.checks
        if c.status == "warn"
    )


# ------------------------------------------------------------------ the demo
async def test_the_demo_runs_the_step_offline_and_prints_its_outputs() -> None:
    from io import StringIO

    from bot.demo_step import run_step_demo

    out = StringIO()
    inputs = '{"name": "Replacement part request", "contact": "83", "priority": "High"}'
    assert await run_step_demo(inputs, out=out) == 0
    text = out.getvalue()
    assert text.startswith("Slack → bot: function_executed, step create_b2c_task with {")
    assert "bot → Oracle: POST /services/rest/connect/v1.4/tasks" in text
    assert "bot → Slack: functions.completeSuccess (the step's outputs)\n  task_id: 100\n" in text
    assert "  status: Not Started\n" in text

    out = StringIO()
    assert await run_step_demo('{"name": "x", "priority": "Urgent"}', out=out) == 1
    assert "functions.completeError" in out.getvalue()
    assert "Priority must be one of: Low, Normal, High, Critical" in out.getvalue()


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("{name: x}", "error: --step needs a JSON object of the step's inputs ("),
        ('["x"]', "error: --step needs a JSON object of the step's inputs, like"),
        ('{"title": "x"}', "error: the step has no input title; its inputs are: name, contact"),
    ],
)
async def test_the_demo_refuses_step_inputs_it_cannot_read_in_one_line(
    given: str, said: str
) -> None:
    from io import StringIO

    from bot.demo_step import run_step_demo

    out = StringIO()
    assert await run_step_demo(given, out=out) == 2
    assert out.getvalue().startswith(said) and out.getvalue().count("\n") == 1


# ------------------------------------------------------------------ what a run costs
async def test_a_runs_budget_one_oracle_post_and_one_slack_call_or_three_with_a_channel(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    from tests.test_budgets import oracle, slack_calls

    await run_step(bot, {"name": "Warm up", "contact": "83", "priority": "High"})
    oracle_from, slack_from = len(sandbox.requests), len(slack.calls)
    await run_step(bot, {"name": "Call back", "contact": "83", "priority": "High"})
    assert oracle(sandbox, oracle_from) == ["POST /tasks"]  # no name read: nothing to show
    assert slack_calls(slack, slack_from) == ["functions.completeSuccess"]

    oracle_from, slack_from = len(sandbox.requests), len(slack.calls)
    await run_step(bot, {"name": "Call back", "contact": "83", "channel": "C1", "requester": "U1"})
    # Mary's name, for the thread's details (read beside the create, as for /task)
    assert sorted(oracle(sandbox, oracle_from)) == ["GET /queryResults contacts", "POST /tasks"]
    assert sorted(slack_calls(slack, slack_from)) == [
        "chat.postMessage",  # the task message
        "chat.postMessage",  # its thread's first reply
        "conversations.info",  # whether C1 is shared with another organization: once a channel
        "functions.completeSuccess",
        "users.info",  # the requester's name and zone, as for /task
    ]


async def test_a_refused_run_costs_oracle_nothing_and_slack_one_call(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    await run_step(bot, {"name": "Warm up"})  # (Bolt's one auth.test, at the first event)
    oracle_from, slack_from = len(sandbox.requests), len(slack.calls)
    await run_step(bot, {"name": "x", "due": "someday"})
    assert sandbox.requests[oracle_from:] == []
    assert [c.method for c in slack.calls[slack_from:]] == ["functions.completeError"]


async def test_runs_are_counted_by_their_own_kind_and_the_finishing_calls_by_method(
    bot: Bot, slack: SlackFake
) -> None:
    await run_step(bot, {"name": "Replacement part request"})
    await run_step(bot, {"name": "x", "priority": "Urgent"})
    registry = bot.runtime.metrics.registry

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("taskbot_requests_total", kind="workflow", outcome="created") == 1
    assert value("taskbot_requests_total", kind="workflow", outcome="refused") == 1
    assert value("taskbot_slack_calls_total", method="functions.completeSuccess", error="") == 1
    assert value("taskbot_slack_calls_total", method="functions.completeError", error="") == 1


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"inputs": "name=x"}, "the function_executed event's inputs is of the wrong kind"),
        ({"function_execution_id": 7}, "function_executed event's function_execution_id is of"),
        ({"function_execution_id": None}, "is of the wrong kind"),
        ({"function_execution_id": "Fx\u00001"}, "function_execution_id is not a Slack id"),
        ({"function_execution_id": ""}, "function_execution_id is not a Slack id"),
        ({"bot_access_token": "xwfp-1 2"}, "bot_access_token is not a Slack token"),
    ],
)
async def test_a_malformed_run_is_answered_as_slack_expects_and_creates_nothing(
    bot: Bot,
    sandbox: B2CSandbox,
    slack: SlackFake,
    caplog: pytest.LogCaptureFixture,
    change: dict[str, Any],
    said: str,
) -> None:
    event = {**slack.functions.start(CALLBACK_ID, {"name": "x"}), **change}
    KNOWN_SECRETS.add(event["bot_access_token"])
    assert await bot.event(event) == 200  # (else Slack sends it again, as malformed)
    await bot.finished()
    assert said in caplog.text
    assert not completions(slack) and not sandbox.requests_to("POST", "/tasks")


async def test_oracle_refusing_connections_for_a_while_does_not_fail_the_step(
    bot: Bot, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    await sandbox.stop()  # connections refused
    event = slack.functions.start(CALLBACK_ID, {"name": "Replacement part request"})
    KNOWN_SECRETS.add(event["bot_access_token"])
    assert await bot.event(event) == 200
    await asyncio.sleep(1.5)  # the run retries meanwhile (B2C_RETRY_BUDGET is 5 s here)
    execution = slack.functions.executions[event["function_execution_id"]]
    assert execution.state == "running" and not completions(slack)
    await sandbox.start(port=port)  # back, within the budget
    await slack.wait_for(lambda: execution.state != "running", 20)
    await bot.finished()
    assert execution.state == "completed" and len(sandbox.tasks) == 1


async def test_a_run_posting_in_a_channel_takes_its_defaults_as_task_does(
    bot: Bot, sandbox: B2CSandbox
) -> None:
    await bot.command("defaults @priority High @type Call")
    await bot.finished()
    await run_step(bot, {"name": "With defaults", "channel": "C1", "type": "Email"})
    await run_step(bot, {"name": "Elsewhere", "channel": "C2"})
    by_name = {t["name"]: t for t in sandbox.tasks.values()}
    assert by_name["With defaults"]["priority"]["id"] == 3  # the channel's High
    assert by_name["With defaults"]["taskType"]["id"] == 2  # Email, as given, wins
    assert by_name["Elsewhere"]["priority"] is None
