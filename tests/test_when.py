"""Reading dates, table by table, in the user's time zone, out in UTC."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.domain.when import (
    DUE_DEFAULT_TIME,
    START_DEFAULT_TIME,
    is_readable,
    oracle_time,
    parse_when,
    unused_part,
)

# Saturday 28 November 2026, 10:00 in New York (15:00 UTC)
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
NY = "America/New_York"

CASES = [
    ("2026-12-01", NY, DUE_DEFAULT_TIME, "2026-12-01T22:00:00.000Z"),
    ("2026-12-01", NY, START_DEFAULT_TIME, "2026-12-01T14:00:00.000Z"),
    ("2026-12-01 14:30", NY, DUE_DEFAULT_TIME, "2026-12-01T19:30:00.000Z"),
    ("2026-12-01T14:30", "Europe/Paris", DUE_DEFAULT_TIME, "2026-12-01T13:30:00.000Z"),
    ("2026-12-01T14:30Z", NY, DUE_DEFAULT_TIME, "2026-12-01T14:30:00.000Z"),
    ("2026-12-01T14:30+02:00", NY, DUE_DEFAULT_TIME, "2026-12-01T12:30:00.000Z"),
    ("today", NY, DUE_DEFAULT_TIME, "2026-11-28T22:00:00.000Z"),
    ("tomorrow 5pm", NY, DUE_DEFAULT_TIME, "2026-11-29T22:00:00.000Z"),
    ("tomorrow 5pm", "Asia/Tokyo", DUE_DEFAULT_TIME, "2026-11-30T08:00:00.000Z"),
    ("friday", NY, DUE_DEFAULT_TIME, "2026-12-04T22:00:00.000Z"),
    ("in 3 days", NY, DUE_DEFAULT_TIME, "2026-12-01T22:00:00.000Z"),
    ("in 2 hours", NY, DUE_DEFAULT_TIME, "2026-11-28T17:00:00.000Z"),
    ("next monday 9am", NY, DUE_DEFAULT_TIME, "2026-11-30T14:00:00.000Z"),
    ("tomorrow", None, DUE_DEFAULT_TIME, "2026-11-29T17:00:00.000Z"),  # no zone known: UTC
    ("tomorrow", "", DUE_DEFAULT_TIME, "2026-11-29T17:00:00.000Z"),
    ("monday 2pm", "Pacific/Chatham", DUE_DEFAULT_TIME, "2026-11-30T00:15:00.000Z"),
    ("tomorrow", "Not/AZone", DUE_DEFAULT_TIME, "2026-11-29T17:00:00.000Z"),
    ("2026-12-01 14:30:15", NY, DUE_DEFAULT_TIME, "2026-12-01T19:30:15.000Z"),
    ("2026-12-01T14:30:15.250", NY, DUE_DEFAULT_TIME, "2026-12-01T19:30:15.250Z"),
]


@pytest.fixture(params=["UTC", "Pacific/Chatham"])
def process_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The machine's own zone must never matter: only the user's does (a server runs in UTC
    or not, as its admin set it up)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.parametrize(("text", "tz", "default", "expected"), CASES)
def test_parse_when(text, tz, default, expected, process_zone: str) -> None:
    moment = parse_when(text, tz, NOW, default)
    assert moment is not None
    assert oracle_time(moment) == expected


@pytest.mark.parametrize(
    "text",
    # English only: another language's word is refused, not guessed at
    ["", "someday maybe", "2026-13-45", "2026-02-30", "eventually", "mañana", "morgen 17:00"],
)
def test_unreadable(text: str) -> None:
    assert parse_when(text, NY, NOW, DUE_DEFAULT_TIME) is None
    assert not is_readable(text)


def test_oracle_time_keeps_milliseconds() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=UTC)
    assert oracle_time(moment) == "2026-01-02T03:04:05.678Z"
    assert oracle_time(moment.replace(microsecond=999999)) == "2026-01-02T03:04:05.999Z"


def test_oracle_time_is_utc_whatever_the_zone_of_the_moment(process_zone: str) -> None:
    paris = timezone(timedelta(hours=1))
    assert oracle_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=paris)) == "2026-01-02T02:04:05.000Z"


@pytest.mark.parametrize(
    ("text", "unused"),
    [
        ("tomorrow 25:00", "25:00"),
        ("tomorrow 13pm", "13pm"),
        ("tomorrow 7:75", "7:75"),
        ("tomorrow 0pm", "0pm"),
        ("tomorrow 5pm", None),
        ("tomorrow at 5pm", None),
        ("tomorrow 9:30am", None),
        ("friday 17:00", None),
        ("next monday 9am", None),
        ("dec 3 2pm", None),
        ("in 3 days", None),
        ("in 2 hours", None),
        ("2026-12-01 14:30", None),
        ("today", None),
    ],
)
def test_a_part_the_parser_ignored_is_named(text: str, unused: str | None) -> None:
    assert unused_part(text) == unused
