"""Posting to Slack without losing anything: channel messages, ``response_url``, and the
difference between "the bot may not post there" (fall back elsewhere) and "Slack is not
answering" (keep the message and try again later)."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack.watch import SlackObserver, ended

log = logging.getLogger(__name__)
TRANSIENT = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
}


class SlackUnavailable(Exception):
    """Slack did not take the message now; it may later."""


class ResponseUrl:
    """Posting an ephemeral message to a request's ``response_url``. ``observe``: told of
    each post as a call to Slack named ``response_url`` (``bot.slack.watch``)."""

    def __init__(self, observe: SlackObserver | None = None) -> None:
        self.observe = observe

    async def __call__(self, url: str, message: dict[str, Any]) -> bool:
        """False if that failed."""
        if not url:
            return False
        try:
            response = await AsyncWebhookClient(url, timeout=10).send_dict(
                {"response_type": "ephemeral", "replace_original": False, **message}
            )
        except Exception as error:  # any network failure: the caller logs and moves on
            log.warning("response_url failed: %s", type(error).__name__)
            if self.observe is not None:
                self.observe("response_url", ended(None, error))
            return False
        if self.observe is not None:
            status = response.status_code
            self.observe("response_url", "" if status < 400 else str(status))
        return response.status_code == 200


respond_via_url = ResponseUrl()


class SlackPoster:
    """chat.postMessage / chat.update that say what happened instead of raising."""

    def __init__(self, slack: AsyncWebClient) -> None:
        self.slack = slack

    async def post(self, **kwargs: Any) -> str | None:
        """The posted message's ts; None when the bot may not post there; raises
        SlackUnavailable when Slack is failing (after the client's own retries)."""
        try:
            response = await self.slack.chat_postMessage(**kwargs)
        except SlackApiError as error:
            code = error.response.get("error")
            log.info("chat.postMessage failed in %s: %s", kwargs.get("channel"), code)
            if code in TRANSIENT or error.response.status_code >= 500:
                raise SlackUnavailable(code) from None
            return None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise SlackUnavailable(type(error).__name__) from None
        return response.get("ts")

    async def whisper(self, channel: str, user: str, message: dict[str, Any]) -> bool:
        """chat.postEphemeral: a message only ``user`` sees; False when Slack would not."""
        try:
            await self.slack.chat_postEphemeral(channel=channel, user=user, **message)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            log.info("chat.postEphemeral failed: %s", type(error).__name__)
            return False
        return True

    async def update(self, channel: str, ts: str, message: dict[str, Any]) -> bool:
        try:
            await self.slack.chat_update(channel=channel, ts=ts, **message)
        except SlackApiError as error:
            log.info("chat.update failed: %s", error.response.get("error"))
            return False
        except (aiohttp.ClientError, TimeoutError) as error:
            log.info("chat.update failed: %s", type(error).__name__)
            return False
        return True
