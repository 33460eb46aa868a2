"""What the step tells Slack when it ends without a task (``functions.completeError``): Slack
shows the text to the person who ran the workflow, and in the workflow's activity, so each
says what happened and what the workflow's builder can change. Plain text: it is shown as
written (inferred: Slack's reference calls it "a human-readable error message")."""

from __future__ import annotations

from bot.flows.failures import OutcomeUnknown, explained
from bot.journal import Entry

MAX_ERROR = 1000  # characters of an error kept (Slack states no limit: a sane bound)
TURNED_OFF = (
    "Creating B2C Service tasks from workflows is turned off for this task bot "
    "(TASK_WORKFLOW_STEP=off). Nothing was created. Ask the admin who installed the bot."
)
USER_REFUSED = (
    "The person who ran this workflow (Requested by) is not on the task bot's list of people "
    "who may create B2C Service tasks (ALLOWED_USERS). Nothing was created. Ask the admin who "
    "installed the bot."
)


def channel_refused(channel: str) -> str:
    return (
        f"Post in channel: the task bot may not post in channel {channel} (ALLOWED_CHANNELS). "
        "Nothing was created. Choose another channel in the step, or ask the admin who "
        "installed the bot."
    )


def inputs_refused(problem: str) -> str:
    return f"{problem} Nothing was created in B2C Service: fix the step's inputs."


def not_created(entry: Entry, budget: float) -> str:
    """Why a journaled run made no task, from the journal's reason."""
    headline, reason, _hint = explained(entry.reason)
    what = headline.rstrip(".") + "." if headline else "The task was not created."
    if reason:
        what += " " + reason.rstrip(".") + "."
    if entry.reason_kind == OutcomeUnknown.__name__:
        hint = "Look for the task in B2C Service before running the workflow again."
    elif entry.state == "failed":
        hint = (
            f"Nothing was created: the bot kept trying for {budget:g} seconds "
            "(B2C_RETRY_BUDGET). Run the workflow again when B2C Service is back."
        )
    else:
        hint = "Nothing was created in B2C Service: fix the step's inputs."
    return f"{what} {hint}"[:MAX_ERROR]
