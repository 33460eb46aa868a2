"""Each call the bot makes to Slack, told as it ends: its Web API method and how it ended."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# told of every call to Slack: its method, and "" when it worked, else Slack's error code,
# the HTTP status, "timeout" or "connection"
SlackObserver = Callable[[str, str], None]


class CallWatcher(AsyncRetryHandler):
    """slack_sdk offers one hook on each HTTP call its clients make (each retry included, and
    the clients Bolt makes per request share it): its retry handlers, asked after every answer
    and every failure whether to try again. This one, listed first, never asks for a retry;
    it tells ``observe`` how the call ended, and the client's own retry handlers decide.
    ``method``: the name to count a webhook's calls under (``response_url``), whose URL names
    no method."""

    def __init__(self, observe: SlackObserver, method: str | None = None) -> None:
        super().__init__(max_retry_count=0)
        self.observe = observe
        self.method = method

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = self.method or request.url.rstrip("/").rsplit("/", 1)[-1]
        self.observe(method, ended(response, error))
        return False


def ended(response: HttpResponse | None, error: Exception | None) -> str:
    """How one call ended, in a word ("" when it worked)."""
    if response is not None:
        body = response.body if isinstance(response.body, dict) else {}
        if body.get("ok") is False:
            return str(body.get("error") or response.status_code)
        return str(response.status_code) if response.status_code >= 400 else ""
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return "timeout"
    if isinstance(error, aiohttp.ClientError | OSError):
        return "connection"
    return "other"
