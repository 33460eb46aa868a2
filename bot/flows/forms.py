"""The task form's life: opening it (blank, pre-filled from a command, or from a message),
filling slow data in afterwards, and creating the task when it is submitted.

Slack gives 3 seconds to open a modal with a ``trigger_id``, so the form opens at once with what
is known and is completed with ``views.update`` once Oracle and Slack have answered.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.defaults import merge
from bot.domain.drafts import TaskDraft, draft_from_dict
from bot.domain.grammar import Reading
from bot.domain.requests import TaskRequest
from bot.domain.slack_text import first_line_name, to_plain
from bot.domain.tasks import Task
from bot.flows.failures import Failure, explain, explained
from bot.flows.procedure import Hooks
from bot.flows.worker import TaskCreator
from bot.oracle import lookups
from bot.oracle.errors import B2CError, B2CValidationError
from bot.oracle.staff import IdentityError
from bot.slack import modal
from bot.slack.modal import FormContext, FormValues

log = logging.getLogger(__name__)


def _nothing() -> None:
    return None


Filler = Callable[[FormValues], Awaitable[None]]


class TaskForms:
    def __init__(self, *, slack: AsyncWebClient, creator: TaskCreator) -> None:
        self.slack = slack
        self.creator = creator
        self.whole_thread = True  # offered in threads (off without channels:history)

    async def _with_defaults(self, channel_id: str, values: FormValues, user: str) -> None:
        """Fill what the form leaves empty from the channel's defaults (``/task defaults``)."""
        if self.creator.procedure.channel_defaults is None or not channel_id:
            return
        defaults = await self.creator.procedure.channel_defaults(channel_id)
        if not defaults:
            return
        person = self.creator.people.peek(user)
        base = modal.values_from_draft(
            merge(TaskDraft(name=""), defaults),
            tz=person.tz if person else None,
            now=self.creator.clock(),
        )
        for name in ("contact", "org", "assign_user", "due", "start"):
            if getattr(values, name) is None:
                setattr(values, name, getattr(base, name))
        if not values.assign_login and values.assign_user is None:
            values.assign_login = base.assign_login
        for name in ("incident", "answer", "opportunity"):
            if not getattr(values, name):
                setattr(values, name, getattr(base, name))
        values.named = {**base.named, **values.named}

    @property
    def _name_max(self) -> int:
        return self.creator.limits.name_max_length

    # ------------------------------------------------------------------ opening
    async def open(
        self,
        trigger_id: str,
        context: FormContext,
        values: FormValues,
        *,
        errors: dict[str, str] | None = None,
        banner: str | None = None,
        fill: Filler | None = None,
    ) -> bool:
        """Open the form now; complete it in the background if data is still missing."""
        if values.contact is not None and values.contact.label == modal.unnamed_contact(
            values.contact.value
        ):
            fill = self._naming_contact(fill)  # shown by its name once Oracle says it
        catalog = self.creator.catalog.cached()
        view = modal.form_view(
            values, context, catalog=catalog, errors=errors, banner=banner, name_max=self._name_max
        )
        try:
            response = await self.slack.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as error:
            log.warning("views.open failed: %s", error.response.get("error"))
            return False
        if catalog is None or fill is not None:
            opened = response.get("view") or {}
            self.creator.spawn(
                self._complete(opened, context, values, errors, banner, fill), "form-fill"
            )
        return True

    def _naming_contact(self, fill: Filler | None) -> Filler:
        async def naming(values: FormValues) -> None:
            if fill is not None:
                await fill(values)
            contact = values.contact
            if contact is not None and contact.value.isdigit():
                name = await self.creator.procedure.names.name("contacts", int(contact.value))
                if name:
                    values.contact = lookups.Choice(contact.value, name)

        return naming

    async def _complete(
        self,
        opened: dict[str, Any],
        context: FormContext,
        values: FormValues,
        errors: dict[str, str] | None,
        banner: str | None,
        fill: Filler | None,
    ) -> None:
        catalog = await self.creator.catalog.get()
        if fill is not None:
            try:
                await fill(values)
            except (B2CError, SlackApiError) as error:
                log.info("form pre-fill incomplete: %s", type(error).__name__)
        view = modal.form_view(
            values, context, catalog=catalog, errors=errors, banner=banner, name_max=self._name_max
        )
        try:
            await self.slack.views_update(
                view_id=opened.get("id"), hash=opened.get("hash"), view=view
            )
        except SlackApiError as error:  # e.g. the user closed it, or already changed it
            log.info("views.update of the form skipped: %s", error.response.get("error"))

    async def open_from_command(
        self, trigger_id: str, payload: dict[str, Any], reading: Reading | None = None
    ) -> bool:
        """The form for ``/task`` alone, or pre-filled from a command with mistakes in it."""
        context = FormContext(
            channel_id=payload.get("channel_id", ""),
            channel_name=payload.get("channel_name", ""),
            response_url=payload.get("response_url", ""),
            command=payload.get("command") or "/task",
            text=payload.get("text") or "",
        )
        user = payload.get("user_id", "")
        if reading is None:
            values = FormValues()
            await self._with_defaults(context.channel_id, values, user)
            return await self.open(trigger_id, context, values)
        known = self.creator.people.peek(user)
        now = self.creator.clock()
        values = modal.values_from_reading(reading, tz=known.tz if known else None, now=now)
        await self._with_defaults(context.channel_id, values, user)
        errors = {self._block_for(e.field): e.message for e in reading.errors}
        banner = "Your command had a mistake: fix it here, or cancel and type it again."

        async def with_zone(current: FormValues) -> None:
            person = await self.creator.people.get(user)
            if (
                person is not None
                and person.tz
                and (reading.values.get("due") or reading.values.get("start"))
            ):
                fresh = modal.values_from_reading(reading, tz=person.tz, now=now)
                current.due, current.start = fresh.due, fresh.start

        return await self.open(
            trigger_id,
            context,
            values,
            errors=errors,
            banner=banner,
            fill=None if known else with_zone,
        )

    @staticmethod
    def _block_for(field: str | None) -> str:
        blocks = {
            "name",
            "contact",
            "org",
            "due",
            "start",
            "priority",
            "status",
            "type",
            "template",
            "incident",
            "answer",
            "opportunity",
            "note",
        }
        if field == "assign":
            return "assign_login"
        return field if field in blocks else "name"

    async def open_from_message(self, trigger_id: str, body: dict[str, Any]) -> bool:
        """The form for "Create task" on a message, pre-filled from that message."""
        message = body.get("message") or {}
        channel = body.get("channel") or {}
        text = message.get("text") or ""
        context = FormContext(
            channel_id=channel.get("id", ""),
            channel_name=channel.get("name", ""),
            response_url=body.get("response_url", ""),
            thread_ts=message.get("thread_ts") or message.get("ts"),
            message_ts=message.get("ts"),
            in_thread=self.whole_thread
            and bool(message.get("thread_ts") or message.get("reply_count")),
        )
        values = FormValues(name=first_line_name(text), note=to_plain(text)[:2800])
        user = (body.get("user") or {}).get("id", "")
        await self._with_defaults(context.channel_id, values, user)

        async def from_message(current: FormValues) -> None:
            try:
                permalink = await self.slack.chat_getPermalink(
                    channel=context.channel_id, message_ts=context.message_ts
                )
                current.note = f"{current.note}\n\n{permalink['permalink']}".strip()
            except SlackApiError as error:
                log.info("chat.getPermalink failed: %s", error.response.get("error"))
            author = message.get("user")
            person = await self.creator.people.get(author) if author else None
            if person is not None and person.email:
                current.contact = await lookups.contact_by_email(self.creator.b2c, person.email)

        return await self.open(trigger_id, context, values, fill=from_message)

    # ------------------------------------------------------------------ submitting
    async def submit(self, body: dict[str, Any]) -> tuple[dict[str, Any], Callable[[], Any]]:
        """Validate and journal a submitted form: the ack to give Slack (errors, or a progress
        view), and what to start once Slack has it."""
        view = body.get("view") or {}
        view_id = view.get("id", "")
        values = modal.read_submission((view.get("state") or {}).get("values") or {})
        draft, errors = modal.draft_from_form(values, name_max=self._name_max)
        if errors:
            return {"response_action": "errors", "errors": errors}, _nothing
        assert draft is not None
        context = FormContext.decode(view.get("private_metadata", ""))
        request = replace(context.request(body), whole_thread=values.whole_thread)
        progress = {"response_action": "update", "view": modal.progress_view(values.name)}
        # the same form state submitted twice is one request; a corrected form (Slack gives
        # every update of a view a new hash) is a new one
        key = f"view:{view_id}:{view.get('hash', '')}"
        entry = await self.creator.accept(request, draft, kind="form", dedupe_key=key)
        if entry is None:
            return progress, _nothing

        async def on_rejected(failure: Failure) -> bool:
            headline, reason, _hint = explain(failure)
            field = None
            if isinstance(failure, B2CValidationError):
                field = modal.field_for(failure.detail, assigned_by_login=bool(values.assign_login))
            elif isinstance(failure, IdentityError):
                field = "assign_login" if values.assign_login else "assign"
            form = modal.form_view(
                values,
                context,
                catalog=self.creator.catalog.cached(),
                errors={field: reason} if field else None,
                banner=headline if field else f"{headline}: {reason}",
                name_max=self._name_max,
            )
            try:
                await self.slack.views_update(view_id=view_id, view=form)
            except SlackApiError:  # the form is gone: the failure goes to the channel instead
                return False
            return True

        async def on_created(task: Task, link: str) -> None:
            try:
                await self.slack.views_update(
                    view_id=view_id,
                    view=modal.done_view(task.id, task.title, task.status_name, link),
                )
            except SlackApiError as error:
                log.info("views.update (done) failed: %s", error.response.get("error"))

        hooks = Hooks(on_rejected=on_rejected, on_created=on_created)
        return progress, lambda: self.creator.start(entry, hooks)

    async def open_for_entry(self, trigger_id: str, entry_id: str) -> bool:
        """ "Edit and retry": the form again, with what the user had asked for."""
        entry = await self.creator.journal.get(entry_id)
        if entry is None:
            return False
        request = TaskRequest(**entry.request)
        context = FormContext.of(request)
        person = await self.creator.people.get(request.user_id)
        values = modal.values_from_draft(
            draft_from_dict(entry.draft), tz=person.tz if person else None, now=self.creator.clock()
        )
        headline, reason, _hint = explained(entry.reason)
        return await self.open(trigger_id, context, values, banner=f"{headline}: {reason}")
