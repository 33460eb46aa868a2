"""Why a task was not created, in words for a support agent, and what kind of failure it is."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from bot.oracle.errors import (
    B2CAuthError,
    B2CConnectionError,
    B2CError,
    B2CRateLimitError,
    B2CServerError,
    B2CTimeoutError,
    B2CValidationError,
)
from bot.oracle.staff import IdentityError

Failure = B2CError | IdentityError | ValueError


class RetriesExhausted(Exception):
    """Oracle kept failing in ways worth retrying until the retry budget ran out."""

    def __init__(self, last: B2CError, attempts: int) -> None:
        super().__init__(last.reason)
        self.last = last
        self.attempts = attempts


class OutcomeUnknown(Exception):
    """A create may have reached Oracle, and Oracle would not say whether the task exists."""

    def __init__(self, cause: B2CError) -> None:
        super().__init__(cause.reason)
        self.cause = cause


def kind_of(error: Failure | RetriesExhausted | OutcomeUnknown) -> str:
    """``rejected`` (the content must change) or ``failed`` (the same may work later)."""
    if isinstance(error, IdentityError | ValueError | B2CValidationError):
        return "rejected"
    return "failed"


# Oracle's refusals of a reference, as its REST API words them, and the same in plain words
_REFUSALS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"Invalid lookupName: No such Incident with lookupName = '(.*)'"),
        lambda m: f"No incident in B2C Service has the reference number “{m[1]}”.",
    ),
    (
        re.compile(r"Invalid lookupName: No such (\w+) with lookupName = '(.*)'"),
        lambda m: (
            f"No {m[1].lower()} in B2C Service is named “{m[2]}” (exactly so: names "
            "are matched with their capitals)."
        ),
    ),
    (
        re.compile(r"Invalid ID: No such (\w+) with ID = (\d+)"),
        lambda m: f"No {m[1].lower()} in B2C Service has the ID {m[2]}.",
    ),
    (
        re.compile(r"Invalid ID: (\w+) with ID = (\d+) is disabled"),
        lambda m: f"{m[1]} {m[2]} is disabled in B2C Service.",
    ),
    (
        re.compile(
            r"Invalid Named ID: (\w+) with lookupName = '(.*)' does not identify exactly one value"
        ),
        lambda m: f"B2C Service has no {m[1].lower()} named “{m[2]}”.",
    ),
)


def in_plain_words(reason: str) -> str:
    """Oracle's reason for refusing a reference, in plain words (its own text otherwise)."""
    for pattern, plain in _REFUSALS:
        found = pattern.search(reason)
        if found:
            return plain(found)
    return reason


def explained(stored: str | None) -> tuple[str, str, str]:
    """A journaled request's (headline, reason, what to do), as the create procedure kept
    them (JSON in its ``reason``); empty ones when none was kept."""
    headline, reason, hint = json.loads(stored or '["", "", ""]')
    return headline, reason, hint


def explain(error: Failure | RetriesExhausted | OutcomeUnknown) -> tuple[str, str, str]:
    """(headline, reason, what to do) for a failure."""
    if isinstance(error, OutcomeUnknown):
        return (
            "The bot could not tell whether the task was created",
            error.cause.reason,
            "Oracle did not answer the create, and refused the check that would tell. "
            "Look for the task in B2C Service before pressing Retry.",
        )
    if isinstance(error, RetriesExhausted):
        headline, reason, _ = explain(error.last)
        return (
            f"{headline}: the bot gave up after {error.attempts} attempts",
            reason,
            "Your request is kept. Press Retry when B2C Service is back, or tell the admin "
            "who installed the bot if it stays down.",
        )
    if isinstance(error, IdentityError):
        return (
            "The task was not created: the assignee was not found",
            str(error),
            "No task was created in B2C Service. Fix the assignee and send it again.",
        )
    if isinstance(error, ValueError):
        return ("The task was not created", str(error), "Fix the command and send it again.")
    if isinstance(error, B2CAuthError):
        return (
            "The bot could not sign in to Oracle B2C Service",
            error.reason,
            "This is a set-up problem, not yours: ask the admin who installed the bot to "
            "check its Oracle B2C Service account, then press Retry.",
        )
    if isinstance(error, B2CTimeoutError):
        return (
            "Oracle B2C Service did not answer in time",
            error.reason,
            "Your request is kept. Try again in a few minutes.",
        )
    if isinstance(error, B2CConnectionError):
        return (
            "Oracle B2C Service could not be reached",
            error.reason,
            "Nothing was created. Try again in a few minutes.",
        )
    if isinstance(error, B2CServerError) and not error.retryable:
        return (
            f"Oracle B2C Service failed (HTTP {error.status})",
            error.reason,
            "Your request is kept. Look for the task in B2C Service before pressing Retry: "
            "Oracle may have done part of the work.",
        )
    if isinstance(error, B2CRateLimitError | B2CServerError):
        return (
            f"Oracle B2C Service is busy or failing (HTTP {error.status})",
            error.reason,
            "Nothing was created. Try again in a few minutes.",
        )
    if isinstance(error, B2CValidationError):
        return (
            "Oracle B2C Service refused the task",
            in_plain_words(error.reason),
            "Check the values and send it again.",
        )
    return (
        "Oracle B2C Service did not create the task",
        error.reason,
        "Try again; if it keeps failing, tell the admin who installed the bot.",
    )
