"""Finishing a step's run once its request is settled: ``functions.completeSuccess`` with the
task's id, link and status (for the workflow's next steps), or ``functions.completeError`` with
why there is no task; then, when the step names a channel, the task message and its thread
there, as a slash command's (the thread is then synced like any other).

Both calls use the run's workflow token, as Slack requires (Slack doc: the calls that finish a
step are made with the ``bot_access_token`` of its ``function_executed`` event). The token is
read from ``StepRuns`` (so that a restart can finish the run) and wiped once the run is over.
Slack away leaves the result for the journal's next run; a run Slack says is over (finished
already, or timed out) or a token Slack no longer takes is not tried again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.requests import TaskRequest
from bot.domain.tasks import Task
from bot.flows.announce import ResultDelivery
from bot.journal import Entry
from bot.slack.delivery import TRANSIENT
from bot.workflow import messages
from bot.workflow.store import StepRuns

log = logging.getLogger(__name__)
NO_CHANNEL = "workflow"  # the delivery of a run that posts nothing: the step's outputs only


class StepFinisher:
    def __init__(
        self,
        *,
        slack: AsyncWebClient,
        runs: StepRuns,
        results: ResultDelivery,
        link: Callable[[int], str],
        budget: float,
    ) -> None:
        self.slack = slack
        self.runs = runs
        self.results = results
        self.link = link
        self.budget = budget  # B2C_RETRY_BUDGET, for the words of a run that gave up

    async def deliver(self, entry: Entry, request: TaskRequest) -> tuple[Entry, str | None]:
        """``TaskCreator.deliverers["workflow"]``: (the entry, how it reached Slack), or None
        while Slack is away (the journal runs it again)."""
        if await self.finish(entry, request) is None:
            return entry, None
        if entry.task is None or not request.channel_id:
            return entry, NO_CHANNEL
        return await self.results.deliver(entry, request)

    async def finish(self, entry: Entry, request: TaskRequest) -> str | None:
        """End the run in Slack, once: how it ended ("success", "error", or Slack's refusal),
        or None while Slack is away."""
        execution = request.function_execution_id or ""
        token = await self.runs.token(execution)
        if token is None:  # finished already (an earlier run of this request), or never kept
            return await self.runs.outcome(execution) or "no token"
        if entry.task is None:
            error = messages.not_created(entry, self.budget)
            call = self.slack.functions_completeError(
                token=token, function_execution_id=execution, error=error
            )
            return await self.told(call, execution, "error", request.correlation_id)
        task = Task.model_validate(entry.task)
        outputs = {"task_id": task.id, "task_url": self.link(task.id), "status": task.status_name}
        call = self.slack.functions_completeSuccess(
            token=token, function_execution_id=execution, outputs=outputs
        )
        return await self.told(call, execution, "success", request.correlation_id)

    async def fail(self, execution: str, token: str, error: str, correlation: str) -> None:
        """End a run that made no request (its inputs refused, the step turned off)."""
        call = self.slack.functions_completeError(
            token=token, function_execution_id=execution, error=error
        )
        await self.told(call, execution, "error", correlation)

    async def told(
        self, call: Awaitable[Any], execution: str, outcome: str, correlation: str
    ) -> str | None:
        """Await the call that finishes a run; how it ended, or None while Slack is away."""
        try:
            await call
        except SlackApiError as error:
            code = str(error.response.get("error") or "")
            if code in TRANSIENT or error.response.status_code >= 500:
                log.warning(
                    "[%s] Slack is away (%s): the step is finished later", correlation, code
                )
                return None
            # execution_not_in_running_state, function_execution_not_found: over already
            # (finished, or timed out); invalid_auth, token_expired...: the token is spent
            log.warning(
                "[%s] Slack would not finish the Workflow Builder step %s: %s",
                correlation,
                execution,
                code,
                extra={"event": "workflow_step_unfinished", "correlation_id": correlation},
            )
            outcome = "refused: " + code
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning(
                "[%s] Slack is away (%s): the step is finished later",
                correlation,
                type(error).__name__,
            )
            return None
        await self.runs.finished(execution, outcome)
        return outcome
