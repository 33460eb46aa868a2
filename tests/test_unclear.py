"""The buttons of an unclear command, table by table: what they carry and read back."""

from __future__ import annotations

import json

import pytest

from bot.domain.drafts import TaskDraft
from bot.flows.unclear import (
    MAX_VALUE,
    Reading,
    button_value,
    command_of,
    date_readings,
    settled,
    unclear_dates,
)


def test_a_button_carries_the_text_and_the_command_compactly_and_as_typed() -> None:
    assert button_value("Café @due 4 mar", "/b2c") == '{"text":"Café @due 4 mar","c":"/b2c"}'


def test_a_button_value_fits_slacks_limit_or_there_is_no_button() -> None:
    overhead = len(button_value("", "/task") or "")
    assert len(button_value("x" * (MAX_VALUE - overhead), "/task") or "") == MAX_VALUE
    assert button_value("x" * (MAX_VALUE - overhead + 1), "/task") is None


@pytest.mark.parametrize(
    ("value", "carried"),
    [
        ('{"text":"Call back","c":"/b2c"}', ("Call back", "/b2c")),
        ('{"text":"Call back"}', ("Call back", "/task")),  # (a button of an older version)
        ('{"text":"Call back","c":"b2c"}', ("Call back", "/task")),  # not a command's name
        ('{"text":"Call back","c":5}', ("Call back", "/task")),
        ('{"text":""}', None),
        ('{"text":"  "}', None),
        ('{"text":5}', None),
        ('{"c":"/task"}', None),
        ("[1]", None),
        ("not json", None),
        ("", None),
    ],
)
def test_what_a_button_carries_is_read_back_or_refused(value: str, carried) -> None:
    assert command_of(value) == carried


def test_a_round_trip() -> None:
    value = button_value('Call "Zoë" @due 4/3', "/task")
    assert value is not None and command_of(value) == ('Call "Zoë" @due 4/3', "/task")
    assert json.loads(value) == {"text": 'Call "Zoë" @due 4/3', "c": "/task"}


def test_both_dates_unclear_are_read_the_same_way_in_one_button() -> None:
    draft = TaskDraft(name="Call", due="04/03 3pm", start="02/03")
    text = "Call @due 04/03 3pm @start 02/03"
    assert unclear_dates(draft) == {"due": "04/03", "start": "02/03"}
    assert date_readings(text, draft) == [
        Reading("Due 4 March, Start 2 March", "Call @due 4 mar 3pm @start 2 mar"),
        Reading("Due 3 April, Start 3 February", "Call @due 3 apr 3pm @start 3 feb"),
    ]
    assert settled(draft, True) == TaskDraft(name="Call", due="4 mar 3pm", start="2 mar")
    assert settled(TaskDraft(name="Call", due="tomorrow"), False).due == "tomorrow"
