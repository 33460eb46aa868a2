"""``python -m bot doctor`` against the sandbox and the Slack fake, each made to fail in turn."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.doctor import run_doctor
from bot.doctor.oracle_checks import connect_failure
from bot.doctor.report import FAIL, OK, WARN, Report
from bot.settings import Settings
from bot.standins.sandbox import B2CSandbox
from bot.standins.slack_fake import SlackFake
from tests.conftest import make_settings
from tests.processes import bot_env
from tests.test_cli import run


def settings_for(sandbox: B2CSandbox, slack: SlackFake, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_signing_secret": "0123456789abcdef0123456789abcdef",
        "b2c_request_id_field": "slack_request_id",
    }
    values.update(overrides)
    return make_settings(sandbox, slack, **values)


def lines(report: Report, status: str) -> list[str]:
    return [check.what for check in report.checks if check.status == status]


def failed(report: Report, words: str) -> Any:
    """The one ✗ line containing ``words``."""
    [check] = [c for c in report.checks if c.status == FAIL and words in c.what]
    return check


async def test_a_healthy_setup_passes_and_writes_nothing(
    sandbox: B2CSandbox, slack: SlackFake
) -> None:
    sandbox.tasks.clear()
    report = await run_doctor(settings_for(sandbox, slack), [])
    assert lines(report, FAIL) == [], report.text()
    assert not report.failed
    assert [r.method for r in sandbox.requests if r.method != "GET"] == []
    assert any("ROQL contact by a name with an apostrophe: answers" in w for w in lines(report, OK))
    assert any("ROQL task by request id" in w for w in lines(report, OK))
    assert any("a task name takes at most 240 characters" in w for w in lines(report, OK))
    # the thread sync's reading of each note once rests on Oracle dating its answers
    assert any(w.startswith("Oracle's answers are dated (its clock ") for w in lines(report, OK))
    # no task on the site: the link cannot be shown, which is a warning, not a failure
    assert any("task link" in w for w in lines(report, WARN))
    text = report.text()
    assert "✓ auth.test: token valid" in text and "✗" not in text
    parsed = json.loads(report.json())
    assert parsed["ok"] is True and parsed["failed"] == 0


async def test_write_creates_a_task_checks_it_and_deletes_it(
    sandbox: B2CSandbox, slack: SlackFake
) -> None:
    report = await run_doctor(settings_for(sandbox, slack), [], write=True)
    assert lines(report, FAIL) == [], report.text()
    [create] = sandbox.requests_to("POST", "/tasks")
    assert create.body["name"].startswith("doctor check ")
    assert create.body["customFields"]["c"]["slack_request_id"].startswith("doctor")
    assert len(sandbox.requests_to("PATCH", "/tasks/100")) == 1
    assert len(sandbox.requests_to("DELETE", "/tasks/100")) == 1
    assert sandbox.tasks == {}
    ok = " | ".join(lines(report, OK))
    assert "time literals are read in UTC" in ok
    assert "found by its request id" in ok
    for how in ("PATCH", "POST"):  # a status change's note, and a note alone
        assert f"--write: a note added by {how} is appended" in ok
        assert f"--write: a note added by {how} moves updatedTime" in ok
    assert len(sandbox.requests_to("POST", "/tasks/100/notes")) == 1
    # the link, shown with a real id: the --write task's, as the site had no other
    assert any("task link" in w and "/Task/100 " in w for w in lines(report, WARN))


Breaker = Callable[[B2CSandbox, SlackFake], None]


def _no_type(sandbox: B2CSandbox, slack: SlackFake) -> None:
    del sandbox.named_ids["taskType"]


@pytest.mark.parametrize(
    ("break_it", "overrides", "words", "fix_names"),
    [
        (lambda s, k: None, {"b2c_password": "wrong-password"}, "credentials", "B2C_PASSWORD"),
        (
            lambda s, k: s.refused_contexts.add("Slack task bot"),
            {},
            "application context",
            "B2C_APP_CONTEXT",
        ),
        (lambda s, k: setattr(s, "rest_enabled", False), {}, "REST API", "Public SOAP API"),
        (lambda s, k: s.denied.add("Read Task"), {}, "task permission", "Tasks permissions"),
        (_no_type, {}, "named IDs type", "GET /namedIDs/tasks"),
        (lambda s, k: None, {"b2c_completed_status": "Done"}, "B2C_COMPLETED_STATUS", "Completed"),
        (
            lambda s, k: s.refused_queries.append("emails.address"),
            {},
            "ROQL contact by e-mail",
            "message shortcut",
        ),
        (
            lambda s, k: s.custom_fields.clear(),
            {},
            "custom field slack_request_id",
            "B2C_REQUEST_ID_FIELD",
        ),
        (
            lambda s, k: k.refused_tokens.add("xoxb-test-token-0123456789"),
            {},
            "auth.test",
            "SLACK_BOT_TOKEN",
        ),
        (lambda s, k: k.scopes.remove("chat:write"), {}, "scope chat:write", "reinstall"),
    ],
    ids=[
        "password",
        "app-context",
        "rest-disabled",
        "task-permission",
        "named-id-missing",
        "completed-status",
        "roql-refused",
        "custom-field-absent",
        "token-revoked",
        "scope-missing",
    ],
)
async def test_each_failure_is_named_with_its_fix(
    sandbox: B2CSandbox,
    slack: SlackFake,
    break_it: Breaker,
    overrides: dict[str, Any],
    words: str,
    fix_names: str,
) -> None:
    break_it(sandbox, slack)
    report = await run_doctor(settings_for(sandbox, slack, **overrides), [])
    assert report.failed
    check = failed(report, words)
    assert fix_names in (check.fix or "") + check.what, report.text()
    assert f"✗ {check.what}" in report.text()


async def test_a_scope_the_bot_can_do_without_is_a_warning(
    sandbox: B2CSandbox, slack: SlackFake
) -> None:
    slack.scopes.remove("users:read.email")
    slack.scopes.remove("channels:read")  # an app installed from an older manifest
    report = await run_doctor(settings_for(sandbox, slack), [])
    assert not report.failed
    assert any("scope users:read.email is missing" in w for w in lines(report, WARN))
    assert any(
        w.startswith("scope channels:read is missing: needed for telling Slack Connect channels")
        for w in lines(report, WARN)
    )


async def test_socket_mode_checks_the_app_level_token(
    sandbox: B2CSandbox, slack: SlackFake
) -> None:
    settings = settings_for(sandbox, slack, slack_signing_secret=None)
    report = await run_doctor(settings, [])
    assert any("app-level token opens a connection" in w for w in lines(report, OK))
    slack.refused_tokens.add("xapp-test-app-token-0123456789")
    report = await run_doctor(settings, [])
    assert "SLACK_APP_TOKEN" in (failed(report, "Socket Mode").fix or "")


# ------------------------------------------------------------------ reaching Oracle
async def _silent_server() -> tuple[asyncio.Server, int]:
    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_refused_tls_and_timeout_are_told_apart(
    sandbox: B2CSandbox, slack: SlackFake
) -> None:
    closed = f"http://127.0.0.1:{_free_port()}"
    report = await run_doctor(settings_for(sandbox, slack, b2c_site_url=closed), [])
    assert "scheme and port" in (failed(report, "refused the connection").fix or "")

    tls = sandbox.base_url.replace("http://", "https://")
    report = await run_doctor(settings_for(sandbox, slack, b2c_site_url=tls), [])
    assert "TLS handshake failed" in failed(report, "reachable").what

    server, port = await _silent_server()
    try:
        report = await run_doctor(
            settings_for(sandbox, slack, b2c_site_url=f"http://127.0.0.1:{port}", b2c_timeout=1),
            [],
        )
    finally:
        server.close()
    assert "did not answer within 1 s" in failed(report, "reachable").what


def test_a_name_that_does_not_resolve_is_a_dns_failure() -> None:
    error = httpx.ConnectError("[Errno -2] Name or service not known")
    error.__cause__ = socket.gaierror(-2, "Name or service not known")
    assert connect_failure(error) == "dns"
    assert connect_failure(httpx.ConnectError("All connection attempts failed")) == "other"


# ------------------------------------------------------------------ the command line
async def _doctor(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    code, out, err = await run("doctor", *args, cwd=cwd, env=env)
    return code, out + err


async def test_every_bad_setting_at_once_and_exit_code(
    tmp_path: Path, sandbox: B2CSandbox, slack: SlackFake
) -> None:
    (tmp_path / ".env").write_text(
        "SLACK_SIGNING_SECRET=0123456789abcdef0123456789abcdef\n"
        f"SLACK_API_URL={slack.api_url}\n"
        "B2C_SITE_URL=mysite\nB2C_TIMEOUT=soon\nLOG_FORMAT=xml\n"
        "B2C_REQUEST_ID_FIELD=no spaces please\n"
        "B2C_USERNAME=sandbox\nB2C_PASSWORD=sandbox-password\n"
    )
    code, out = await _doctor(tmp_path, bot_env(), "--json")
    assert code == 1
    report = json.loads(out)
    failures = " | ".join(c["what"] for c in report["checks"] if c["status"] == "fail")
    for name in ("B2C_SITE_URL", "B2C_TIMEOUT", "LOG_FORMAT", "B2C_REQUEST_ID_FIELD"):
        assert f"Malformed setting {name}" in failures
    assert "Missing setting SLACK_BOT_TOKEN" in failures

    (tmp_path / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-test-token-0123456789\n"
        "SLACK_SIGNING_SECRET=0123456789abcdef0123456789abcdef\n"
        f"SLACK_API_URL={slack.api_url}\nB2C_SITE_URL={sandbox.base_url}\n"
        "B2C_USERNAME=sandbox\nB2C_PASSWORD=sandbox-password\n"
        "B2C_REQUEST_ID_FIELD=slack_request_id\n"
    )
    code, out = await _doctor(tmp_path, bot_env())
    assert code == 0, out
    assert "✓ auth.test: token valid" in out and "✗" not in out
    assert "sandbox-password" not in out and "xoxb-test-token" not in out


async def test_a_journal_folder_that_does_not_exist(sandbox: B2CSandbox, slack: SlackFake) -> None:
    settings = settings_for(sandbox, slack, journal_path="/nonexistent/folder/journal.sqlite3")
    report = await run_doctor(settings, [])
    check = failed(report, "Journal (JOURNAL_PATH)")
    assert "/nonexistent/folder does not exist" in check.what


async def test_undated_answers_are_a_warning(
    sandbox: B2CSandbox, slack: SlackFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.oracle.client import B2CClient

    monkeypatch.setattr(B2CClient, "oracle_time", lambda self: None)  # a proxy that strips Date
    report = await run_doctor(settings_for(sandbox, slack), [])
    assert any(w.startswith("Oracle's answers carry no Date header") for w in lines(report, WARN))
    assert lines(report, FAIL) == []


EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"


async def test_a_plain_doctor_in_an_empty_folder_names_each_problem_once_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / ".env").write_text("B2C_SITE_URL=mysite.custhelp.com\n")
    code, out = await _doctor(tmp_path, bot_env(SLACK_BOT_TOKEN=""), "--json")
    assert code == 1
    report = json.loads(out)
    failures = [c for c in report["checks"] if c["status"] == "fail"]
    named = [c["what"].split(":")[0] for c in failures]
    assert named.count("Malformed setting B2C_SITE_URL") == 1
    assert not any(n.startswith("Missing setting B2C_SITE_URL") for n in named)  # told once
    for check in failures:  # the fix is said once, as the fix
        assert "see .env.example" not in check["what"]
    skipped = {c["area"]: c["what"] for c in report["checks"] if c["status"] == "skip"}
    assert skipped["Slack"] == "not checked: SLACK_BOT_TOKEN is not set (see Settings above)"
    assert skipped["Oracle"].startswith("not checked: B2C_SITE_URL not set")
    journal = [c for c in report["checks"] if c["area"] == "Journal"]
    assert journal[0]["status"] == "ok" and "not there yet" in journal[0]["what"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]  # noqa: ASYNC240 - nothing made


async def test_the_env_examples_placeholders_are_called_placeholders(tmp_path: Path) -> None:
    example = EXAMPLE.read_text()
    (tmp_path / ".env").write_text(example)
    code, out = await _doctor(tmp_path, bot_env())
    assert code == 1
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "B2C_SITE_URL", "B2C_PASSWORD"):
        assert f"✗ Setting {name} still holds .env.example's example value" in out
    assert "set and well-formed" not in out
    assert "xoxb-your-bot-token" not in out and "change-me" not in out  # not echoed either
