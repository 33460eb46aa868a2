"""Slack text: escaping what we echo, reading what users type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.slack_text import escape, to_plain, unescape, unnamed_user_ids, user_mention_id


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a & b", "a &amp; b"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U1|jane>", "&lt;@U1|jane&gt;"),
        ("&amp;", "&amp;amp;"),
        ("plain * _ ~ ` text", "plain * _ ~ ` text"),
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped
    assert unescape(escaped) == raw


@pytest.mark.parametrize(
    ("wire", "plain"),
    [
        ("<@U1|jane> and <@U2>", "@jane and @Sam"),
        ("<@U9>", "@U9"),
        ("<#C1|general>", "#general"),
        ("<#C1>", "#C1"),
        ("<!channel> <!here> <!everyone> <!here|here>", "@channel @here @everyone @here"),
        ("<!subteam^S1|@support>", "@support"),
        ("<!date^1700000000^{date}|Nov 14>", "Nov 14"),
        ("<https://x.example/a?b=1&amp;c=2|the page>", "the page (https://x.example/a?b=1&c=2)"),
        ("<https://x.example>", "https://x.example"),
        ("<mailto:a@b.com|a@b.com>", "a@b.com"),
        ("R&amp;D &lt;urgent&gt;", "R&D <urgent>"),
    ],
)
def test_to_plain(wire: str, plain: str) -> None:
    assert to_plain(wire, {"U2": "Sam"}) == plain


def test_mentions() -> None:
    assert user_mention_id("<@U123|jane>") == "U123"
    assert user_mention_id(" <@W1> ") == "W1"
    assert user_mention_id("<@U1> and more") is None
    assert user_mention_id("jane") is None
    assert unnamed_user_ids("<@U1|a> <@U2> <@W3>") == ["U2", "W3"]


@given(st.text())
def test_escaped_text_never_holds_a_slack_token(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert unescape(escaped) == text


@pytest.mark.parametrize(
    ("text", "limit", "shown"),
    [
        ("short & sweet", 50, "short &amp; sweet"),
        ("abcdef", 4, "abc…"),
        ("a&b", 5, "a…"),  # "&amp;" would not fit whole: cut before it
        ("<@U1> hi", 8, "&lt;@U1…"),
        ("a&b", 7, "a&amp;b"),
    ],
)
def test_escape_with_a_limit_never_cuts_an_entity(text: str, limit: int, shown: str) -> None:
    assert escape(text, limit) == shown
    assert len(escape(text, limit)) <= limit
