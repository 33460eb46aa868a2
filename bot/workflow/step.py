"""A run of the step, as Slack starts it (``function_executed``): its inputs read and checked
(the setting, the allow-lists), then journaled as a request of kind ``workflow`` and created
by the same worker as a slash command (the same checks, names, retries, unknown-outcome check
and no-duplicate rule: one request per ``function_execution_id``, however often Slack sends it).
A run refused before the journal is finished at once with ``functions.completeError``."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from bot.domain.requests import TaskRequest
from bot.flows.compose import WORKFLOW_PLACE, task_name
from bot.flows.worker import TaskCreator
from bot.slack.access import Gate
from bot.workflow import messages
from bot.workflow.finish import StepFinisher
from bot.workflow.inputs import InputError, StepInputs, read_inputs
from bot.workflow.store import StepRuns

log = logging.getLogger(__name__)
KIND = "workflow"  # the journal's kind of a step's request
NOBODY = "a workflow"  # who asked, on the task, when the workflow names nobody


class WorkflowStep:
    def __init__(
        self,
        *,
        creator: TaskCreator,
        runs: StepRuns,
        finisher: StepFinisher,
        gate: Gate,
        enabled: bool = True,
    ) -> None:
        self.creator = creator
        self.runs = runs
        self.finisher = finisher
        self.gate = gate
        self.enabled = enabled  # TASK_WORKFLOW_STEP

    async def received(self, event: dict[str, Any], team_id: str = "") -> None:
        """Before the ack: the run journaled (or refused); its work goes on in the background.
        ``event``: the ``function_executed`` event, checked for shape (``bot.slack.deliveries``)."""
        execution = event["function_execution_id"]
        token = event.get("bot_access_token") or ""
        request = TaskRequest(
            user_id="",
            channel_id="",
            channel_name=WORKFLOW_PLACE,
            user_name=NOBODY,
            team_id=team_id,
            function_execution_id=execution,
        )
        checked = await self._checked(event)
        if isinstance(checked, str):  # refused
            log.info(
                "[%s] Workflow Builder step %s refused: %s",
                request.correlation_id,
                execution,
                checked,
                extra={"event": "workflow_step_refused", "correlation_id": request.correlation_id},
            )
            self.creator.spawn(
                self.finisher.fail(execution, token, checked, request.correlation_id),
                "workflow-refused",
                request.correlation_id,
            )
            return
        request = replace(
            request,
            user_id=checked.requester or "",
            user_name="" if checked.requester else NOBODY,
            channel_id=checked.channel or "",
        )
        await self.runs.keep(execution, token)
        entry = await self.creator.accept(
            request, checked.draft, kind=KIND, dedupe_key=f"{KIND}:{execution}"
        )
        if entry is not None:  # None: Slack sent this run again; it is in hand already
            self.creator.start(entry)

    async def _checked(self, event: dict[str, Any]) -> StepInputs | str:
        """The run's inputs, read and allowed; or why it is refused (a line for the
        workflow's builder)."""
        if not self.enabled:
            return messages.TURNED_OFF
        try:
            step = read_inputs(event.get("inputs"))
        except InputError as error:
            return messages.inputs_refused(str(error))
        problem = self.creator.limits.name_problem(task_name(step.draft))
        if problem is not None:
            return messages.inputs_refused(problem.replace(" (`@note …`)", " (Note)"))
        if step.channel is not None and not self.gate.channel_allowed(step.channel):
            return messages.channel_refused(step.channel)
        if step.requester is not None and await self.gate.refusal(step.requester, None):
            return messages.USER_REFUSED
        return step
