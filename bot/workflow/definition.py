"""The step as manifest.yaml declares it (``functions.create_b2c_task``), kept here too so that
the doctor can compare it with the manifest the app runs with, the demo's Slack stand-in can
check outputs against it as Slack does, and a test holds manifest.yaml to it."""

from __future__ import annotations

from typing import Any

from bot.workflow.inputs import CALLBACK_ID, INPUTS

_TEXT = "string"
_USER = "slack#/types/user_id"
_CHANNEL = "slack#/types/channel_id"
_DESCRIPTIONS = {
    "name": "What the task is: its name in B2C Service",
    "contact": "The contact's ID (83) or e-mail address",
    "organization": "The organization's ID or name",
    "assignee": "The Slack user it is assigned to (their staff account, by e-mail)",
    "due": "When it is due: tomorrow 5pm, 2026-12-24 17:00, or a Slack timestamp",
    "priority": "A priority of the site, by name (High) or ID",
    "status": "A status of the site, by name or ID",
    "type": "A task type of the site, by name or ID",
    "template": "A task template of the site, by name or ID",
    "incident": "An incident's ID or reference number (261128-000123)",
    "note": "A note on the task",
    "channel": "Where to post the task message and its thread (empty: no message)",
    "requester": "Who ran the workflow: recorded on the task, and checked against ALLOWED_USERS",
}
_TYPES = {"assignee": _USER, "channel": _CHANNEL, "requester": _USER}

FUNCTION: dict[str, Any] = {
    "title": "Create B2C Service task",
    "description": "Create a task in Oracle B2C Service",
    "input_parameters": {
        "properties": {
            name: {
                "type": _TYPES.get(name, _TEXT),
                "title": title,
                "description": _DESCRIPTIONS[name],
            }
            for name, title in INPUTS.items()
        },
        "required": ["name"],
    },
    "output_parameters": {
        "properties": {
            "task_id": {"type": "integer", "title": "Task ID"},
            "task_url": {"type": _TEXT, "title": "Task link"},
            "status": {"type": _TEXT, "title": "Task status"},
        },
        "required": ["task_id", "task_url", "status"],
    },
}


def difference(manifest: Any) -> str | None:
    """What the app's manifest lacks of the step, or None when it declares it as here."""
    functions = (manifest or {}).get("functions") if isinstance(manifest, dict) else None
    declared = (functions or {}).get(CALLBACK_ID) if isinstance(functions, dict) else None
    if not isinstance(declared, dict):
        return f"the manifest declares no functions.{CALLBACK_ID}"
    for side in ("input_parameters", "output_parameters"):
        wanted = FUNCTION[side]["properties"]
        given = (declared.get(side) or {}).get("properties") or {}
        missing = [name for name in wanted if name not in given]
        if missing:
            return f"functions.{CALLBACK_ID} lacks the {side} {', '.join(missing)}"
        changed = [n for n in wanted if (given[n] or {}).get("type") != wanted[n]["type"]]
        if changed:
            return f"functions.{CALLBACK_ID}: {', '.join(changed)} should be of another type"
    if not (manifest.get("settings") or {}).get("org_deploy_enabled"):
        return "settings.org_deploy_enabled is not true (Slack runs custom steps only then)"
    return None
