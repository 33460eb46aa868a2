"""The doctor's Slack checks: the bot token (``auth.test``), its granted scopes (the
``x-oauth-scopes`` header Slack sends on every Web API answer), and the app-level token."""

from __future__ import annotations

import re

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.doctor.report import Report
from bot.settings import Mode, Settings

AREA = "Slack"
REINSTALL = (
    "add it under OAuth & Permissions → Bot Token Scopes (or paste manifest.yaml again), "
    "then reinstall the app"
)
# scope -> (what needs it, required: ✗ when missing; otherwise a warning)
SCOPES = {
    "commands": ("the /task command and the Create B2C task shortcut", True),
    "chat:write": ("the task message and its thread", True),
    "users:read": ("requesters' names and time zones (@due, @start)", True),
    "chat:write.public": ("posting in public channels the bot has not joined", False),
    "users:read.email": (
        "matching Slack users to staff accounts (@assign, /task mine) and authors to contacts",
        False,
    ),
    "channels:history": ("synced threads: replies in public channels' task threads", False),
    "groups:history": ("synced threads: replies in private channels' task threads", False),
    "reactions:write": ("synced threads: :memo: on a reply saved as a note", False),
    "reactions:read": ("a task from an emoji (TASK_REACTION)", False),
    "links:read": ("link previews of task links", False),
    "links:write": ("link previews of task links", False),
    "im:write": ("the Home tab's New task (the task in a direct message)", False),
    "channels:read": (
        "telling Slack Connect channels apart (without it every public channel is taken as "
        "not shared with another organization)",
        False,
    ),
    "groups:read": (
        "telling Slack Connect channels apart (without it every private channel is taken as "
        "not shared with another organization)",
        False,
    ),
}


async def check_slack(report: Report, settings: Settings, mode: Mode) -> None:
    if settings.slack_bot_token is None:
        report.skip(AREA, "SLACK_BOT_TOKEN is not set (see Settings above)")
        return
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )
    try:
        answer = await client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error", "unknown")
        report.fail(
            AREA,
            f"auth.test: Slack refused the bot token ({code})",
            "copy the Bot User OAuth Token (xoxb-…) again from the app's OAuth & Permissions "
            "page into SLACK_BOT_TOKEN; if the app was uninstalled, install it again",
        )
        return
    except Exception as error:
        report.fail(
            AREA,
            f"auth.test: could not reach Slack at {settings.slack_api_url} "
            f"({type(error).__name__})",
            "check the machine's outbound HTTPS access and SLACK_API_URL",
        )
        return
    report.ok(
        AREA,
        f"auth.test: token valid — workspace {answer.get('team')} ({answer.get('team_id')}), "
        f"bot user @{answer.get('user')} ({answer.get('user_id')})",
    )
    _scopes(report, settings, answer.headers.get("x-oauth-scopes"))
    if mode is Mode.SOCKET:
        await _app_token(report, settings)
    else:
        _signing_secret(report, settings)


def _scopes(report: Report, settings: Settings, header: str | list[str] | None) -> None:
    if isinstance(header, list):
        header = ",".join(header)
    if header is None:
        report.warn(AREA, "Slack did not say which scopes the token has (no x-oauth-scopes)")
        return
    granted = {scope.strip() for scope in header.split(",") if scope.strip()}
    wanted = dict(SCOPES)
    if settings.allowed_usergroups.strip():
        wanted["usergroups:read"] = ("ALLOWED_USERGROUPS", True)
    missing = [scope for scope in wanted if scope not in granted]
    if not missing:
        report.ok(AREA, f"scopes: all {len(wanted)} the bot uses are granted")
    for scope in missing:
        feature, required = wanted[scope]
        line = f"scope {scope} is missing: needed for {feature}"
        fix = f"{scope}: {REINSTALL}"
        if required:
            report.fail(AREA, line, fix)
        else:
            report.warn(AREA, line + " (works without it, less well)", fix)


async def _app_token(report: Report, settings: Settings) -> None:
    token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    if not token.startswith("xapp-"):
        return  # reported with the settings
    client = AsyncWebClient(base_url=settings.slack_api_url)
    try:
        await client.apps_connections_open(app_token=token)
    except SlackApiError as error:
        code = error.response.get("error", "unknown")
        report.fail(
            AREA,
            f"Socket Mode: Slack refused the app-level token ({code})",
            "create an App-Level Token with the connections:write scope (Basic Information → "
            "App-Level Tokens) and put it in SLACK_APP_TOKEN; turn Socket Mode on",
        )
        return
    report.ok(AREA, "Socket Mode: the app-level token opens a connection")


def _signing_secret(report: Report, settings: Settings) -> None:
    secret = settings.slack_signing_secret
    if secret is None:
        return  # reported with the settings
    if re.fullmatch(r"[0-9a-f]{32}", secret.get_secret_value()):
        report.ok(AREA, "signing secret: has Slack's form (32 hex digits)")
    else:
        report.warn(
            AREA,
            "signing secret: not Slack's form (32 hex digits); every request would get 401",
            "copy the Signing Secret from the app's Basic Information page into "
            "SLACK_SIGNING_SECRET",
        )
