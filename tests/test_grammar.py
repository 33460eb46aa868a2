"""The slash-command grammar, table by table: every field, every mistake."""

from __future__ import annotations

import pytest

from bot.domain.drafts import AccountLogin, IdOrName, SlackUser, TaskDraft
from bot.domain.grammar import FIELDS, GrammarError, parse, read

CREATES = [
    ("Return customer call @contact 83", TaskDraft(name="Return customer call", contact=83)),
    ("Return customer call", TaskDraft(name="Return customer call")),
    ("  spaced   out  @contact   83  ", TaskDraft(name="spaced   out", contact=83)),
    ("Call @org 12", TaskDraft(name="Call", organization=IdOrName(id=12))),
    (
        "Call @org Acme &amp; Sons",
        TaskDraft(name="Call", organization=IdOrName(name="Acme & Sons")),
    ),
    (
        'Call @org "Globex Corporation"',
        TaskDraft(name="Call", organization=IdOrName(name="Globex Corporation")),
    ),
    ("Call @assign <@U123|jane>", TaskDraft(name="Call", assignee=SlackUser("U123"))),
    ("Call @assign <@W9ABC>", TaskDraft(name="Call", assignee=SlackUser("W9ABC"))),
    ("Call @assign 7", TaskDraft(name="Call", assignee=IdOrName(id=7))),
    ("Call @assign j.doe", TaskDraft(name="Call", assignee=AccountLogin("j.doe"))),
    ("Call @due tomorrow 5pm", TaskDraft(name="Call", due="tomorrow 5pm")),
    ("Call @due 2026-12-01", TaskDraft(name="Call", due="2026-12-01")),
    ("Call @start friday @due in 3 days", TaskDraft(name="Call", start="friday", due="in 3 days")),
    ("Call @priority High", TaskDraft(name="Call", priority=IdOrName(name="High"))),
    ("Call @priority 3", TaskDraft(name="Call", priority=IdOrName(id=3))),
    ("Call @status In Progress", TaskDraft(name="Call", status=IdOrName(name="In Progress"))),
    ("Call @type Call", TaskDraft(name="Call", task_type=IdOrName(name="Call"))),
    ("Call @template 2", TaskDraft(name="Call", template=IdOrName(id=2))),
    ("Call @incident 4021", TaskDraft(name="Call", incident=IdOrName(id=4021))),
    (
        "Call @incident 261128-000123",
        TaskDraft(name="Call", incident=IdOrName(name="261128-000123")),
    ),
    ("Call @answer 1234", TaskDraft(name="Call", answer=1234)),
    ("Call @opportunity 77", TaskDraft(name="Call", opportunity=77)),
    ("Call @percent 0", TaskDraft(name="Call", percent=0)),
    ("Call @percent 100%", TaskDraft(name="Call", percent=100)),
    ('Call @note "Ask about @due dates"', TaskDraft(name="Call", note="Ask about @due dates")),
    ("Call @note it's urgent, really", TaskDraft(name="Call", note="it's urgent, really")),
    ("Call @note “smart quotes @here”", TaskDraft(name="Call", note="smart quotes @here")),
    (
        '"@contact is in the name" @contact 83',
        TaskDraft(name="@contact is in the name", contact=83),
    ),
    (
        "E-mail jane@example.com back @contact 83",
        TaskDraft(name="E-mail jane@example.com back", contact=83),
    ),
    ("Meet @ noon", TaskDraft(name="Meet @ noon")),
    ("Call @Contact 83 @DUE friday", TaskDraft(name="Call", contact=83, due="friday")),
    (
        "Call @assignee jdoe @organization Acme",
        TaskDraft(name="Call", assignee=AccountLogin("jdoe"), organization=IdOrName(name="Acme")),
    ),
    ("<!channel> &amp; <@U1>", TaskDraft(name="<!channel> &amp; <@U1>")),
]


@pytest.mark.parametrize(("text", "draft"), CREATES)
def test_creates(text: str, draft: TaskDraft) -> None:
    parsed = parse(text)
    assert parsed.kind == "create"
    assert parsed.draft == draft


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("help", "help"),
        ("HELP", "help"),
        ("?", "help"),
        ("--help", "help"),
        ("", "form"),
        ("   ", "form"),
    ],
)
def test_help_and_form(text: str, kind: str) -> None:
    assert parse(text).kind == kind


@pytest.mark.parametrize(
    ("text", "kind", "task_id"),
    [("show 12", "show", 12), ("SHOW #12", "show", 12), ("mine", "mine", None)],
)
def test_show_and_mine(text: str, kind: str, task_id: int | None) -> None:
    parsed = parse(text)
    assert (parsed.kind, parsed.task_id) == (kind, task_id)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("show", "unclear"),
        ("show abc", "unclear"),
        ("show -1", "unclear"),
        ("show 12 please", "create"),
        ("Show customer the demo", "create"),
        ("mine please", "unclear"),
        ("MINE @contact 83", "unclear"),
    ],
)
def test_what_does_not_fit_show_or_mine_is_a_task_or_unclear(text: str, kind: str) -> None:
    parsed = parse(text)
    assert parsed.kind == kind
    assert parsed.draft is not None and parsed.draft.name == text.split(" @")[0]


@pytest.mark.parametrize(
    "text", ['"Show customer the demo" @contact 83', "“Mine the logs” @due friday", "Showcase"]
)
def test_a_task_named_show_or_mine_in_quotes(text: str) -> None:
    assert parse(text).kind == "create"


MISTAKES = [
    ("Call @contat 83", "There is no field @contat. Did you mean @contact?", "contat"),
    ("Call @assignd jdoe", "There is no field @assignd. Did you mean @assign?", "assignd"),
    ("Call @zzz 1", "There is no field @zzz.", "zzz"),
    ("Call @contact 1 @contact 2", "@contact is given twice: give it once.", "contact"),
    ("Call @org A @organization B", "@org is given twice: give it once.", "org"),
    (
        "Call @contact",
        "@contact has no value: write it after the field, e.g. @contact 83.",
        "contact",
    ),
    (
        "Call @due @contact 83",
        "@due has no value: write it after the field, e.g. @due tomorrow 5pm.",
        "due",
    ),
    ('Call @note ""', "@note has no value", "note"),
    (
        "Call @contact abc",
        "@contact needs a contact ID, a whole number like 83, not “abc”.",
        "contact",
    ),
    ("Call @contact 0", "@contact needs a contact ID", "contact"),
    ("Call @contact -4", "@contact needs a contact ID", "contact"),
    ("Call @answer 1.5", "@answer needs an answer ID", "answer"),
    ("Call @opportunity x", "@opportunity needs an opportunity ID", "opportunity"),
    ("Call @priority 0", "@priority needs an ID above 0 or a name.", "priority"),
    ("Call @assign 0", "@assign needs a staff account ID above 0, not “0”.", "assign"),
    ("Call @assign 00", "@assign needs a staff account ID above 0, not “00”.", "assign"),
    ("Call @priority @jane", "@priority has no value: write it after the field", "priority"),
    (
        "Call @incident ABC-1",
        "@incident needs an incident ID (like 4021) or reference number",
        "incident",
    ),
    (
        "Call @assign @jane",
        "@assign needs a Slack user, but Slack did not recognise “@jane”",
        "assign",
    ),
    (
        "Call @assign no spaces allowed",
        "@assign needs a Slack user (@jane), a staff account ID",
        "assign",
    ),
    ("Call @due someday maybe", "@due could not read “someday” in “someday maybe”", "due"),
    ("Call @start 2026-13-45", "@start “2026-13-45” is not a date: there is no month 13", "start"),
    ("Call @percent 101", "@percent needs a whole number from 0 to 100, not “101”.", "percent"),
    ("Call @percent -1", "@percent needs a whole number from 0 to 100", "percent"),
    ("Call @percent half", "@percent needs a whole number from 0 to 100", "percent"),
    (
        "@contact 83",
        "The task needs a name before the first field (it starts with @contact)",
        "name",
    ),
    ('"" @contact 83', "The task needs a name before the first field", "name"),
    ('Call @note "never closed', "A quote in @note is never closed.", "note"),
    ('"never closed', "A quote in the name is never closed.", None),
    ("Call @due tomorrow 25:00", "@due “25:00” is not a time of day", "due"),
    ("Call @start tomorrow 13pm", "@start “13pm” is not a time of day", "start"),
]


@pytest.mark.parametrize(("text", "message", "field"), MISTAKES)
def test_mistakes(text: str, message: str, field: str | None) -> None:
    with pytest.raises(GrammarError) as caught:
        parse(text)
    assert message in caught.value.message
    assert caught.value.field == field


def test_every_field_is_documented_with_a_parseable_example() -> None:
    for spec in FIELDS:
        text = f"Example task @{spec.name} {spec.example}"
        if spec.name == "assign":
            text = "Example task @assign <@U1|jane>"
        assert parse(text).kind == "create", spec.name


@pytest.mark.parametrize(
    ("text", "kind", "option"),
    [
        ("sync", "sync", None),
        ("sync off", "sync", "off"),
        ("remind", "remind", None),
        ("REMIND on", "remind", "on"),
        ("defaults", "defaults", None),
        ("defaults clear", "defaults", "clear"),
    ],
)
def test_settings_commands(text: str, kind: str, option: str | None) -> None:
    parsed = parse(text)
    assert (parsed.kind, parsed.option) == (kind, option)


def test_defaults_takes_the_commands_fields() -> None:
    parsed = parse("defaults @org Acme @type Call @priority High @assign <@U2|sam> @due friday")
    assert parsed.kind == "defaults" and parsed.option == "set"
    assert parsed.draft == TaskDraft(
        name="",
        organization=IdOrName(name="Acme"),
        task_type=IdOrName(name="Call"),
        priority=IdOrName(name="High"),
        assignee=SlackUser("U2"),
        due="friday",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("defaults @prio High", "There is no field @prio. Did you mean @priority?"),
        ("defaults @due 31st of never", "@due could not read"),
        ("defaults @note hello", "@note cannot be a channel default"),
    ],
)
def test_settings_command_mistakes(text: str, message: str) -> None:
    with pytest.raises(GrammarError) as raised:
        parse(text)
    assert message in raised.value.message and not raised.value.form


@pytest.mark.parametrize(
    ("text", "kind"),
    [("remind maybe", "unclear"), ("sync yes please", "create"), ("defaults Acme", "unclear")],
)
def test_what_does_not_fit_a_setting_is_a_task_or_unclear(text: str, kind: str) -> None:
    assert parse(text).kind == kind


# ------------------------------------------------------------------ every mistake, in words
# what the requester reads for each mistake, which form field it points at (None: the name or
# none), and whether the mistake opens the form to fix it (False: a subcommand's usage)
MISTAKES = [
    (
        "@contact 83",
        "The task needs a name before the first field (it starts with @contact), e.g. Return "
        "customer call @contact 83.",
        "name",
        True,
    ),
    (
        "x @contact 0",
        "@contact needs a contact ID, a whole number like 83, not “0”.",
        "contact",
        True,
    ),
    ("x @answer 0", "@answer needs an answer ID, a whole number like 83, not “0”.", "answer", True),
    (
        "x @incident 0",
        "@incident needs an incident ID (like 4021) or reference number (like 261128-000123), "
        "not “0”.",
        "incident",
        True,
    ),
    (
        "x @due someday",
        "@due could not read “someday” in “someday”: a date is like tomorrow, friday, dec 24 or "
        "2026-12-24; a time like 5pm, 17:00 or 1700 (/task help lists every form).",
        "due",
        True,
    ),
    (
        "x @due tomorrow 25:00",
        "@due “25:00” is not a time of day: a date is like tomorrow, friday, dec 24 or "
        "2026-12-24; a time like 5pm, 17:00 or 1700 (/task help lists every form).",
        "due",
        True,
    ),
    ("x @contact 83 @contact 84", "@contact is given twice: give it once.", "contact", True),
    ("x @contac 83", "There is no field @contac. Did you mean @contact?", "contac", True),
    ("x @zzz 1", "There is no field @zzz.", "zzz", True),
    ('x @note "unclosed', "A quote in @note is never closed.", "note", True),
    ('"unclosed name @contact 1', "A quote in the name is never closed.", None, True),
    (
        "x @assign @jane",
        "@assign needs a Slack user, but Slack did not recognise “@jane” as one: pick the person "
        "from Slack's @ list, or give a staff login or ID.",
        "assign",
        True,
    ),
    ("x @percent 101", "@percent needs a whole number from 0 to 100, not “101”.", "percent", True),
    (
        "x @priority @status Waiting",
        "@priority has no value: write it after the field, e.g. @priority High.",
        "priority",
        True,
    ),
    (
        "defaults @note x",
        "@note cannot be a channel default: a note belongs to one task.",
        "note",
        False,
    ),
    (
        "defaults @contact abc",
        "@contact needs a contact ID, a whole number like 83, not “abc”.",
        "contact",
        False,
    ),
]


@pytest.mark.parametrize(("text", "message", "field", "form"), MISTAKES)
def test_each_mistake_is_told_in_words(
    text: str, message: str, field: str | None, form: bool
) -> None:
    with pytest.raises(GrammarError) as raised:
        parse(text)
    assert (raised.value.message, raised.value.field, raised.value.form) == (message, field, form)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("text", "attribute", "value"),
    [  # the smallest id is 1, for every field that takes one
        ("x @contact 1", "contact", 1),
        ("x @answer 1", "answer", 1),
        ("x @opportunity 1", "opportunity", 1),
        ("x @incident 1", "incident", IdOrName(id=1)),
        ("x @assign 1", "assignee", IdOrName(id=1)),
        ("x @org 1", "organization", IdOrName(id=1)),
        ("x @percent 0", "percent", 0),
        ("x @percent 100%", "percent", 100),
        ("x @due-date friday", "due", "friday"),
    ],
)
def test_the_edges_of_each_value(text: str, attribute: str, value: object) -> None:
    draft = parse(text).draft
    assert draft is not None and getattr(draft, attribute) == value


@pytest.mark.parametrize(
    ("text", "name"),
    [  # where a quoted value ends, and what an @ inside a word is
        ('"Check dates " @due friday', "Check dates"),
        ('“Check dates" @due friday', "Check dates"),
        ("Email jane@acme.com the quote @due friday", "Email jane@acme.com the quote"),
        ('"Call"@due friday', '"Call"@due friday'),
    ],
)
def test_quotes_close_where_they_should_and_a_field_starts_a_word(text: str, name: str) -> None:
    draft = parse(text).draft
    assert draft is not None and draft.name == name


def test_reading_goes_on_past_every_mistake_and_keeps_what_it_read() -> None:
    """What the form is pre-filled with when a command has mistakes."""
    reading = read(
        "Call @nosuch 1 @contact x @contact 83 @assign @jane @priority @org Acme @due someday"
    )
    assert [e.field for e in reading.errors] == [
        "nosuch",
        "contact",
        "contact",
        "assign",
        "jane",  # Slack did not make it a mention: read as a field, unknown
        "priority",
        "due",
    ]
    assert reading.name == "Call"
    assert reading.values == {"organization": IdOrName(name="Acme")}
    assert reading.raw == {
        "contact": "x",
        "assign": "",
        "priority": "",
        "org": "Acme",
        "due": "someday",
    }


def test_an_unclosed_quote_keeps_the_whole_text_as_the_name() -> None:
    reading = read('  Call "back @due friday  ')
    assert reading.name == 'Call "back @due friday'
    assert [e.message for e in reading.errors] == ["A quote in the name is never closed."]


def test_a_name_alone_that_is_empty_is_refused_without_a_field_to_blame() -> None:
    with pytest.raises(GrammarError) as raised:
        parse('""')
    assert raised.value.message == (
        "The task needs a name before the first field, e.g. Return customer call @contact 83."
    )
