"""Which Home features the app's granted scopes allow, checked once at start: a feature whose
scope is missing is off, said in one log line naming the scope (not an error per event)."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

log = logging.getLogger(__name__)

# feature -> (what it is, the scopes it needs)
NEEDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "home": ("the Home tab's tasks (matched by e-mail)", ("users:read.email",)),
    "assigned": ("direct messages on assignment", ("users:read.email",)),
    "digest": ("the morning digest", ("users:read", "users:read.email")),
    "unfurl": ("link previews", ("links:read", "links:write")),
    "reaction": ("tasks from an emoji", ("reactions:read", "channels:history")),
    "whole_thread": ("a whole thread as the note", ("channels:history",)),
    # (not a Home feature, but checked the same way, once at start: bot.slack.connect)
    "connect": (
        "telling Slack Connect channels apart (every channel is taken as not shared)",
        ("channels:read", "groups:read"),
    ),
}


async def granted(slack: AsyncWebClient) -> set[str] | None:
    """The bot token's scopes (Slack's ``x-oauth-scopes`` header on ``auth.test``); None when
    Slack does not say (every feature then stays on, and Slack's own errors tell)."""
    try:
        return scopes_of(await slack.auth_test())
    except SlackApiError:
        return None
    except Exception as error:  # unreachable: the start-up check says so elsewhere
        log.info("scopes not checked: %s", type(error).__name__)
        return None


def scopes_of(answer: AsyncSlackResponse) -> set[str] | None:
    """The scopes a Web API answer names (every answer carries ``x-oauth-scopes``)."""
    header = next(
        (v for k, v in (answer.headers or {}).items() if k.lower() == "x-oauth-scopes"), None
    )
    if header is None:
        return None
    return {scope.strip() for scope in header.split(",") if scope.strip()}


def features_off(scopes: set[str] | None, wanted: set[str]) -> set[str]:
    """Of the ``wanted`` features, those the scopes do not allow, each logged once."""
    if scopes is None:
        return set()
    off = set()
    for feature in sorted(wanted):
        what, needs = NEEDS[feature]
        missing = [scope for scope in needs if scope not in scopes]
        if missing:
            off.add(feature)
            log.warning(
                "%s: off, the app lacks the %s scope%s (add %s in manifest.yaml's scopes and "
                "reinstall the app)",
                what,
                ", ".join(missing),
                "s" if len(missing) > 1 else "",
                "them" if len(missing) > 1 else "it",
                extra={"event": "scope_missing", "feature": feature, "scopes": missing},
            )
    return off
