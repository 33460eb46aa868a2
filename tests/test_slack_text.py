"""Slack text: escaping what we echo, reading what users type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.slack_text import (
    bold,
    escape,
    first_line_name,
    to_plain,
    unescape,
    unnamed_user_ids,
    user_mention_id,
)


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


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("<!subteam^S1|@support> met", "@support met"),
        ("<!subteam^S2>", "@S2"),
        ("<!here> and <!channel|channel>", "@here and @channel"),
        ("<!date^1700000000^{date}|Nov 14>", "Nov 14"),
        ("<mailto:ann@example.com>", "ann@example.com"),
        ("<mailto:ann@example.com|Ann>", "Ann"),
        (
            "<https://x.test|the portal> &amp; <https://y.test>",
            "the portal (https://x.test) & https://y.test",
        ),
    ],
)
def test_tokens_read_as_a_person_reads_them(text: str, plain: str) -> None:
    assert to_plain(text) == plain


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("", "Follow up on a Slack message"),
        ("\n  \n", "Follow up on a Slack message"),
        ("\n\n  Call <@U1> back  \nsecond line", "Call @Jane back"),
        ("x" * 80, "x" * 80),  # 80 fits
        ("word " * 20, "word " * 14 + "word…"),  # cut at a word, within 80 (with the …)
        ("y" * 100, "y" * 79 + "…"),  # no word to cut at
        ("short " + "z" * 100, "short…"),
        ("t" * 70 + "\t" + "u" * 20, "t" * 70 + "…"),  # a tab separates words too
    ],
)
def test_a_task_name_from_a_message_is_its_first_line_cut_at_a_word(text: str, name: str) -> None:
    got = first_line_name(text, {"U1": "Jane"})
    assert got == name
    assert len(got) <= 80


def test_a_shortened_text_ends_with_an_ellipsis_right_after_its_last_word() -> None:
    assert escape("abc   def", 6) == "abc…"
    assert escape("  abc def", 6) == "  abc…"


@pytest.mark.parametrize(
    ("shown", "strong"),
    [
        ("Call back", "*Call back*"),
        ("Call *now*", "“Call *now*”"),  # its own asterisks: quoted, not wrapped in more
        ("*", "“*”"),
        ("", "**"),
    ],
)
def test_a_name_in_bold_or_quoted(shown: str, strong: str) -> None:
    assert bold(shown) == strong
