"""The doctor's look at the manifest the app runs with: whether it declares the Workflow Builder
step (``functions.create_b2c_task``) as the bot reads it. Slack gives an app's manifest only to
a configuration token (``apps.manifest.export``), which the bot itself never needs: without
one (SLACK_CONFIG_TOKEN and SLACK_APP_ID), the check says how to look by hand."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.doctor.report import Report
from bot.settings import Settings
from bot.workflow.definition import difference
from bot.workflow.inputs import CALLBACK_ID

AREA = "Slack"
BY_HAND = (
    f"by hand: api.slack.com/apps → the app → App Manifest should show functions: "
    f"{CALLBACK_ID} and org_deploy_enabled: true (as in manifest.yaml); or set "
    "SLACK_CONFIG_TOKEN (api.slack.com/apps → Your App Configuration Tokens) and SLACK_APP_ID "
    "(the app's Basic Information) for this check"
)
FIX = (
    "paste manifest.yaml again under App Manifest (it declares the step), save, and reinstall "
    "the app if Slack asks"
)


async def check_manifest(report: Report, settings: Settings) -> None:
    if not settings.task_workflow_step:
        report.skip(AREA, "Workflow Builder step: off (TASK_WORKFLOW_STEP=off)")
        return
    token = settings.slack_config_token
    if token is None or not settings.slack_app_id:
        report.skip(AREA, "Workflow Builder step: the app's manifest not checked; " + BY_HAND)
        return
    client = AsyncWebClient(token=token.get_secret_value(), base_url=settings.slack_api_url)
    try:
        answer = await client.apps_manifest_export(app_id=settings.slack_app_id)
    except SlackApiError as error:
        code = error.response.get("error", "unknown")
        report.warn(
            AREA,
            f"Workflow Builder step: apps.manifest.export refused ({code}), manifest not checked",
            "configuration tokens last 12 hours: create a new one, and check SLACK_APP_ID; or "
            "check " + BY_HAND.removeprefix("by hand: "),
        )
        return
    except (aiohttp.ClientError, TimeoutError) as error:
        report.warn(
            AREA,
            f"Workflow Builder step: could not reach Slack ({type(error).__name__}), manifest "
            "not checked",
        )
        return
    problem = difference(answer.get("manifest"))
    if problem is None:
        report.ok(AREA, f"Workflow Builder step: the app's manifest declares {CALLBACK_ID}")
    else:
        report.fail(AREA, f"Workflow Builder step: {problem}", FIX)
