"""Reading dates, table by table: each phrase has one meaning (or one refusal), the same in
every zone, at a fixed clock: Tuesday 9 March 2027, 10:00 in the user's zone. Three zones: one
east of UTC (Kolkata, +05:30), one west (São Paulo, -03:00), and New York, whose clocks go
forward on Sunday 14 March, within the week the phrases reach."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import when
from bot.domain.when import (
    DUE_DEFAULT_TIME,
    START_DEFAULT_TIME,
    AmbiguousDate,
    DateError,
    check,
    day_first,
    oracle_time,
    parse_when,
    readings,
    settle,
    undecided,
)

EAST, WEST, DST = "Asia/Kolkata", "America/Sao_Paulo", "America/New_York"
ZONES = (EAST, WEST, DST)


def local_now(tz: str, wall: str = "2027-03-09 10:00") -> datetime:
    return datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo(tz))


# (what is typed, its meaning as a wall time in the user's zone, or "!" and a part of the one
# line refusing it; then the zones where the meaning differs). A due date: 17:00 when no time.
TABLE: list[tuple[str, str] | tuple[str, str, dict[str, str]]] = [
    # a number alone is a time of day, never a year
    ("1700", "2027-03-09 17:00"),
    ("2359", "2027-03-09 23:59"),
    ("0900", "2027-03-10 09:00"),  # 09:00 is past at 10:00: tomorrow's
    ("0930", "2027-03-10 09:30"),
    ("1030", "2027-03-09 10:30"),
    ("930", "2027-03-10 09:30"),
    ("530", "2027-03-09 17:30"),  # 1 to 6 without a leading zero: the afternoon
    ("5", "2027-03-09 17:00"),
    ("11", "2027-03-09 11:00"),
    ("9", "2027-03-10 09:00"),
    ("12", "2027-03-09 12:00"),
    ("05", "2027-03-10 05:00"),  # a leading zero: as written
    ("0", "2027-03-10 00:00"),
    ("23", "2027-03-09 23:00"),
    ("24", "!“24”"),
    ("2400", "!“2400”"),
    ("1799", "!“1799”"),
    ("12345", "!“12345” is not a date or a time"),
    ("friday 1500", "2027-03-12 15:00"),
    ("friday 5", "2027-03-12 17:00"),
    ("friday 9", "2027-03-12 09:00"),
    ("friday 0900", "2027-03-12 09:00"),
    ("1500 friday", "2027-03-12 15:00"),
    ("tomorrow 17h", "2027-03-10 17:00"),
    ("tomorrow 9h", "2027-03-10 09:00"),
    ("tomorrow 17h30", "2027-03-10 17:30"),
    ("tomorrow 5h", "2027-03-10 05:00"),  # 17h is the 24-hour clock: 5h is 05:00
    ("17h", "2027-03-09 17:00"),
    ("tomorrow 25h", "!“25h”"),
    # am and pm
    ("5pm", "2027-03-09 17:00"),
    ("5 pm", "2027-03-09 17:00"),
    ("5:30pm", "2027-03-09 17:30"),
    ("5.30pm", "2027-03-09 17:30"),
    ("9am", "2027-03-10 09:00"),
    ("11am", "2027-03-09 11:00"),
    ("12pm", "2027-03-09 12:00"),
    ("12am", "2027-03-10 00:00"),
    ("13pm", "!“13pm”"),
    ("0pm", "!“0pm”"),
    ("5:75pm", "!“5:75pm”"),
    ("tomorrow 5p.m.", "2027-03-10 17:00"),
    ("tomorrow 9:30 am", "2027-03-10 09:30"),
    ("17:00", "2027-03-09 17:00"),
    ("5:30", "2027-03-09 17:30"),
    ("05:30", "2027-03-10 05:30"),
    ("9:15", "2027-03-10 09:15"),
    ("25:00", "!“25:00”"),
    ("tomorrow 7:75", "!“7:75”"),
    # parts of the day: one time each
    ("morning", "2027-03-10 09:00"),  # past today: tomorrow's
    ("noon", "2027-03-09 12:00"),
    ("midday", "2027-03-09 12:00"),
    ("afternoon", "2027-03-09 14:00"),
    ("evening", "2027-03-09 18:00"),
    ("tonight", "2027-03-09 20:00"),
    ("eod", "2027-03-09 17:00"),
    ("end of day", "2027-03-09 17:00"),
    ("cob", "2027-03-09 17:00"),
    ("close of business", "2027-03-09 17:00"),
    ("midnight", "2027-03-09 23:59"),
    ("tomorrow morning", "2027-03-10 09:00"),
    ("tomorrow afternoon", "2027-03-10 14:00"),
    ("tomorrow evening", "2027-03-10 18:00"),
    ("tomorrow night", "2027-03-10 20:00"),
    ("tomorrow noon", "2027-03-10 12:00"),
    ("tomorrow eod", "2027-03-10 17:00"),
    ("friday morning", "2027-03-12 09:00"),
    ("friday eod", "2027-03-12 17:00"),
    ("this morning", "2027-03-09 09:00"),  # today, said so: kept (the bot warns: past)
    ("this afternoon", "2027-03-09 14:00"),
    ("this evening", "2027-03-09 18:00"),
    ("end of week", "2027-03-12 17:00"),
    ("eow", "2027-03-12 17:00"),
    ("end of the week", "2027-03-12 17:00"),
    ("end of next week", "2027-03-19 17:00"),
    ("end of month", "2027-03-31 17:00"),
    ("eom", "2027-03-31 17:00"),
    ("tonight 9pm", "!“9pm”"),
    ("tomorrow tonight", "!“tonight”"),
    ("eod 3pm", "!“3pm”"),
    ("morning 10am", "!“10am”"),
    # days
    ("today", "2027-03-09 17:00"),
    ("tomorrow", "2027-03-10 17:00"),
    ("tmrw", "2027-03-10 17:00"),
    ("yesterday", "2027-03-08 17:00"),
    ("today 3pm", "2027-03-09 15:00"),
    ("today 9am", "2027-03-09 09:00"),
    ("tomorrow 5pm", "2027-03-10 17:00"),
    ("tomorrow at 5pm", "2027-03-10 17:00"),
    ("at 5pm tomorrow", "2027-03-10 17:00"),
    ("Tomorrow 5PM", "2027-03-10 17:00"),
    ("tomorrow, 5pm", "2027-03-10 17:00"),
    ("  tomorrow   5pm ", "2027-03-10 17:00"),
    # weekdays: the coming one (today while its time is ahead); next: of next week
    ("monday", "2027-03-15 17:00"),
    ("tuesday", "2027-03-09 17:00"),
    ("tuesday 9am", "2027-03-16 09:00"),
    ("wednesday", "2027-03-10 17:00"),
    ("wed", "2027-03-10 17:00"),
    ("thu", "2027-03-11 17:00"),
    ("thurs", "2027-03-11 17:00"),
    ("fri", "2027-03-12 17:00"),
    ("sat", "2027-03-13 17:00"),
    ("sunday", "2027-03-14 17:00"),
    ("this friday", "2027-03-12 17:00"),
    ("next friday", "2027-03-19 17:00"),
    ("next monday", "2027-03-15 17:00"),
    ("next tuesday", "2027-03-16 17:00"),
    ("next monday 9am", "2027-03-15 09:00"),
    ("on friday", "2027-03-12 17:00"),
    ("by friday", "2027-03-12 17:00"),
    ("friday 3pm", "2027-03-12 15:00"),
    ("3pm friday", "2027-03-12 15:00"),
    ("coming friday", "2027-03-12 17:00"),
    ("Friday", "2027-03-12 17:00"),
    ("next week", "!“next week”"),
    ("this week", "!“this week”"),
    ("next month", "!“next month”: which day?"),
    ("this month", "!“this month”: which day?"),
    ("friday monday", "!“monday”"),
    ("friday the 13th", "!“the 13th”"),
    # how long from now: minutes and hours are elapsed time, days and more are calendar days
    ("in 30 minutes", "2027-03-09 10:30"),
    ("in 30 mins", "2027-03-09 10:30"),
    ("in 2 hours", "2027-03-09 12:00"),
    ("in 2h", "2027-03-09 12:00"),
    ("in an hour", "2027-03-09 11:00"),
    ("in 120 hours", "2027-03-14 10:00", {DST: "2027-03-14 11:00"}),  # clocks went forward
    ("in 168 hours", "2027-03-16 10:00", {DST: "2027-03-16 11:00"}),
    ("in 3 days", "2027-03-12 17:00"),
    ("in 3d", "2027-03-12 17:00"),
    ("3 days", "2027-03-12 17:00"),
    ("3 days from now", "2027-03-12 17:00"),
    ("in a week", "2027-03-16 17:00"),
    ("in 1 week", "2027-03-16 17:00"),
    ("in 2 weeks", "2027-03-23 17:00"),
    ("in 1 month", "2027-04-09 17:00"),
    ("in 3 days 9am", "2027-03-12 09:00"),
    ("in 30", "!“in 30”"),
    ("in", "!“in"),
    ("in 2 hours friday", "!“friday”"),
    ("friday in 2 hours", "!“in 2 hours”"),
    ("in 99999 days", "!“in 99999 days”"),
    ("3 days ago", "!“ago”"),
    # a day of a month: the next one
    ("dec 24", "2027-12-24 17:00"),
    ("24 dec", "2027-12-24 17:00"),
    ("december 24th", "2027-12-24 17:00"),
    ("24th of december", "2027-12-24 17:00"),
    ("dec 24 2027 2pm", "2027-12-24 14:00"),
    ("dec 24, 2027", "2027-12-24 17:00"),
    ("dec 24th, 2027 at 2pm", "2027-12-24 14:00"),
    ("mar 1", "2028-03-01 17:00"),
    ("mar 9", "2027-03-09 17:00"),
    ("march 9 9am", "2027-03-09 09:00"),
    ("sept 3", "2027-09-03 17:00"),
    ("feb 29", "2028-02-29 17:00"),
    ("apr 31", "!“apr 31”"),
    ("dec 24 1700", "2027-12-24 17:00"),
    ("dec 24 1999", "!“dec 24 1999” is in 1999: give a date from 2026 to 2032"),
    ("dec 24 2100", "!“dec 24 2100” is in 2100: give a date from 2026 to 2032"),
    ("dec 24 2026", "2026-12-24 17:00"),  # last year: allowed
    ("dec 24 2032", "2032-12-24 17:00"),  # five years ahead: allowed
    ("dec 24 2033", "!2033"),
    ("december", "!“december”"),
    ("dec 45", "!“45”"),
    # the 24th: the next 24th of a month
    ("the 24th", "2027-03-24 17:00"),
    ("24th", "2027-03-24 17:00"),
    ("the 9th", "2027-03-09 17:00"),
    ("the 1st", "2027-04-01 17:00"),
    ("the 31st", "2027-03-31 17:00"),
    ("the 45th", "!“45th”"),
    # numbers: the only order that makes a date, else the user's language's (see below)
    ("31/12", "2027-12-31 17:00"),
    ("12/31", "2027-12-31 17:00"),
    ("5/5", "2027-05-05 17:00"),
    ("13/13", "!“13/13”"),
    ("24/12/2027", "2027-12-24 17:00"),
    ("12/24/27", "2027-12-24 17:00"),
    ("2027/12/24", "2027-12-24 17:00"),
    ("24.12.", "2027-12-24 17:00"),
    ("24.12", "2027-12-24 17:00"),
    ("24.12.2027", "2027-12-24 17:00"),
    ("1.4.", "2027-04-01 17:00"),
    ("31/04", "!“31/04”"),
    ("24/12/1700", "!1700"),
    ("04/03", "!“04/03” could be 4 March or 3 April: write it as 4 mar or 3 apr"),
    ("5/12", "!“5/12” could be 5 December or 12 May"),
    ("13/5", "2027-05-13 17:00"),
    ("4/3 2pm", "!“4/3” could be 4 March or 3 April"),
    # ISO 8601
    ("2027-12-24", "2027-12-24 17:00"),
    ("2027-12-24 14:30", "2027-12-24 14:30"),
    ("2027-12-24T14:30", "2027-12-24 14:30"),
    (
        "2027-12-24T14:30Z",
        "",
        {EAST: "2027-12-24 20:00", WEST: "2027-12-24 11:30", DST: "2027-12-24 09:30"},
    ),
    ("2027-12-24 5pm", "2027-12-24 17:00"),
    ("2027-13-45", "!2027-13-45"),
    ("2027-02-30", "!2027-02-30"),
    ("1700-01-01", "!“1700-01-01” is in 1700: give a date from 2026 to 2032"),
    (
        "tomorrow 5pm utc",
        "",
        {EAST: "2027-03-10 22:30", WEST: "2027-03-10 14:00", DST: "2027-03-10 12:00"},
    ),
    # a time the clocks skip (New York, 14 March, 02:00 to 03:00) moves forward
    ("sunday 2:30am", "2027-03-14 02:30", {DST: "2027-03-14 03:30"}),
    # parts together: each read, nothing skipped, nothing lost
    ("24.12. 3pm", "2027-12-24 15:00"),
    ("2027-12-24 3pm", "2027-12-24 15:00"),
    ("2026-12-24 3pm", "2026-12-24 15:00"),  # its year, not the next 24 December
    ("2027/12/24 3pm", "2027-12-24 15:00"),
    ("2027/03/01", "2027-03-01 17:00"),  # its year: past, not moved to 2028
    ("24/12/2027 3pm", "2027-12-24 15:00"),
    ("31/12 3pm", "2027-12-31 15:00"),
    ("24.12.27", "2027-12-24 17:00"),
    ("1.4.2028", "2028-04-01 17:00"),
    ("13/12", "2027-12-13 17:00"),  # 13 cannot be a month: the day
    ("12/13", "2027-12-13 17:00"),
    ("12/12", "2027-12-12 17:00"),  # the same either way: not asked
    ("13/13/2027", "!“13/13/2027” is not a date: neither number is a month"),
    ("31/13", "!“31/13” is not a date: neither number is a month"),
    ("123/4", "!“123/4” is not a date: a date is like"),
    ("2027/12", "!“2027/12” is not a date: a date is like"),
    ("apr 31 2027", "!“apr 31 2027” is not a date: April 2027 has 30 days"),
    ("31/04/2027", "!“31/04/2027” is not a date: April 2027 has 30 days"),
    ("29/02/2027", "!“29/02/2027” is not a date: February 2027 has 28 days"),
    ("feb 30", "!“feb 30” is not a date: February has 29 days"),
    ("the 30th", "2027-03-30 17:00"),
    ("dec 32", "!“32” is not a day of a month"),
    ("dec 2027", "!“dec”: which day of December?"),
    ("dec 24 2027 9 am", "2027-12-24 09:00"),
    ("24th of december 2027 3pm", "2027-12-24 15:00"),
    ("december 24th 3pm", "2027-12-24 15:00"),
    ("the 24th 3pm", "2027-03-24 15:00"),
    ("end of the month", "2027-03-31 17:00"),
    ("2027-12-24 friday", "!“2027-12-24” and “friday” are two different days"),
    ("24.12. friday", "!“24.12.” and “friday” are two different days"),
    ("end of week friday", "!“end of week” and “friday” are two different days"),
    ("eom friday", "!“eom” and “friday” are two different days"),
    ("in 3 days friday", "!“in 3 days” and “friday” are two different days"),
    ("in 1 month friday", "!“in 1 month” and “friday” are two different days"),
    ("next friday monday", "!“next friday” and “monday” are two different days"),
    ("this morning friday", "!“this morning” and “friday” are two different days"),
    ("dec 24 2027 9am tomorrow", "!“dec 24 2027” and “tomorrow” are two different days"),
    ("eod 3pm", "!“eod” and “3pm” are two times of day"),
    ("this morning 3pm", "!“this morning” and “3pm” are two times of day"),
    ("17h 3pm", "!“17h” and “3pm” are two times of day"),
    ("17:00 3pm", "!“17:00” and “3pm” are two times of day"),
    ("1700 3pm", "!“1700” and “3pm” are two times of day"),
    ("eow 3pm", "!“eow” and “3pm” are two times of day"),
    ("end of month 3pm", "!“end of month” and “3pm” are two times of day"),
    ("tonight 3pm", "!“tonight” and “3pm” are two times of day"),
    ("in 2 hours 3pm", "!“in 2 hours” already says when: leave out “3pm”"),
    ("3pm in 2 hours", "!“in 2 hours” already says when: leave out “3pm”"),
    ("tomorrow 9 a.m.", "2027-03-10 09:00"),
    ("tomorrow 9 p.m.", "2027-03-10 21:00"),
    ("tomorrow 5:30 pm", "2027-03-10 17:30"),
    ("tomorrow 5:30 am", "2027-03-10 05:30"),
    ("9 pm tomorrow", "2027-03-10 21:00"),
    ("tomorrow 12:59pm", "2027-03-10 12:59"),
    ("tomorrow 1pm", "2027-03-10 13:00"),
    ("tomorrow 1am", "2027-03-10 01:00"),
    ("tomorrow 1", "2027-03-10 13:00"),  # 1 to 6: the afternoon
    ("tomorrow 6", "2027-03-10 18:00"),
    ("tomorrow 7", "2027-03-10 07:00"),  # 7 on: as written
    ("tomorrow 6:30", "2027-03-10 18:30"),
    ("tomorrow 5:60", "!“5:60” is not a time of day"),
    ("tomorrow 5:60pm", "!“5:60pm” is not a time of day"),
    ("tomorrow 11 pm", "2027-03-10 23:00"),
    ("tomorrow 13 pm", "!“13 pm” is not a time of day"),
    ("5:30 pm tomorrow", "2027-03-10 17:30"),
    ("10am", "2027-03-10 10:00"),  # its minute has come: tomorrow's
    ("tuesday 10am", "2027-03-16 10:00"),
    ("the 24th friday", "!“the 24th” and “friday” are two different days"),
    (
        "tomorrow utc 3pm",
        "",
        {EAST: "2027-03-10 20:30", WEST: "2027-03-10 12:00", DST: "2027-03-10 10:00"},
    ),
    ("in 3d 9am", "2027-03-12 09:00"),
    ("in 3 days from now 9am", "2027-03-12 09:00"),
    ("in 3 days from tomorrow", "!could not read “from”"),
    ("in x", "!“in x”: write how long"),
    ("in 30", "!needs a unit"),
    ("in 1830 days", "2032-03-12 17:00"),  # five years ahead, to the day: allowed
    ("in 1831 days", "!“in 1831 days” is too far ahead: at most 5 years"),
    ("this year", "!“this year”: which day? Say a day, like next monday, or end of week"),
    ("next week", "!or end of next week"),
    ("this noon", "!could not read “this”"),
    (
        "9am in 3 days utc",
        "",
        {EAST: "2027-03-12 14:30", WEST: "2027-03-12 06:00", DST: "2027-03-12 04:00"},
    ),
    (
        "tomorrow gmt 5pm",
        "",
        {EAST: "2027-03-10 22:30", WEST: "2027-03-10 14:00", DST: "2027-03-10 12:00"},
    ),
    (
        "tomorrow 5pm z",
        "",
        {EAST: "2027-03-10 22:30", WEST: "2027-03-10 14:00", DST: "2027-03-10 12:00"},
    ),
    # not dates
    ("someday maybe", "!“someday”"),
    ("eventually", "!“eventually”"),
    ("mañana", "!“mañana”"),
    ("morgen 17:00", "!“morgen”"),
    ("tomorrow xyz", "!“xyz”"),
    ("at", "!“at”"),
]


def _cases():
    for row in TABLE:
        phrase, meaning = row[0], row[1]
        overrides = row[2] if len(row) == 3 else {}
        for tz in ZONES:
            yield pytest.param(phrase, tz, overrides.get(tz, meaning), id=f"{phrase}@{tz}")


def test_the_table_is_big_enough() -> None:
    assert len(TABLE) * len(ZONES) >= 450


@pytest.mark.parametrize(("phrase", "tz", "meaning"), list(_cases()))
def test_a_phrase_means_one_thing(phrase: str, tz: str, meaning: str) -> None:
    now = local_now(tz)
    if meaning.startswith("!"):
        with pytest.raises(DateError) as refused:
            parse_when(phrase, tz, now, DUE_DEFAULT_TIME)
        assert meaning[1:] in str(refused.value)
        assert "\n" not in str(refused.value)  # one line
        return
    moment = parse_when(phrase, tz, now, DUE_DEFAULT_TIME)
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
    assert moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") == meaning


@pytest.mark.parametrize(("phrase", "meaning"), [r[:2] for r in TABLE if r[1].startswith("!")])
def test_what_cannot_be_read_wherever_is_refused_before_anything_is_sent(
    phrase: str, meaning: str
) -> None:
    """The grammar's check needs no clock or zone: a phrase refused for its words (not for a
    year out of range, which depends on today) is refused by it too, the same way."""
    clock_bound = (
        meaning[1:].isdigit()
        or " is in " in meaning  # a year out of range: today decides
        or "could be" in meaning
        or phrase in ("tonight 9pm",)
    )
    if clock_bound:
        return
    with pytest.raises(DateError) as refused:
        check(phrase)
    assert meaning[1:] in str(refused.value)


@pytest.mark.parametrize(
    ("phrase", "meaning"),
    [
        ("tomorrow", "2027-03-10 09:00"),
        ("friday", "2027-03-12 09:00"),
        ("tuesday", "2027-03-16 09:00"),  # today's 09:00 is past at 10:00
        ("2027-12-24", "2027-12-24 09:00"),
        ("eod", "2027-03-09 17:00"),  # a part of the day keeps its time
        ("dec 24 3pm", "2027-12-24 15:00"),
    ],
)
def test_a_start_date_without_a_time_starts_at_nine(phrase: str, meaning: str) -> None:
    for tz in ZONES:
        moment = parse_when(phrase, tz, local_now(tz), START_DEFAULT_TIME)
        assert moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") == meaning


@pytest.mark.parametrize(
    ("wall", "phrase", "meaning"),
    [
        ("2027-03-09 22:19", "tonight", "!“tonight” (20:00) has passed"),
        ("2027-03-09 22:19", "1700", "2027-03-10 17:00"),
        ("2027-03-09 18:00", "eod", "2027-03-10 17:00"),
        ("2027-03-09 17:59", "evening", "2027-03-09 18:00"),
        ("2027-03-09 18:00", "evening", "2027-03-10 18:00"),  # its minute has come: tomorrow's
        ("2027-03-09 20:00", "tonight", "!“tonight” (20:00) has passed"),
        ("2027-03-12 17:00", "end of week", "2027-03-19 17:00"),
        ("2027-03-31 17:00", "end of month", "2027-04-30 17:00"),
        ("2027-03-12 10:00", "friday", "2027-03-12 17:00"),  # Friday: today's
        ("2027-03-12 18:00", "friday", "2027-03-19 17:00"),  # past: next week's
        ("2027-03-12 18:00", "end of week", "2027-03-19 17:00"),
        ("2027-03-13 10:00", "end of week", "2027-03-19 17:00"),  # Saturday
        ("2027-03-14 10:00", "next friday", "2027-03-19 17:00"),  # Sunday: next week is Monday's
        ("2027-03-31 18:00", "end of month", "2027-04-30 17:00"),
        ("2027-12-31 10:00", "jan 2", "2028-01-02 17:00"),
        ("2027-12-31 10:00", "the 1st", "2028-01-01 17:00"),
        ("2027-01-31 10:00", "in 1 month", "2027-02-28 17:00"),
        ("2027-01-31 10:00", "the 30th", "2027-03-30 17:00"),  # February has none
        ("2027-12-31 10:00", "dec 24 2026", "2026-12-24 17:00"),  # last year
        ("2027-12-31 10:00", "dec 24 2025", "!2025"),  # two years back
    ],
)
def test_the_clock_decides_which_occurrence(wall: str, phrase: str, meaning: str) -> None:
    now = local_now(DST, wall)
    if meaning.startswith("!"):
        with pytest.raises(DateError) as refused:
            parse_when(phrase, DST, now, DUE_DEFAULT_TIME)
        assert meaning[1:] in str(refused.value)
        return
    moment = parse_when(phrase, DST, now, DUE_DEFAULT_TIME)
    assert moment.astimezone(ZoneInfo(DST)).strftime("%Y-%m-%d %H:%M") == meaning


@pytest.mark.parametrize(
    ("locale", "first_is_day"),
    [
        ("en-US", False),
        ("en-GB", True),
        ("fr-FR", True),
        ("de-DE", True),
        ("es-LA", True),
        ("pt-BR", True),
        ("ja-JP", False),
        ("ko-KR", False),
        ("zh-CN", False),
        ("zh-TW", False),
        ("en_US", False),
        (None, None),
        ("", None),
    ],
)
def test_the_slack_language_settles_day_and_month(locale, first_is_day) -> None:
    assert day_first(locale) is first_is_day


@pytest.mark.parametrize(
    ("phrase", "part", "day_first_reading", "month_first_reading"),
    [
        ("04/03", "04/03", "4 mar", "3 apr"),
        ("12/11", "12/11", "12 nov", "11 dec"),
        ("13/12", None, "13/12", "13/12"),  # 13: a day, whatever the order
        ("12/13", None, "12/13", "12/13"),
        ("12/12", None, "12/12", "12/12"),
        ("4/3 2pm", "4/3", "4 mar 2pm", "3 apr 2pm"),
        ("tomorrow", None, "tomorrow", "tomorrow"),
        ("31/12", None, "31/12", "31/12"),
        ("5/5", None, "5/5", "5/5"),
        ("1/2/2027", "1/2/2027", "1 feb 2027", "2 jan 2027"),
        ("24.12.", None, "24.12.", "24.12."),  # dots: the day first, always
        ("someday", None, "someday", "someday"),
    ],
)
def test_an_unclear_day_and_month_is_found_and_written_out(
    phrase, part, day_first_reading, month_first_reading
) -> None:
    assert undecided(phrase) == part
    assert settle(phrase, True) == day_first_reading
    assert settle(phrase, False) == month_first_reading
    assert readings(phrase) == ((day_first_reading, month_first_reading) if part else None)


def test_an_empty_date_and_a_phrase_without_a_day_are_said_so() -> None:
    with pytest.raises(DateError, match="the date is empty"):
        parse_when("  ", DST, local_now(DST), DUE_DEFAULT_TIME)
    assert undecided("5pm") is None and readings("5pm") is None


def test_the_users_order_reads_an_unclear_date() -> None:
    now = local_now(DST)
    with pytest.raises(AmbiguousDate):
        parse_when("04/03", DST, now, DUE_DEFAULT_TIME)
    day = parse_when("04/03", DST, now, DUE_DEFAULT_TIME, first_is_day=True)
    month = parse_when("04/03", DST, now, DUE_DEFAULT_TIME, first_is_day=False)
    assert day.astimezone(ZoneInfo(DST)).date().isoformat() == "2028-03-04"  # 4 March: past
    assert month.astimezone(ZoneInfo(DST)).date().isoformat() == "2027-04-03"
    assert parse_when(settle("04/03", False), DST, now, DUE_DEFAULT_TIME) == month


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


def test_oracle_time_keeps_milliseconds() -> None:
    assert oracle_time(datetime(2026, 1, 2, 3, 4, 5, 1000, tzinfo=UTC)).endswith(".001Z")
    moment = datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=UTC)
    assert oracle_time(moment) == "2026-01-02T03:04:05.678Z"
    assert oracle_time(moment.replace(microsecond=999999)) == "2026-01-02T03:04:05.999Z"


def test_oracle_time_is_utc_whatever_the_zone_of_the_moment(process_zone: str) -> None:
    paris = timezone(timedelta(hours=1))
    assert oracle_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=paris)) == "2026-01-02T02:04:05.000Z"


@pytest.mark.parametrize(
    ("phrase", "meaning"), [("tomorrow 5pm", "2027-03-10 17:00"), ("friday", "2027-03-12 17:00")]
)
def test_the_machines_own_zone_never_matters(phrase: str, meaning: str, process_zone: str) -> None:
    moment = parse_when(phrase, DST, local_now(DST), DUE_DEFAULT_TIME)
    assert moment.astimezone(ZoneInfo(DST)).strftime("%Y-%m-%d %H:%M") == meaning


def test_an_unknown_zone_is_utc() -> None:
    now = datetime(2027, 3, 9, 10, 0, tzinfo=UTC)
    for tz in (None, "", "Not/AZone"):
        assert oracle_time(parse_when("tomorrow", tz, now, DUE_DEFAULT_TIME)) == (
            "2027-03-10T17:00:00.000Z"
        )


def test_every_form_the_help_lists_reads_in_every_zone() -> None:
    """``/task help`` and the README list ``FORMS``: each one is read, as either order."""
    from bot.domain.when import FORMS
    from bot.slack.render import dates_help

    shown = dates_help()
    for typed, _ in FORMS:
        for form in (part.strip() for part in typed.split(",")):
            assert f"`{form}`" in shown
            for tz in ZONES:
                for first_is_day in (True, False):
                    moment = parse_when(
                        form, tz, local_now(tz), DUE_DEFAULT_TIME, first_is_day=first_is_day
                    )
                    assert moment.tzinfo is not None


_WORDS = sorted(
    {
        *when._MONTHS,
        *when._WEEKDAYS,
        *when._UNITS,
        *when._DAY_WORDS,
        *when._FILLER,
        *(word for phrase in when.NAMED_TIMES for word in phrase.split()),
        *("in", "this", "next", "coming", "the", "of", "from", "now", "am", "pm", "utc", "eow"),
        *("eom", "week", "month", "year", "a", "an", "ago", "p.m.", "a.m."),
    }
)
_NUMBERS = st.integers(min_value=0, max_value=3000).map(str) | st.sampled_from(
    ["0900", "1700", "2359", "2400", "17h", "17h30", "5pm", "12am", "13pm", "5:30", "25:00"]
)
_SHAPES = st.builds(
    lambda a, sep, b, c: f"{a}{sep}{b}{c}",
    st.integers(0, 40).map(str),
    st.sampled_from(["/", ".", "-", ":"]),
    st.integers(0, 40).map(str),
    st.sampled_from(["", "/2027", "/27", ".", ".2027", "th", "st"]),
)
_TOKENS = st.sampled_from(_WORDS) | _NUMBERS | _SHAPES


@settings(max_examples=400, deadline=None)
@given(
    words=st.lists(_TOKENS, min_size=1, max_size=5),
    tz=st.sampled_from(ZONES),
    first_is_day=st.sampled_from([None, True, False]),
)
def test_no_crash_any_phrase_of_the_forms_words_is_read_or_refused_in_one_line(
    words: list[str], tz: str, first_is_day: bool | None
) -> None:
    """Built from the reader's own words and shapes (not random text, which almost never
    holds a date): each phrase is read, in range, or refused with one line; never a traceback."""
    phrase = " ".join(words)
    now = local_now(tz)
    try:
        moment = parse_when(phrase, tz, now, DUE_DEFAULT_TIME, first_is_day=first_is_day)
    except DateError as refused:
        assert "\n" not in str(refused) and str(refused)
        return
    assert moment.utcoffset() == timedelta(0)
    assert now.year - 1 <= moment.astimezone(ZoneInfo(tz)).year <= now.year + 5
    check(phrase)  # what is read with a clock is readable without one
