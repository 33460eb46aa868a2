"""The doctor's local checks: every setting at once, and the journal's database."""

from __future__ import annotations

import os
from pathlib import Path

from bot.doctor.report import Report
from bot.journal import Journal, JournalBusy, JournalUnavailable, parse_url
from bot.settings import FIX, Mode, Settings


def check_settings(report: Report, settings: Settings, problems: list[str], mode: Mode) -> None:
    found = settings.problems(mode, malformed=problems)  # each setting once
    for line in found:
        report.fail("Settings", line, FIX)
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


def _sqlite_state(journal_path: str) -> tuple[bool, Path, bool, bool]:
    """Whether the journal file exists, its folder, whether that is writable, and whether a
    lock file is already there."""
    path = Path(journal_path)
    folder = path.absolute().parent
    return path.exists(), folder, os.access(folder, os.W_OK), Path(journal_path + ".lock").exists()


def _remove(path: str) -> None:
    Path(path).unlink(missing_ok=True)


async def check_journal(report: Report, settings: Settings) -> None:
    engine, location = parse_url(settings.journal_url)
    label = (
        "PostgreSQL (DATABASE_URL)"
        if engine == "postgresql"
        else (f"SQLite file {location} (JOURNAL_PATH)")
    )
    if engine != "postgresql":
        exists, folder, writable, had_lock = _sqlite_state(location)
        if not exists:  # the doctor creates nothing: the bot makes it at its first start
            if writable:
                report.ok("Journal", f"{label}: not there yet; the bot creates it when it starts")
            else:  # in the words the bot's own start would use
                why = "does not exist" if not folder.is_dir() else "cannot be written"
                report.fail(
                    "Journal",
                    f"Journal (JOURNAL_PATH): the folder {folder} {why}",
                    "create it, or set JOURNAL_PATH to a file in a folder the bot may write "
                    "(or DATABASE_URL)",
                )
            return
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
        if engine != "postgresql" and not had_lock:
            _remove(location + ".lock")  # the doctor's own lock file, gone again
