"""Slack's Block Kit limits, as the Slack fake enforces them on every message, view and unfurl.

Slack refuses a message or view that breaks one of these (``invalid_blocks`` for messages,
``invalid_arguments`` for views) and shows nothing: a rendering that breaks a limit must fail
in the tests, not in a customer's workspace. Each limit names its source; every one is Slack's
Block Kit reference (blocks, block elements, composition objects, views), as gathered in the
project's Slack facts. Pure: a list of problems in, nothing else.
"""

from __future__ import annotations

from typing import Any

# Slack doc (chat.postMessage, Block Kit): a message holds at most 50 blocks
MESSAGE_BLOCKS = 50
# Slack doc (views, App Home): a modal or a Home tab holds at most 100 blocks
VIEW_BLOCKS = 100
# Slack doc (text object): a text object's text is at most 3,000 characters
TEXT = 3000
# Slack doc (section block): at most 10 fields, each text at most 2,000 characters
SECTION_FIELDS = 10
FIELD_TEXT = 2000
# Slack doc (header block): its plain_text at most 150 characters
HEADER_TEXT = 150
# Slack doc (context block): at most 10 elements
CONTEXT_ELEMENTS = 10
# Slack doc (actions block): at most 25 elements
ACTIONS_ELEMENTS = 25
# Slack doc (button element): text at most 75 characters, value 2,000, url 3,000
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
URL = 3000
# Slack doc (block elements, blocks): action_id and block_id at most 255 characters
ACTION_ID = 255
BLOCK_ID = 255
# Slack doc (select menus): at most 100 options; placeholder at most 150 characters
OPTIONS = 100
PLACEHOLDER = 150
# Slack doc (option object): text at most 75 characters, value at most 150
OPTION_TEXT = 75
OPTION_VALUE = 150
# Slack doc (input block): label and hint at most 2,000 characters
INPUT_LABEL = 2000
# Slack doc (plain_text_input): max_length at most 3,000
INPUT_MAX_LENGTH = 3000
# Slack doc (view object): title, submit and close at most 24 characters; private_metadata at
# most 3,000; callback_id and external_id at most 255
VIEW_TITLE = 24
PRIVATE_METADATA = 3000
CALLBACK_ID = 255

_SELECTS = {"static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow"}


def _text_of(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("text", ""))
    return str(value or "")


class _Check:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def at_most(self, where: str, value: Any, limit: int, what: str = "characters") -> None:
        size = len(value) if value is not None else 0
        if size > limit:
            self.problems.append(f"{where}: {size} {what}, at most {limit} allowed")

    def text(self, where: str, value: Any, limit: int = TEXT) -> None:
        if value is None:
            return
        text = _text_of(value)
        if not text:
            # Slack doc (text object): "must be more than 0 characters"
            self.problems.append(f"{where}: empty text")
        self.at_most(where, text, limit)

    def element(self, where: str, element: dict[str, Any]) -> None:
        kind = element.get("type")
        self.at_most(f"{where}.action_id", element.get("action_id"), ACTION_ID)
        if "placeholder" in element:
            self.text(f"{where}.placeholder", element["placeholder"], PLACEHOLDER)
        if kind == "button":
            self.text(f"{where}.text", element.get("text"), BUTTON_TEXT)
            self.at_most(f"{where}.value", element.get("value"), BUTTON_VALUE)
            self.at_most(f"{where}.url", element.get("url"), URL)
        elif kind in _SELECTS:
            options = element.get("options") or []
            self.at_most(f"{where}.options", options, OPTIONS, "options")
            for index, option in enumerate(options):
                self.option(f"{where}.options[{index}]", option)
            if element.get("initial_option"):
                self.option(f"{where}.initial_option", element["initial_option"])
        elif kind == "plain_text_input":
            limit = element.get("max_length")
            if limit is not None and not 1 <= int(limit) <= INPUT_MAX_LENGTH:
                self.problems.append(f"{where}.max_length: {limit}, 1 to {INPUT_MAX_LENGTH}")
            self.at_most(f"{where}.initial_value", element.get("initial_value"), INPUT_MAX_LENGTH)

    def option(self, where: str, option: dict[str, Any]) -> None:
        self.text(f"{where}.text", option.get("text"), OPTION_TEXT)
        self.at_most(f"{where}.value", option.get("value"), OPTION_VALUE)

    def block(self, where: str, block: dict[str, Any]) -> None:
        kind = block.get("type")
        self.at_most(f"{where}.block_id", block.get("block_id"), BLOCK_ID)
        if kind == "section":
            self.text(f"{where}.text", block.get("text"))
            fields = block.get("fields") or []
            self.at_most(f"{where}.fields", fields, SECTION_FIELDS, "fields")
            for index, field in enumerate(fields):
                self.text(f"{where}.fields[{index}]", field, FIELD_TEXT)
            if block.get("accessory"):
                self.element(f"{where}.accessory", block["accessory"])
        elif kind == "header":
            self.text(f"{where}.text", block.get("text"), HEADER_TEXT)
        elif kind == "context":
            elements = block.get("elements") or []
            self.at_most(f"{where}.elements", elements, CONTEXT_ELEMENTS, "elements")
            for index, element in enumerate(elements):
                if element.get("type") in ("plain_text", "mrkdwn"):
                    self.text(f"{where}.elements[{index}]", element)
        elif kind == "actions":
            elements = block.get("elements") or []
            self.at_most(f"{where}.elements", elements, ACTIONS_ELEMENTS, "elements")
            for index, element in enumerate(elements):
                self.element(f"{where}.elements[{index}]", element)
        elif kind == "input":
            self.text(f"{where}.label", block.get("label"), INPUT_LABEL)
            if "hint" in block:
                self.text(f"{where}.hint", block["hint"], INPUT_LABEL)
            if block.get("element"):
                self.element(f"{where}.element", block["element"])

    def blocks(self, blocks: Any, limit: int) -> None:
        if blocks is None:
            return
        if not isinstance(blocks, list):
            self.problems.append("blocks: not a list")
            return
        self.at_most("blocks", blocks, limit, "blocks")
        for index, block in enumerate(blocks):
            if not isinstance(block, dict):
                self.problems.append(f"blocks[{index}]: not an object")
                continue
            self.block(f"blocks[{index}]", block)


def message_problems(blocks: Any) -> list[str]:
    """What Slack would refuse in a message's (or an unfurl's) blocks; [] when none."""
    check = _Check()
    check.blocks(blocks, MESSAGE_BLOCKS)
    return check.problems


def view_problems(view: Any) -> list[str]:
    """What Slack would refuse in a modal or Home tab view; [] when none."""
    if not isinstance(view, dict):
        return ["view: not an object"]
    check = _Check()
    check.blocks(view.get("blocks") or [], VIEW_BLOCKS)
    for key in ("title", "submit", "close"):
        if key in view:
            check.text(f"view.{key}", view[key], VIEW_TITLE)
    check.at_most("view.private_metadata", view.get("private_metadata"), PRIVATE_METADATA)
    check.at_most("view.callback_id", view.get("callback_id"), CALLBACK_ID)
    check.at_most("view.external_id", view.get("external_id"), CALLBACK_ID)
    return check.problems
