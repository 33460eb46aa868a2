"""Property tests built from what matters in Slack text: its entities (``&amp;``, ``&lt;``,
``&gt;``), mentions, channel and link tokens, smart and plain quotes, every subcommand word and
every field name. Random text almost never contains them; these strategies always do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import grammar
from bot.domain.drafts import AccountLogin, IdOrName, SlackUser
from bot.domain.grammar import FIELDS, GrammarError, parse, read
from bot.domain.slack_text import escape, to_plain, unescape
from bot.domain.tasks import Ref
from bot.flows.compose import Origin, compose_task
from bot.slack import render

SUBCOMMAND_WORDS = ["help", "mine", "show", "sync", "remind", "defaults", "on", "off", "clear"]
FIELD_WORDS = [f"@{spec.name}" for spec in FIELDS] + [f"@{alias}" for alias in grammar.ALIASES]
SLACK_TOKENS = [
    "&amp;",
    "&lt;",
    "&gt;",
    "&amp;lt;",
    "<@U1|jane>",
    "<@U2>",
    "<#C1|general>",
    "<!here>",
    "<!channel>",
    "<!subteam^S1|@support>",
    "<https://x.test/a?b=1&amp;c=2|the portal>",
    "<mailto:o'brien@example.com|O'Brien>",
]
PLAIN_WORDS = ["Call", "back", "Acme", "renewal", "O'Brien", "it's", "50%", "a_b", "#12", "ümlaut"]
PLAIN_WORDS += ["🙂", "tomorrow", "5pm", "x"]
SMART = ["“smart”", "‘single’", "«guillemets»"]
# a word of a name or a note: anything Slack may send, but the plain double quote, which is how
# the grammar quotes (a quoted text cannot hold one)
WORD = st.sampled_from(PLAIN_WORDS + SUBCOMMAND_WORDS + FIELD_WORDS + SLACK_TOKENS + SMART)
TEXT = st.lists(WORD, min_size=1, max_size=8).map(" ".join)
NAMED = st.sampled_from(["High", "In Progress", "Renewal call", "Initech &amp; Partners", "Acme"])
ID = st.integers(min_value=1, max_value=10**15)

# field -> (what is typed, what the draft must hold)
VALUES: dict[str, st.SearchStrategy[tuple[str, Any]]] = {
    "contact": ID.map(lambda n: (str(n), n)),
    "answer": ID.map(lambda n: (str(n), n)),
    "opportunity": ID.map(lambda n: (str(n), n)),
    "percent": st.integers(0, 100).map(lambda n: (f"{n}%" if n % 2 else str(n), n)),
    "org": NAMED.map(lambda v: (v, IdOrName(name=to_plain(v))))
    | ID.map(lambda n: (str(n), IdOrName(id=n))),
    "priority": NAMED.map(lambda v: (v, IdOrName(name=to_plain(v)))),
    "status": NAMED.map(lambda v: (v, IdOrName(name=to_plain(v)))),
    "type": NAMED.map(lambda v: (v, IdOrName(name=to_plain(v)))),
    "template": NAMED.map(lambda v: (v, IdOrName(name=to_plain(v)))),
    "incident": st.sampled_from(["261128-000123", "4021"]).map(
        lambda v: (v, IdOrName(id=int(v)) if v.isdigit() else IdOrName(name=v))
    ),
    "assign": st.sampled_from(
        [
            ("<@U2|sam>", SlackUser("U2")),
            ("<@U3>", SlackUser("U3")),
            ("jdoe", AccountLogin("jdoe")),
            ("o.brien@example.com", AccountLogin("o.brien@example.com")),
            ("7", IdOrName(id=7)),
        ]
    ),
    "note": TEXT.map(lambda text: (f'"{text}"', text)),
}


@st.composite
def commands(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    """A well-formed ``/task`` command: a quoted name of any words, then some fields in any
    order, each value as a user types it; and what the draft must hold."""
    name = draw(TEXT)
    chosen = draw(st.lists(st.sampled_from(sorted(VALUES)), unique=True, max_size=len(VALUES)))
    typed, expected = [f'"{name}"'], {}
    for field in chosen:
        text, value = draw(VALUES[field])
        typed.append(f"@{field} {text}")
        expected[grammar.spec(field).attribute] = value
    return " ".join(typed), name, expected


@settings(max_examples=300, deadline=None)
@given(commands())
def test_a_command_round_trips_into_its_draft(command: tuple[str, str, dict[str, Any]]) -> None:
    text, name, expected = command
    parsed = parse(text)
    assert parsed.kind == "create"
    assert parsed.draft is not None
    assert parsed.draft.name == name  # Slack's text, entities and mentions as they came
    for attribute, value in expected.items():
        assert getattr(parsed.draft, attribute) == value, attribute
    untouched = {spec.attribute for spec in FIELDS} - set(expected)
    assert all(getattr(parsed.draft, attribute) is None for attribute in untouched)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(PLAIN_WORDS + SLACK_TOKENS),
    st.lists(st.sampled_from(PLAIN_WORDS + SMART + SLACK_TOKENS), max_size=7),
)
def test_an_unquoted_name_is_the_text_before_the_first_field(first: str, rest: list[str]) -> None:
    """(A name that opens with a quote is a quoted name: its quotes are not part of it.)"""
    name = " ".join([first, *rest])
    parsed = parse(f"{name} @contact 83")
    assert parsed.draft is not None
    assert (parsed.draft.name, parsed.draft.contact) == (name, 83)


PLAIN_TEXT = st.lists(
    st.sampled_from(["&", "<", ">", "&amp;", "&lt;", "<@U1>", "<!here>", '"', "“", "”", " ", "a"])
    | st.text(max_size=3),
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(PLAIN_TEXT)
def test_escaping_round_trips_through_slacks_entities(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped and ">" not in escaped  # no token Slack would make live
    assert unescape(escaped) == text
    assert to_plain(escaped) == text  # what the user reads is what was meant


@settings(max_examples=300, deadline=None)
@given(st.lists(WORD | st.text(max_size=4), max_size=12).map(" ".join))
def test_any_text_is_read_as_one_of_the_grammars_kinds_or_refused_in_words_not_crashed(
    text: str,
) -> None:
    """Only that it did not crash, and answered with a kind the grammar names or a sentence."""
    try:
        parsed = parse(text)
    except GrammarError as error:
        assert error.message.strip()
    else:
        assert parsed.kind in grammar.KINDS
    assert isinstance(read(text).errors, list)


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_no_name_or_note_becomes_a_live_mention_in_the_task_message(text: str) -> None:
    plain = to_plain(text)
    for message in (render.pending_parent("U1", plain), render.failed_parent("U1", plain)):
        shown = str(message["blocks"])
        for live in ("<!here>", "<!channel>", "<@U2>", "<!subteam"):
            assert live not in shown


# the Oracle body: where each field of the command lands (``POST /tasks``), by the draft's
# attribute; a field given is never left out of the body
BODY_PATHS = {
    "contact": ("contact",),
    "organization": ("organization",),
    "assignee": ("assignedToAccount",),
    "priority": ("priority",),
    "status": ("statusWithType", "status"),
    "task_type": ("taskType",),
    "template": ("taskTemplate",),
    "incident": ("serviceSettings", "incident"),
    "answer": ("serviceSettings", "answer"),
    "opportunity": ("salesSettings", "opportunity"),
    "percent": ("percentComplete",),
}


@settings(max_examples=300, deadline=None)
@given(commands())
def test_every_field_given_reaches_the_oracle_body(
    command: tuple[str, str, dict[str, Any]],
) -> None:
    text, _name, expected = command
    draft = parse(text).draft
    assert draft is not None
    body, _details = compose_task(
        draft,
        origin=Origin("Jane Doe", "support"),
        tz="Europe/Paris",
        now=datetime(2026, 12, 2, 10, tzinfo=UTC),
        assignee=Ref(id=3) if draft.assignee is not None else None,
    )
    sent = body.body()
    for attribute in expected:
        if attribute == "note":
            assert [n["text"] for n in sent["notes"]][1:] == [to_plain(draft.note or "")]
            continue
        where: Any = sent
        for key in BODY_PATHS[attribute]:
            assert key in where, (attribute, sent)
            where = where[key]
    for attribute, path in BODY_PATHS.items():
        if attribute not in expected:
            assert path[-1] not in (sent.get(path[0], {}) if len(path) > 1 else sent), attribute
