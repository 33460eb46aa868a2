"""Background rounds (the sweep, the sync, the digests): an operator reads one line when a round
starts failing, with the error in words, and one when it works again; the tracebacks are at
DEBUG only."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from bot.server import every


async def test_a_failing_round_is_told_once_and_its_recovery_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outcomes = [None, OSError("Cannot connect to host slack.com:443\\nmore"), OSError("again")]
    outcomes += [OSError("still")] * 5 + [None, None, ValueError(""), None]
    ran = asyncio.Event()

    async def one_round() -> None:
        if not outcomes:  # every outcome played: wait to be stopped
            ran.set()
            await asyncio.Event().wait()
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    said: list[tuple[str, bool]] = []

    def failing(what: str, now: bool) -> None:
        said.append((what, now))

    with caplog.at_level(logging.DEBUG, logger="bot.server"):
        loop = asyncio.ensure_future(every(0, one_round, "morning digests", failing=failing))
        await asyncio.wait_for(ran.wait(), 5)
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    told = [
        (r.levelname, r.getMessage())
        for r in caplog.records
        if r.name == "bot.server" and r.levelno >= logging.INFO
    ]
    assert told == [
        (
            "ERROR",
            "morning digests failed: OSError: Cannot connect to host slack.com:443\\nmore "
            "(tried again every 0 s; one line when it works again)",
        ),
        ("INFO", "morning digests works again"),
        (
            "ERROR",
            "morning digests failed: ValueError (tried again every 0 s; one line when it works "
            "again)",
        ),
        ("INFO", "morning digests works again"),
    ]
    assert all(r.exc_info is None for r in caplog.records if r.levelno >= logging.INFO)
    tracebacks = [r for r in caplog.records if r.levelno == logging.DEBUG and r.exc_info]
    assert len(tracebacks) == 8  # every failure's, for whoever turns DEBUG on
    # the metrics' gauge (taskbot_background_failing) after each round
    assert [now for what, now in said if what == "morning digests"] == [
        False,
        *[True] * 7,
        False,
        False,
        True,
        False,
    ]
