"""The Oracle client's typed failures, one class per kind, carrying Oracle's own words.

Oracle answers errors as problem JSON (``type``, ``title``, ``status``, ``detail``,
``o:errorCode``). ``detail`` is what a support agent needs to read ("No such Contact with
ID = 209"). Nothing here ever holds a header, a token or a password.
"""

from __future__ import annotations

import json

import httpx


class B2CError(Exception):
    """Any failure talking to Oracle B2C Service."""

    retryable = False

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.code = code
        self.title = title
        self.retry_after = retry_after

    @property
    def reason(self) -> str:
        """Oracle's reason in plain words, for the user: the most specific (last) line."""
        return self.detail.splitlines()[-1] if self.detail else "no reason given"


class B2CConnectionError(B2CError):
    """Oracle could not be reached. ``sent`` says whether the request may have arrived."""

    retryable = True

    def __init__(self, detail: str, *, sent: bool = False) -> None:
        super().__init__(detail)
        self.sent = sent


class B2CTimeoutError(B2CConnectionError):
    """Oracle did not answer in time; a write may or may not have happened."""


class B2CAuthError(B2CError):
    """401/403: the bot's Oracle credentials or permissions are wrong."""


class B2CNotFoundError(B2CError):
    """404: no such resource."""


class B2CValidationError(B2CError):
    """400 and other 4xx: Oracle refused the content (bad reference, unknown name, ...)."""


class B2CRateLimitError(B2CError):
    """429: Oracle's API throttling."""

    retryable = True


class B2CServerError(B2CError):
    """5xx: Oracle failed. 502, 503 and 504 (a gateway or an overloaded site) are retried; a
    500 is not: the request reached Oracle and may have done part of its work."""

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.status in (502, 503, 504)


def _retry_after(response: httpx.Response) -> float | None:
    next_after = response.headers.get("osvc-crest-next-request-after")
    if next_after and next_after.strip().isdigit():
        return int(next_after) / 1000
    retry_after = response.headers.get("retry-after")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return None
    return None


def _clean(text: str) -> str:
    return "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())


def error_from_response(response: httpx.Response) -> B2CError:
    """The typed error for an Oracle error response."""
    status = response.status_code
    try:
        parsed = json.loads(response.content)
    except ValueError:  # not JSON, or no body at all
        parsed = None
    problem: dict = parsed if isinstance(parsed, dict) else {}
    title = problem.get("title") if isinstance(problem.get("title"), str) else None
    detail = problem.get("detail") if isinstance(problem.get("detail"), str) else None
    code = problem.get("o:errorCode") if isinstance(problem.get("o:errorCode"), str) else None
    text = _clean(detail or title or f"Oracle B2C Service answered HTTP {status}")
    kwargs = {"status": status, "code": code, "title": title, "retry_after": _retry_after(response)}
    if status in (401, 403):
        return B2CAuthError(text, **kwargs)
    if status == 404:
        return B2CNotFoundError(text, **kwargs)
    if status == 429:
        return B2CRateLimitError(text, **kwargs)
    if status >= 500:
        return B2CServerError(text, **kwargs)
    return B2CValidationError(text, **kwargs)
