"""``python -m bot doctor``: checks everything the bot relies on, against the configured Slack
and Oracle, and prints a checklist (✓ / ✗ / !) saying, on ✗, exactly what to change. An
entry point: uses the settings, the app's wiring, the adapters and the journal.

It creates nothing unless ``--write`` is given (then one task, deleted again). Exit 0 only when
nothing is ✗.
"""

from __future__ import annotations

import httpx

from bot.doctor.manifest_check import check_manifest
from bot.doctor.oracle_checks import check_oracle
from bot.doctor.report import Report
from bot.doctor.setup_checks import check_journal, check_settings
from bot.doctor.slack_checks import check_slack
from bot.settings import Mode, Settings


def doctor_mode(settings: Settings, socket: bool) -> Mode:
    """Socket Mode when asked, or when only an app-level token is set; HTTP mode otherwise."""
    if socket or (settings.slack_app_token and not settings.slack_signing_secret):
        return Mode.SOCKET
    return Mode.HTTP


def _auth(settings: Settings) -> httpx.Auth | None:
    """Oracle's credentials, or None when the settings give none (reported with them)."""
    from bot.app import b2c_auth

    return b2c_auth(settings) if settings.has_b2c_credentials else None


async def run_doctor(
    settings: Settings, problems: list[str], *, socket: bool = False, write: bool = False
) -> Report:
    report = Report()
    mode = doctor_mode(settings, socket)
    check_settings(report, settings, problems, mode)
    await check_slack(report, settings, mode)
    if settings.slack_bot_token is not None:
        await check_manifest(report, settings)
    auth = _auth(settings)
    if settings.b2c_site_url and auth is not None:
        await check_oracle(report, settings, settings.b2c_site_url, auth, write=write)
    else:
        missing = "B2C_SITE_URL" if not settings.b2c_site_url else "Oracle's credentials"
        report.skip("Oracle", f"{missing} not set (see Settings above)")
    await check_journal(report, settings)
    return report
