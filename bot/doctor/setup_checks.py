"""The doctor's local checks: every setting at once, and the journal's database."""

from __future__ import annotations

from bot.doctor.report import Report
from bot.journal import Journal, JournalBusy, JournalUnavailable, parse_url
from bot.settings import Mode, Settings


def check_settings(report: Report, settings: Settings, problems: list[str], mode: Mode) -> None:
    found = problems + settings.problems(mode)
    for line in found:
        report.fail("Settings", line, "set it in .env or the environment (see .env.example)")
    if not found:
        report.ok(
            "Settings", f"every setting {mode.value.upper()} mode needs is set and well-formed"
        )
    if settings.b2c_request_id_field is None:
        report.warn(
            "Settings",
            "B2C_REQUEST_ID_FIELD is not set: after a timeout, a task is recognised by name and "
            "time (a same-named task made meanwhile by someone else would be taken for ours)",
            "add a task custom field (text, 40+ characters) and set B2C_REQUEST_ID_FIELD "
            "(see the README)",
        )


async def check_journal(report: Report, settings: Settings) -> None:
    engine, _ = parse_url(settings.journal_url)
    label = (
        "PostgreSQL (DATABASE_URL)"
        if engine == "postgresql"
        else (f"SQLite file {settings.journal_path} (JOURNAL_PATH)")
    )
    try:
        journal = await Journal.open(settings.journal_url)
    except JournalBusy as error:  # the running bot has it: that is how it should be
        report.ok("Journal", f"{label}: {str(error).split(': ', 1)[1].split('. ')[0]}")
        return
    except JournalUnavailable as error:
        setting = "DATABASE_URL" if engine == "postgresql" else "JOURNAL_PATH"
        report.fail("Journal", str(error), f"fix {setting} or the database it names")
        return
    try:
        await journal.ping()
        report.ok("Journal", f"{label}: opened and written")
    finally:
        await journal.close()
