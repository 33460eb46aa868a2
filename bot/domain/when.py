"""Reading the dates and times people type (``tomorrow 5pm``, ``friday``, ``2026-12-01``).

ISO 8601 is read by the standard library; everything else by dateparser (a well-kept library:
relative words, weekdays, times and time zones are not ours to reinvent). A value without a time
of day gets a default one (end of the working day for a due date, its start for a start date),
in the user's own time zone. Results are aware UTC datetimes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DUE_DEFAULT_TIME = time(17, 0)
START_DEFAULT_TIME = time(9, 0)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_ISO_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A fixed base for checking that a phrase can be read at all, before the user's zone is known.
_CHECK_BASE = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def zone(name: str | None) -> ZoneInfo:
    """The named IANA zone, or UTC when the name is empty or unknown."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@lru_cache(maxsize=1)
def _date_parser_class():  # dateparser costs ~100 ms to import: only when a phrase needs it
    from dateparser.date import DateDataParser

    return DateDataParser


def _read(phrase: str, local_zone: ZoneInfo, now: datetime) -> tuple[datetime, str] | None:
    """dateparser's reading of a phrase: the moment and its period ("time" when a time of day
    was read, "day" otherwise), or None."""
    local_now = now.astimezone(local_zone)
    parser = _date_parser_class()(
        languages=["en"],
        settings={
            "TIMEZONE": local_zone.key,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
            "RETURN_TIME_AS_PERIOD": True,
        },
    )
    data = parser.get_date_data(phrase)
    if data.date_obj is None:
        return None
    return data.date_obj, data.period or "day"


def parse_when(text: str, tz: str | None, now: datetime, default_time: time) -> datetime | None:
    """The moment ``text`` names for a user in zone ``tz`` at ``now``, in UTC, or None."""
    phrase = " ".join(text.split())
    if not phrase:
        return None
    local_zone = zone(tz)
    if _ISO_DATE.match(phrase):
        return _parse_iso(phrase, local_zone, default_time)
    reading = _read(phrase, local_zone, now)
    if reading is None:
        return None
    moment, period = reading  # aware: RETURN_AS_TIMEZONE_AWARE
    if period != "time":
        local = moment.astimezone(local_zone)
        moment = datetime.combine(local.date(), default_time, tzinfo=local_zone)
    return moment.astimezone(UTC)


def _parse_iso(phrase: str, local_zone: ZoneInfo, default_time: time) -> datetime | None:
    try:
        moment = datetime.fromisoformat(phrase)  # since 3.11: a space for the T too
    except ValueError:
        return None
    if _ISO_DATE_ONLY.match(phrase):
        moment = datetime.combine(moment.date(), default_time)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_zone)
    return moment.astimezone(UTC)


@lru_cache(maxsize=512)
def _check(phrase: str) -> tuple[bool, str | None]:
    """Whether a phrase reads at all, and a part of it that reading ignored (at the fixed
    ``_CHECK_BASE``, so pure: cached, as a burst often repeats its phrases; each reading costs
    about a millisecond on the event loop, before the ack)."""
    if not phrase:
        return False, None
    if _ISO_DATE.match(phrase):  # ISO is read strictly, whole or not at all
        return parse_when(phrase, "UTC", _CHECK_BASE, DUE_DEFAULT_TIME) is not None, None
    utc = ZoneInfo("UTC")
    whole = _read(phrase, utc, _CHECK_BASE)
    if whole is None:
        return False, None
    tokens = phrase.split(" ")
    for index, token in enumerate(tokens):
        if not any(ch.isdigit() for ch in token):
            continue
        rest = " ".join(tokens[:index] + tokens[index + 1 :])
        if rest and _read(rest, utc, _CHECK_BASE) == whole:
            return True, token
    return True, None


def unused_part(text: str) -> str | None:
    """A part of a phrase with digits in it that reading the phrase ignored (``25:00`` in
    ``tomorrow 25:00``, ``13pm`` in ``tomorrow 13pm``: dateparser drops what it cannot read and
    answers the rest), or None. A part is unused when the phrase without it reads the same."""
    return _check(" ".join(text.split()))[1]


def is_readable(text: str) -> bool:
    """Whether the phrase can be read at all (checked before the user's zone is known)."""
    return _check(" ".join(text.split()))[0]


def oracle_time(moment: datetime) -> str:
    """Oracle's wire format for times: ISO 8601 in UTC with milliseconds and ``Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
