"""Why a task was not created, in words for a support agent, and what kind of failure it is."""

from __future__ import annotations

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
            "Nothing was sent to Oracle. Fix the assignee and send it again.",
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
            error.reason,
            "Check the values and send it again.",
        )
    return (
        "Oracle B2C Service did not create the task",
        error.reason,
        "Try again; if it keeps failing, tell the admin who installed the bot.",
    )
