"""Slack's rate limits, kept before Slack has to enforce them: one leaky bucket per method
(aiolimiter), sized from Slack's published tiers ("per API method per workspace per app"):

- Tier 2 (20+ a minute): ``users.list``;
- Tier 3 (50+ a minute): ``conversations.history``, ``conversations.replies``, ``chat.unfurl``,
  ``users.lookupByEmail``;
- Tier 4 (100+ a minute): ``views.publish``;
- ``chat.postMessage`` (special tier: one message a second per channel, and a workspace-wide
  limit Slack does not publish): ``DIGEST_PER_MINUTE`` for the morning digests (120), which go
  to one channel each.

A bucket lets calls through evenly (one every ``60 / rate`` seconds) after a small burst
(``BURST`` calls, so that a few people opening the Home tab at once wait for nothing); the
digest's buckets have no burst: in any minute at most the rate, plus one. A 429 that still
comes is retried by slack_sdk after its Retry-After."""

from __future__ import annotations

from aiolimiter import AsyncLimiter

TIERS = {
    "users.list": 20,
    "conversations.history": 50,
    "conversations.replies": 50,
    "chat.unfurl": 50,
    "users.lookupByEmail": 50,
    "views.publish": 100,
}
BURST = 10
EVEN = {"users.list", "digest"}  # no burst: the morning digest's calls, spread evenly


class SlackPace:
    def __init__(self, per_minute: dict[str, float] | None = None) -> None:
        self.per_minute = {**TIERS, **(per_minute or {})}
        self._buckets: dict[str, AsyncLimiter] = {}

    def __call__(self, method: str) -> AsyncLimiter:
        """The bucket of ``method``: ``async with pace("users.list"): ...``."""
        bucket = self._buckets.get(method)
        if bucket is None:
            rate = self.per_minute.get(method, 50)
            size = 1 if method in EVEN else min(BURST, max(1, int(rate)))
            bucket = self._buckets[method] = AsyncLimiter(size, 60.0 * size / rate)
        return bucket
