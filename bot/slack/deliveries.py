"""What Slack delivers, checked for the shape the bot's listeners read, before they run.

Slack sends well-formed payloads; a public endpoint also meets buggy proxies, replayed captures,
a future field, a test run by hand. A delivery without the parts its listener reads is answered
(an event with the empty 200 Slack expects, anything else with a 4xx) and logged in one line,
rather than failing inside a listener with a traceback and a 500. Pure: the HTTP route and the
Socket Mode handler call it (``bot.command_route``, ``bot.server``).

Written by hand: the shapes are the few fields each listener of ours reads, not Slack's whole
schema (which no well-kept library publishes for Python).
"""

from __future__ import annotations

import json
import re
from typing import Any

# our buttons and menus, and what each must carry (the listeners read it)
VALUE_NEEDED = {"request_retry", "request_edit", "create_as_task"}
JSON_NEEDED = {"task_complete": ("t",), "task_note": ("t",)}  # a JSON object with these keys
NUMBER_NEEDED = {"home_page"}
CHOICE_NEEDED = {"task_status": ("t", "s")}  # a selected option: a JSON object with these


def _dict(value: Any) -> bool:
    return isinstance(value, dict)


def _text(value: Any) -> bool:
    return isinstance(value, str)


# what Bolt itself reads of every delivery (its request context), and the kinds it can read
_NAMED = ("enterprise", "team", "user", "channel")  # an id, or an object with one
_OBJECTS = ("view", "message", "previous_message", "item", "container", "function_data")


_ID = re.compile(r"[A-Za-z0-9_.-]{0,64}")  # a Slack id (U…, C…, T…, E…)
_IDS = ("team_id", "enterprise_id", "api_app_id", "event_id", "user_id", "channel_id")
_STAMPS = ("ts", "thread_ts", "event_ts", "message_ts", "action_ts")
_STAMP = re.compile(r"[0-9]{1,12}(\.[0-9]{1,8})?")
_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,512}")  # a Slack token (xwfp-…)


def _stamp(value: Any) -> bool:
    return isinstance(value, str) and _STAMP.fullmatch(value) is not None


def _id(value: Any) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def _context_problem(payload: dict[str, Any], where: str) -> str | None:
    for key in _NAMED:
        value = payload.get(key)
        if value is not None and not isinstance(value, str | dict):
            return f"the {where}'s {key} is neither an id nor an object"
        named = value.get("id") if isinstance(value, dict) else value
        if named is not None and not _id(named):
            return f"the {where}'s {key} is not a Slack id"
    for key in _OBJECTS:
        if payload.get(key) is not None and not _dict(payload[key]):
            return f"the {where}'s {key} is not an object"
    for key in _IDS:
        if payload.get(key) is not None and not _id(payload[key]):
            return f"the {where}'s {key} is not a Slack id"
    for key in _STAMPS:
        if payload.get(key) is not None and not _stamp(payload[key]):
            return f"the {where}'s {key} is not a Slack timestamp"
    grants = payload.get("authorizations")
    if grants is not None and not (
        isinstance(grants, list) and all(_dict(grant) for grant in grants)
    ):
        return f"the {where}'s authorizations are not a list of objects"
    return None


def interactive_problem(payload: Any) -> str | None:
    """What is wrong with an interactivity payload, or None."""
    if not _dict(payload):
        return "the payload is not a JSON object"
    kind = payload.get("type")
    if not _text(kind):
        return "the payload has no type"
    context = _context_problem(payload, f"{kind} payload")
    if context is not None:
        return context
    if not _dict(payload.get("user")) or not _text(payload["user"].get("id")):
        return f"the {kind} payload has no user"
    if kind == "block_actions":
        return _actions_problem(payload)
    if kind in ("view_submission", "view_closed"):
        return _view_problem(kind, payload.get("view"))
    if kind in ("shortcut", "message_action"):
        if not _text(payload.get("trigger_id")) or not _text(payload.get("callback_id")):
            return f"the {kind} payload has no trigger_id or callback_id"
        if kind == "message_action" and not (
            _dict(payload.get("message")) and _dict(payload.get("channel"))
        ):
            return "the message_action payload has no message or channel"
    if kind == "block_suggestion":
        if not _text(payload.get("action_id")) or not _text(payload.get("value")):
            return "the block_suggestion payload has no action_id or value"
    return None


def _actions_problem(payload: dict[str, Any]) -> str | None:
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions:
        return "the block_actions payload has no actions"
    for key in ("channel", "container", "message", "view", "team"):
        if payload.get(key) is not None and not _dict(payload[key]):
            return f"the block_actions payload's {key} is not an object"
    for key in ("container", "message"):  # where the message pressed is (its ts keys requests)
        inner = _context_problem(payload.get(key) or {}, f"block_actions payload's {key}")
        if inner is not None:
            return inner
    for action in actions:
        if not _dict(action) or not _text(action.get("action_id")):
            return "an action has no action_id"
        action_id = action["action_id"]
        value = action.get("value")
        if action_id in VALUE_NEEDED | set(JSON_NEEDED) | NUMBER_NEEDED and not _text(value):
            return f"the {action_id} action has no value"
        if action_id in JSON_NEEDED and not _ours(value, JSON_NEEDED[action_id]):
            return f"the {action_id} action's value is not one of the bot's"
        if action_id in NUMBER_NEEDED and not value.isdigit():
            return f"the {action_id} action's value is not a number"
        if action_id in CHOICE_NEEDED:
            chosen = action.get("selected_option")
            if not _dict(chosen) or not _ours(chosen.get("value"), CHOICE_NEEDED[action_id]):
                return f"the {action_id} action has no selected option of the bot's"
    return None


def _ours(value: Any, keys: tuple[str, ...]) -> bool:
    """Whether a value is a JSON object with these keys, each a number or text (as ours are)."""
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return False
    return _dict(data) and all(isinstance(data.get(key), int | str) for key in keys)


def _view_problem(kind: str, view: Any) -> str | None:
    if not _dict(view):
        return f"the {kind} payload has no view"
    if not _text(view.get("callback_id")) or not _text(view.get("type")):
        return f"the {kind} view has no callback_id or type"
    metadata = view.get("private_metadata", "")
    if not _text(metadata):
        return f"the {kind} view's private_metadata is not text"
    if metadata:
        try:
            json.loads(metadata)
        except ValueError:
            return f"the {kind} view's private_metadata is not JSON"
    if kind == "view_submission":
        state = view.get("state")
        if not _dict(state) or not _dict(state.get("values")):
            return "the view_submission view has no state.values object"
        if not all(_dict(block) for block in state["values"].values()):
            return "a block of the view_submission state is not an object"
    return None


# events: the fields each listener reads, and their kinds
_EVENT_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "message": {"channel": str, "text": (str, type(None))},
    "reaction_added": {"user": str, "reaction": str, "item": dict},
    "reaction_removed": {"user": str, "reaction": str, "item": dict},
    "link_shared": {"channel": str, "links": list},
    "app_home_opened": {"user": str},
    "channel_shared": {"channel": str},
    "channel_unshared": {"channel": str},
    # Slack doc (function_executed): the step's run, its inputs and its workflow token
    "function_executed": {
        "function": dict,
        "inputs": dict,
        "function_execution_id": str,
        "bot_access_token": str,
    },
}


_EVENT_NEEDS = {
    "reaction_added": ("item",),
    "reaction_removed": ("item",),
    "link_shared": ("links",),
    "function_executed": ("function", "function_execution_id"),
}


def event_problem(body: Any) -> str | None:
    """What is wrong with an Events API body, or None."""
    if not _dict(body):
        return "the body is not a JSON object"
    if not _text(body.get("type")):
        return "the body has no type"
    if body["type"] != "event_callback":
        return None
    context = _context_problem(body, "event_callback")
    if context is not None:
        return context
    event = body.get("event")
    if not _dict(event) or not _text(event.get("type")):
        return "the event_callback has no event"
    for inner, where in ((event, f"{event['type']} event"), (event.get("item"), "event's item")):
        context = _context_problem(inner, where) if _dict(inner) else None
        if context is not None:
            return context
    for field, kinds in _EVENT_FIELDS.get(event["type"], {}).items():
        if field in event and not isinstance(event[field], kinds):
            return f"the {event['type']} event's {field} is of the wrong kind"
    for field in _EVENT_NEEDS.get(event["type"], ()):
        if field not in event:
            return f"the {event['type']} event has no {field}"
    if event["type"] == "function_executed":  # its id keys the request; its token is kept
        if not event["function_execution_id"] or not _id(event["function_execution_id"]):
            return "the function_executed event's function_execution_id is not a Slack id"
        if "bot_access_token" in event and not _TOKEN.fullmatch(event["bot_access_token"]):
            return "the function_executed event's bot_access_token is not a Slack token"
    if event["type"] == "link_shared" and not all(
        _dict(link) and _text(link.get("url")) for link in event.get("links", [])
    ):
        return "a link of the link_shared event has no url"
    return None


_COMMAND_IDS = ("user_id", "channel_id", "team_id", "enterprise_id")


def command_problem(command: dict[str, Any]) -> str | None:
    """What is wrong with a slash command (a form in HTTP mode: text by construction; an
    object in Socket Mode), or None."""
    if not _text(command.get("command")) or not command["command"].startswith("/"):
        return "the slash command has no command"
    for key, value in command.items():
        if value is not None and not _text(value):
            return f"the slash command's {key} is not text"
    for key in _COMMAND_IDS:
        if command.get(key) and not _id(command[key]):
            return f"the slash command's {key} is not a Slack id"
    return None


def problem(body: Any) -> str | None:
    """What is wrong with any delivery: an event, an interactivity payload, a slash command."""
    if _dict(body) and "command" in body:
        return command_problem(body)
    if _dict(body) and ("event" in body or body.get("type") == "event_callback"):
        return event_problem(body)
    if _dict(body) and body.get("type") in ("url_verification", "app_rate_limited"):
        return None
    return interactive_problem(body)
