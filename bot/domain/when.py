"""Reading the dates and times people type (``tomorrow 5pm``, ``friday 1500``, ``dec 24``).

Written by hand, on purpose. A general date library guesses: it read ``@due 1700`` as the year
1700, ``next friday`` as this Friday, ``tomorrow morning`` as tomorrow at 17:00, and dropped what
it could not read (``Friday 1500`` became 30 November 1500). A wrong date that looks right is
worse than a refusal, since the task is created with it. So the bot reads a short, documented
list of forms (``FORMS``, shown by ``/task help`` and the README), each with one meaning, and
refuses anything else naming the part it could not read. ISO 8601 is read by the standard
library; month and weekday names are English.

Reading is in two steps: ``parse`` is pure and needs no clock or zone (the grammar checks a
phrase with it before anything is sent); ``resolve`` places the parts in the user's time zone at
a given moment. Results are aware UTC datetimes.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DUE_DEFAULT_TIME = time(17, 0)
START_DEFAULT_TIME = time(9, 0)
YEARS_BACK = 1  # a year given must be from last year ...
YEARS_AHEAD = 5  # ... to five years ahead

# the parts of the day, each one time (README, /task help)
NAMED_TIMES: dict[str, time] = {
    "morning": time(9, 0),
    "noon": time(12, 0),
    "midday": time(12, 0),
    "afternoon": time(14, 0),
    "evening": time(18, 0),
    "night": time(20, 0),
    "tonight": time(20, 0),
    "eod": time(17, 0),
    "end of day": time(17, 0),
    "end of the day": time(17, 0),
    "cob": time(17, 0),
    "close of business": time(17, 0),
    "midnight": time(23, 59),
}
END_OF_WEEK = time(17, 0)  # Friday's, as eod

# every form, as the help and the README list it: (what is typed, what it means)
FORMS: tuple[tuple[str, str], ...] = (
    ("2026-12-24, 2026-12-24 14:30", "ISO 8601; with Z or +02:00, in that zone"),
    ("dec 24, 24 december, dec 24 2026", "a day of a month (the next one, without a year)"),
    ("24/12, 12/24, 24.12.", "day and month in your Slack language's order; asked when unclear"),
    ("the 24th", "the next 24th of a month"),
    ("today, tomorrow, yesterday", ""),
    ("friday, this friday", "the coming Friday (today if it is Friday and the time is ahead)"),
    ("next friday", "Friday of next week (weeks start on Monday)"),
    ("in 30 minutes, in 2 hours", "that long from now"),
    ("in 3 days, in 2 weeks, in 1 month", "that day, at the field's usual time"),
    ("5pm, 5:30pm, 17:00, 1700, 17h, 17h30", "a time of day (today's, or tomorrow's if past)"),
    ("5, 5:30, 530", "1 to 6 without am/pm or a leading zero are afternoon hours (17:00)"),
    ("morning, noon, afternoon, evening", "09:00, 12:00, 14:00, 18:00"),
    ("tonight, eod, end of week", "today 20:00, today 17:00, Friday 17:00"),
    ("end of month, midnight", "the month's last day 17:00; 23:59"),
)


class DateError(ValueError):
    """A phrase that cannot be read as a date, with one line saying which part and why."""


class AmbiguousDate(DateError):
    """A day/month date the user's language does not settle (``04/03``)."""


def zone(name: str | None) -> ZoneInfo:
    """The named IANA zone, or UTC when the name is empty or unknown."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# ---------------------------------------------------------------- parts, without a clock


@dataclass(frozen=True)
class Day:
    kind: str  # today, tomorrow, yesterday, tonight, weekday, date, numeric, ordinal,
    # in_days, in_months, end_week, end_month
    text: str  # as typed, for messages
    number: int = 0  # weekday 0-6, days, months, ordinal day
    later: bool = False  # next friday, end of next week
    year: int | None = None
    month: int = 0
    day: int = 0
    first: int = 0  # numeric: the two numbers as typed (day/month order to settle)
    second: int = 0


@dataclass(frozen=True)
class Clock:
    at: time
    text: str


@dataclass(frozen=True)
class Parts:
    day: Day | None = None
    clock: Clock | None = None
    shift: timedelta | None = None  # in 30 minutes, in 2 hours
    shift_text: str = ""
    utc: bool = False


_MONTHS = {name.lower(): index for index, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): index for index, name in enumerate(calendar.month_abbr) if name}
_MONTHS["sept"] = 9
_WEEKDAYS = {name.lower(): index for index, name in enumerate(calendar.day_name)}
_WEEKDAYS |= {name.lower(): index for index, name in enumerate(calendar.day_abbr)}
_WEEKDAYS |= {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}
_UNITS = {
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "weeks"),
    **dict.fromkeys(("mo", "month", "months"), "months"),
}
_MOST = {  # how far ahead "in ..." may reach, per unit
    "minutes": 60 * 24 * 366 * YEARS_AHEAD,
    "hours": 24 * 366 * YEARS_AHEAD,
    "days": 366 * YEARS_AHEAD,
    "weeks": 53 * YEARS_AHEAD,
    "months": 12 * YEARS_AHEAD,
}
_FILLER = {"at", "on", "by"}
_DAY_WORDS = {
    "today": "today",
    "tomorrow": "tomorrow",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "yesterday": "yesterday",
    "tonight": "tonight",
    "tonite": "tonight",
}
_AMPM = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?(am|pm|a\.m\.|p\.m\.)$")
_COLON = re.compile(r"^(\d{1,2}):(\d{2})$")
_HOUR_H = re.compile(r"^(\d{1,2})h(\d{2})?$")
_DIGITS = re.compile(r"^\d+$")
_ORDINAL = re.compile(r"^(\d{1,2})(st|nd|rd|th)$")
_SLASHED = re.compile(r"^(\d{1,4})/(\d{1,2})(?:/(\d{2}|\d{4}))?$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})(?:\.(\d{2}|\d{4})?)?$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_IN_ATTACHED = re.compile(r"^(\d+)([a-z]+)$")
_ISO_WHOLE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\S+)?$")
_ISO_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_HINT = (
    "a date is like tomorrow, friday, dec 24 or 2026-12-24; a time like 5pm, 17:00 or 1700 "
    "(/task help lists every form)"
)


def _hour_minute(hours: str, minutes: str | None, *, as_written: bool, text: str) -> time:
    """A time from its digits. Hours 1 to 6 written without a leading zero (or am/pm) are
    afternoon hours: at work, 5 means 17:00."""
    hour, minute = int(hours), int(minutes or 0)
    if hour > 23 or minute > 59:
        raise DateError(f"“{text}” is not a time of day: {_HINT}")
    if not as_written and not hours.startswith("0") and 1 <= hour <= 6:
        hour += 12
    return time(hour, minute)


def _two_year(text: str) -> int:
    return int(text) + 2000 if len(text) == 2 else int(text)


class _Reader:
    def __init__(self, phrase: str) -> None:
        self.phrase = phrase
        self.tokens = phrase.lower().replace(",", " ").split()
        self.parts = Parts()

    # each step reads at position i and returns how many tokens it took (0: not its form)

    def read(self) -> Parts:
        steps = (
            self._filler,
            self._phrases,
            self._relative,
            self._day_word,
            self._this_next,
            self._weekday,
            self._month_date,
            self._ordinal,
            self._numeric_date,
            self._time,
            self._zone,
        )
        i = 0
        while i < len(self.tokens):
            for step in steps:
                taken = step(i)
                if taken:
                    i += taken
                    break
            else:
                raise DateError(f"could not read “{self.tokens[i]}” in “{self.phrase}”: {_HINT}")
        if self.parts.day is None and self.parts.clock is None and self.parts.shift is None:
            raise DateError(f"“{self.phrase}” holds no date or time: {_HINT}")
        if self.parts.day is not None:
            _could_be(self.parts.day)
        return self.parts

    def _at(self, i: int) -> str:
        return self.tokens[i] if i < len(self.tokens) else ""

    def _set_day(self, day: Day) -> None:
        if self.parts.day is not None:
            raise DateError(
                f"“{self.parts.day.text}” and “{day.text}” are two different days: give one"
            )
        if self.parts.shift is not None:
            raise DateError(f"“{self.parts.shift_text}” already says when: leave out “{day.text}”")
        self.parts = replace(self.parts, day=day)

    def _set_clock(self, clock: Clock) -> None:
        if self.parts.clock is not None:
            raise DateError(
                f"“{self.parts.clock.text}” and “{clock.text}” are two times of day: give one"
            )
        if self.parts.shift is not None:
            raise DateError(
                f"“{self.parts.shift_text}” already says when: leave out “{clock.text}”"
            )
        self.parts = replace(self.parts, clock=clock)

    def _filler(self, i: int) -> int:
        return 1 if self.tokens[i] in _FILLER else 0

    def _phrases(self, i: int) -> int:
        """Parts of the day and the ends of periods, of one or more words."""
        for words in sorted(NAMED_TIMES, key=lambda w: -len(w.split())):
            size = len(words.split())
            if " ".join(self.tokens[i : i + size]) == words:
                if words == "tonight":
                    return 0  # a day word (today, 20:00)
                self._set_clock(Clock(NAMED_TIMES[words], words))
                return size
        for words, later in (
            ("end of week", False),
            ("end of the week", False),
            ("eow", False),
            ("end of next week", True),
        ):
            size = len(words.split())
            if " ".join(self.tokens[i : i + size]) == words:
                self._set_day(Day("end_week", words, later=later))
                self._set_clock(Clock(END_OF_WEEK, words))
                return size
        for words in ("end of month", "end of the month", "eom"):
            size = len(words.split())
            if " ".join(self.tokens[i : i + size]) == words:
                self._set_day(Day("end_month", words))
                self._set_clock(Clock(END_OF_WEEK, words))
                return size
        return 0

    def _relative(self, i: int) -> int:
        """``in 3 days``, ``in 2h``, ``in a week``, ``3 days``, ``3 days from now``."""
        token = self.tokens[i]
        start = i
        if token == "in":
            i += 1
        amount_text = self._at(i)
        attached = _IN_ATTACHED.match(amount_text) if token == "in" else None
        if attached and attached.group(2) in _UNITS:
            amount, unit, i = int(attached.group(1)), _UNITS[attached.group(2)], i + 1
        elif _DIGITS.match(amount_text) or (amount_text in ("a", "an") and token == "in"):
            amount = 1 if amount_text in ("a", "an") else int(amount_text)
            unit_text = self._at(i + 1)
            if unit_text not in _UNITS:
                if token == "in":
                    raise DateError(
                        f"“in {amount_text}” needs a unit: in {amount_text} minutes, "
                        f"in {amount_text} hours or in {amount_text} days"
                    )
                return 0  # a bare number: a time of day
            unit, i = _UNITS[unit_text], i + 2
        else:
            if token == "in":
                raise DateError(
                    f"“in {amount_text}”: write how long, like in 30 minutes or in 3 days"
                )
            return 0
        if self._at(i) == "from" and self._at(i + 1) == "now":
            i += 2
        text = " ".join(self.tokens[start:i])
        if amount > _MOST[unit]:
            raise DateError(f"“{text}” is too far ahead: at most {YEARS_AHEAD} years")
        if unit in ("minutes", "hours"):
            given = self.parts.day or self.parts.clock
            if given is not None:
                raise DateError(f"“{text}” already says when: leave out “{given.text}”")
            self.parts = replace(self.parts, shift=timedelta(**{unit: amount}), shift_text=text)
        elif unit == "months":
            self._set_day(Day("in_months", text, number=amount))
        else:
            self._set_day(Day("in_days", text, number=amount * (7 if unit == "weeks" else 1)))
        return i - start

    def _day_word(self, i: int) -> int:
        kind = _DAY_WORDS.get(self.tokens[i])
        if kind is None:
            return 0
        self._set_day(Day(kind, self.tokens[i]))
        if kind == "tonight":
            self._set_clock(Clock(NAMED_TIMES["tonight"], self.tokens[i]))
        return 1

    def _this_next(self, i: int) -> int:
        word, following = self.tokens[i], self._at(i + 1)
        if word not in ("this", "next", "coming"):
            return 0
        if following in _WEEKDAYS:
            later = word == "next"
            self._set_day(Day("weekday", f"{word} {following}", _WEEKDAYS[following], later))
            return 2
        if word == "this" and following in ("morning", "afternoon", "evening"):
            self._set_day(Day("today", f"this {following}"))
            self._set_clock(Clock(NAMED_TIMES[following], f"this {following}"))
            return 2
        if following in ("week", "month", "year"):
            raise DateError(
                f"“{word} {following}”: which day? Say a day, like next monday, or "
                f"end of {'next ' if word == 'next' else ''}week"
            )
        return 0

    def _weekday(self, i: int) -> int:
        token = self.tokens[i]
        if token not in _WEEKDAYS:
            return 0
        self._set_day(Day("weekday", token, _WEEKDAYS[token]))
        return 1

    def _day_number(self, token: str) -> int | None:
        ordinal = _ORDINAL.match(token)
        text = ordinal.group(1) if ordinal else token
        if _DIGITS.match(text) and len(text) <= 2:
            if not 1 <= int(text) <= 31:
                raise DateError(f"“{token}” is not a day of a month")
            return int(text)
        return None

    def _year_after(self, i: int) -> tuple[int | None, int]:
        token = self._at(i)
        if _DIGITS.match(token) and len(token) == 4 and token[:2] in ("19", "20", "21"):
            return int(token), 1
        return None, 0

    def _month_date(self, i: int) -> int:
        """``dec 24``, ``december 24th 2026``, ``24 dec``, ``24th of december``."""
        token = self.tokens[i]
        if token in _MONTHS:
            month = _MONTHS[token]
            day = self._day_number(self._at(i + 1))
            if day is None:
                raise DateError(f"“{token}”: which day of {calendar.month_name[month]}?")
            year, taken = self._year_after(i + 2)
            size = 2 + taken
        else:
            if not (_ORDINAL.match(token) or (_DIGITS.match(token) and len(token) <= 2)):
                return 0
            of = 1 if self._at(i + 1) == "of" else 0
            month_token = self._at(i + 1 + of)
            if month_token not in _MONTHS:
                return 0
            day = self._day_number(token)
            if day is None:
                return 0
            month = _MONTHS[month_token]
            year, taken = self._year_after(i + 2 + of)
            size = 2 + of + taken
        text = " ".join(self.tokens[i : i + size])
        self._set_day(Day("date", text, year=year, month=month, day=day))
        return size

    def _ordinal(self, i: int) -> int:
        """``the 24th``, ``24th``: the next 24th of a month."""
        the = 1 if self.tokens[i] == "the" else 0
        token = self._at(i + the)
        if not _ORDINAL.match(token):
            return 0
        day = self._day_number(token)
        assert day is not None
        self._set_day(Day("ordinal", " ".join(self.tokens[i : i + the + 1]), number=day))
        return 1 + the

    def _numeric_date(self, i: int) -> int:
        token = self.tokens[i]
        iso = _ISO_DAY.match(token)
        if iso:
            year, month, day = (int(part) for part in iso.groups())
            self._set_day(Day("date", token, year=year, month=month, day=day))
            return 1
        dotted = _DOTTED.match(token)  # the European way: day first
        if dotted:
            year = _two_year(dotted.group(3)) if dotted.group(3) else None
            day, month = int(dotted.group(1)), int(dotted.group(2))
            self._set_day(Day("date", token, year=year, month=month, day=day))
            return 1
        slashed = _SLASHED.match(token)
        if not slashed:
            return 0
        first, second, third = slashed.groups()
        if len(first) == 4:  # 2026/12/24
            if third is None:
                raise DateError(f"“{token}” is not a date: {_HINT}")
            year, month, day = int(first), int(second), int(third)
            self._set_day(Day("date", token, year=year, month=month, day=day))
            return 1
        if len(first) == 3:
            raise DateError(f"“{token}” is not a date: {_HINT}")
        year = _two_year(third) if third else None
        self._set_day(Day("numeric", token, year=year, first=int(first), second=int(second)))
        return 1

    def _time(self, i: int) -> int:
        token, following = self.tokens[i], self._at(i + 1)
        ampm = _AMPM.match(token)
        taken = 1
        if (
            ampm is None
            and _DIGITS.match(token)
            and len(token) <= 2
            and following
            in (
                "am",
                "pm",
                "a.m.",
                "p.m.",
            )
        ):
            ampm = _AMPM.match(token + following)
            taken = 2
        if ampm is None and _COLON.match(token) and following in ("am", "pm"):
            ampm = _AMPM.match(token + following)
            taken = 2
        if ampm:
            hour, minute = int(ampm.group(1)), int(ampm.group(2) or 0)
            text = " ".join(self.tokens[i : i + taken])
            if not 1 <= hour <= 12 or minute > 59:
                raise DateError(f"“{text}” is not a time of day: {_HINT}")
            hour = hour % 12 + (12 if ampm.group(3).startswith("p") else 0)
            self._set_clock(Clock(time(hour, minute), text))
            return taken
        colon = _COLON.match(token)
        if colon:
            self._set_clock(
                Clock(_hour_minute(*colon.groups(), as_written=False, text=token), token)
            )
            return 1
        hour_h = _HOUR_H.match(token)
        if hour_h:
            self._set_clock(
                Clock(_hour_minute(*hour_h.groups(), as_written=True, text=token), token)
            )
            return 1
        if _DIGITS.match(token):
            if len(token) <= 2:
                at = _hour_minute(token, None, as_written=False, text=token)
            elif len(token) <= 4:  # 930, 1700, 0900
                at = _hour_minute(token[:-2], token[-2:], as_written=False, text=token)
            else:
                raise DateError(f"“{token}” is not a date or a time: {_HINT}")
            self._set_clock(Clock(at, token))
            return 1
        return 0

    def _zone(self, i: int) -> int:
        if self.tokens[i] in ("utc", "gmt", "z"):
            self.parts = replace(self.parts, utc=True)
            return 1
        return 0


def _could_be(day: Day) -> None:
    """Refuse a day of a month that no year has (``apr 31``, ``13/13``), whatever the clock."""
    if day.kind == "numeric":
        if day.first > 12 or day.second > 12 or day.first == day.second:
            _could_be(_ordered(day, None))
        return
    if day.kind != "date":
        return
    if not 1 <= day.month <= 12:
        raise DateError(f"“{day.text}” is not a date: there is no month {day.month}")
    most = calendar.monthrange(day.year or 2024, day.month)[1]  # 2024: a leap year
    if day.day > most:
        raise DateError(
            f"“{day.text}” is not a date: {calendar.month_name[day.month]} "
            f"{'' if day.year is None else str(day.year) + ' '}has {most} days"
        )


def _parse(phrase: str) -> Parts:
    """The parts of a phrase. Not cached: reading one costs some microseconds (a cache would
    also hide a changed reader from a test run in a forked process, as mutation testing does)."""
    return _Reader(phrase).read()


def _normal(text: str) -> str:
    return " ".join(text.split())


def check(text: str) -> None:
    """Raise DateError when the phrase cannot be read, whatever the day and zone (pure: the
    grammar checks with it before anything is sent)."""
    phrase = _normal(text)
    if _iso(phrase, ZoneInfo("UTC"), DUE_DEFAULT_TIME) is None:
        _parse(phrase)


# ---------------------------------------------------------------- day and month order

# Slack's languages that write the month first (en-US) or the year first, then the month (the
# CJK ones: 2026/12/24, so 12/24 for a day in a year); every other one writes the day first
_MONTH_FIRST = ("en-us", "ja", "ko", "zh")


def day_first(locale: str | None) -> bool | None:
    """Whether a user of this Slack locale writes the day before the month (None: unknown)."""
    if not locale:
        return None
    key = locale.lower().replace("_", "-")
    return not any(key == code or key.startswith(code + "-") for code in _MONTH_FIRST)


def undecided(text: str) -> str | None:
    """The part of a phrase whose day/month order is unclear (``04/03``), or None."""
    phrase = _normal(text)
    try:
        parts = _parse(phrase)
    except DateError:
        return None
    day = parts.day
    if day is None or day.kind != "numeric":
        return None
    if day.first > 12 or day.second > 12 or day.first == day.second:
        return None
    return day.text


def settle(text: str, first_is_day: bool) -> str:
    """The phrase with its numeric day/month written out (``04/03`` → ``4 mar``), read as the
    given order; unchanged when it holds no such date."""
    phrase = _normal(text)
    part = undecided(phrase)
    if part is None:
        return phrase
    parts = _parse(phrase)
    assert parts.day is not None
    day, month = (
        (parts.day.first, parts.day.second) if first_is_day else (parts.day.second, parts.day.first)
    )
    written = f"{day} {calendar.month_abbr[month].lower()}"
    if parts.day.year is not None:
        written += f" {parts.day.year}"
    tokens = phrase.split()
    return " ".join(written if token.lower() == part else token for token in tokens)


def readings(text: str) -> tuple[str, str] | None:
    """Both readings of an unclear day/month phrase, day first then month first."""
    if undecided(text) is None:
        return None
    return settle(text, True), settle(text, False)


# ---------------------------------------------------------------- placing it in time


def parse_when(
    text: str,
    tz: str | None,
    now: datetime,
    default_time: time,
    *,
    first_is_day: bool | None = None,
) -> datetime:
    """The moment ``text`` names for a user in zone ``tz`` at ``now``, in UTC. Raises
    DateError (AmbiguousDate for ``04/03`` when ``first_is_day`` does not settle it)."""
    phrase = _normal(text)
    if not phrase:
        raise DateError("the date is empty")
    local_zone = zone(tz)
    moment = _iso(phrase, local_zone, default_time)
    if moment is None:
        moment = _resolve(_parse(phrase), local_zone, now, default_time, first_is_day)
    _in_range(moment, now, phrase)
    return moment


def _iso(phrase: str, local_zone: ZoneInfo, default_time: time) -> datetime | None:
    """ISO 8601 (``2026-12-24``, ``2026-12-24 14:30``, ``…T14:30+02:00``), or None when the
    phrase is not one (``2026-12-24 5pm`` is then read part by part)."""
    if not _ISO_WHOLE.match(phrase):
        return None
    try:
        moment = datetime.fromisoformat(phrase)  # since 3.11: a space for the T too
    except ValueError:
        return None
    if _ISO_DATE_ONLY.match(phrase):
        moment = datetime.combine(moment.date(), default_time)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_zone)
    return moment.astimezone(UTC)


def _in_range(moment: datetime, now: datetime, phrase: str) -> None:
    low, high = now.year - YEARS_BACK, now.year + YEARS_AHEAD
    if not low <= moment.year <= high:
        raise DateError(f"“{phrase}” is in {moment.year}: give a date from {low} to {high}")


def _date(year: int, month: int, day: int, text: str) -> date:
    if not 1 <= month <= 12:
        raise DateError(f"“{text}” is not a date: there is no month {month}")
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError(
            f"“{text}” is not a date: {calendar.month_name[month]} {year} has "
            f"{calendar.monthrange(year, month)[1]} days"
        ) from None


def _next_date(month: int, day: int, today: date, text: str) -> date:
    """The next such day from today on (29 February: the next year that has one)."""
    if not 1 <= month <= 12:
        raise DateError(f"“{text}” is not a date: there is no month {month}")
    if day > calendar.monthrange(2024, month)[1]:
        raise DateError(
            f"“{text}” is not a date: {calendar.month_name[month]} has at most "
            f"{calendar.monthrange(2024, month)[1]} days"
        )
    for year in range(today.year, today.year + 5):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise DateError(f"“{text}” is not a date")  # pragma: no cover - 29 Feb recurs within 5


def _add_months(start: date, months: int) -> date:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _resolve(
    parts: Parts,
    local_zone: ZoneInfo,
    now: datetime,
    default_time: time,
    first_is_day: bool | None,
) -> datetime:
    if parts.shift is not None:
        return now.astimezone(UTC) + parts.shift  # elapsed time: added in UTC, not on the wall
    where = ZoneInfo("UTC") if parts.utc else local_zone
    local_now = now.astimezone(where)
    today = local_now.date()
    at = parts.clock.at if parts.clock else default_time

    def moment(day: date) -> datetime:
        return datetime.combine(day, at, tzinfo=where)

    day = parts.day
    if day is None:  # a time alone: today's, or tomorrow's once past
        chosen = today if moment(today) > local_now else today + timedelta(days=1)
    elif day.kind == "today":
        chosen = today
    elif day.kind == "tonight":
        if moment(today) <= local_now:
            raise DateError(
                f"“{day.text}” (20:00) has passed: give a time, like 11pm or tomorrow evening"
            )
        chosen = today
    elif day.kind == "tomorrow":
        chosen = today + timedelta(days=1)
    elif day.kind == "yesterday":
        chosen = today - timedelta(days=1)
    elif day.kind == "weekday":
        if day.later:  # that day of next week
            chosen = today + timedelta(days=7 - today.weekday() + day.number)
        else:
            chosen = today + timedelta(days=(day.number - today.weekday()) % 7)
            if moment(chosen) <= local_now:
                chosen += timedelta(days=7)
    elif day.kind == "end_week":
        chosen = today + timedelta(days=4 - today.weekday())
        if day.later:
            chosen += timedelta(days=7)
        elif moment(chosen) <= local_now:
            chosen += timedelta(days=7)
    elif day.kind == "end_month":
        chosen = today.replace(day=calendar.monthrange(today.year, today.month)[1])
        if moment(chosen) <= local_now:
            following = _add_months(today.replace(day=1), 1)
            chosen = following.replace(day=calendar.monthrange(following.year, following.month)[1])
    elif day.kind == "in_days":
        chosen = today + timedelta(days=day.number)
    elif day.kind == "in_months":
        chosen = _add_months(today, day.number)
    elif day.kind == "ordinal":
        chosen = _next_ordinal(day, today)
    elif day.kind in ("date", "numeric"):
        if day.kind == "numeric":
            day = _ordered(day, first_is_day)
        if day.year is not None:  # (out of range: refused below, with the whole phrase)
            chosen = _date(day.year, day.month, day.day, day.text)
        else:
            chosen = _next_date(day.month, day.day, today, day.text)
    else:
        raise AssertionError(f"a day of no known kind: {day.kind}")
    return moment(chosen).astimezone(UTC)


def _next_ordinal(day: Day, today: date) -> date:
    start = today.replace(day=1)
    for months in range(0, 3):
        first = _add_months(start, months)
        if day.number <= calendar.monthrange(first.year, first.month)[1]:
            candidate = first.replace(day=day.number)
            if candidate >= today:
                return candidate
    raise DateError(f"“{day.text}” is not a day of the coming months")  # pragma: no cover


def _ordered(day: Day, first_is_day: bool | None) -> Day:
    """A numeric day/month as a date: the only valid order, or the user's language's."""
    first, second = day.first, day.second
    if first > 12 and second > 12:
        raise DateError(f"“{day.text}” is not a date: neither number is a month")
    if first > 12:
        order = True
    elif second > 12:
        order = False
    elif first == second:
        order = True
    elif first_is_day is None:
        raise AmbiguousDate(
            f"“{day.text}” could be {first} {calendar.month_name[second]} or "
            f"{second} {calendar.month_name[first]}: write it as "
            f"{first} {calendar.month_abbr[second].lower()} or "
            f"{second} {calendar.month_abbr[first].lower()}"
        )
    else:
        order = first_is_day
    dd, mm = (first, second) if order else (second, first)
    return replace(day, kind="date", day=dd, month=mm)


def oracle_time(moment: datetime) -> str:
    """Oracle's wire format for times: ISO 8601 in UTC with milliseconds and ``Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
