"""The doctor's Oracle checks: reachable, credentials, application context, REST enabled, task
permissions, named IDs, the tasks metadata, every ROQL form the bot sends, the task link; and
with ``--write``, a task created, queried, noted and deleted.

Each unverified fact of ``B2C_API.md`` the bot relies on is checked here: the named-ID paths,
the column paths, quoting (an apostrophe and a backslash in every form), time literals (the
form, and with ``--write`` the zone they are read in), the name's maximum length, how a dotted
column is named and what a bare reference answers (reported), appending a note (by PATCH and by
POST to the task's notes) and the link template (with ``--write``)."""

from __future__ import annotations

import asyncio
import socket
import ssl
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot.doctor.report import Report
from bot.domain.tasks import Task
from bot.oracle import roql, site
from bot.oracle.catalog import KINDS
from bot.oracle.client import API_PATH, B2CClient
from bot.oracle.errors import B2CConnectionError, B2CError
from bot.settings import Settings

AREA = "Oracle"
PROFILE = (
    "in B2C Service, open Configuration → Staff Management → Profiles, edit the profile of "
    "the API account ({user})"
)


def connect_failure(error: BaseException) -> str:
    """What kind of failure a connection error is: dns, tls, refused, timeout or other."""
    seen: BaseException | None = error
    chain: list[BaseException] = []
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    text = " ".join(str(item) for item in chain).lower()
    if any(isinstance(item, socket.gaierror) for item in chain) or any(
        words in text
        for words in ("name or service not known", "nodename nor servname", "getaddrinfo")
    ):
        return "dns"
    if (
        any(isinstance(item, ssl.SSLError) for item in chain)
        or "ssl" in text
        or "certificate" in text
    ):
        return "tls"
    if any(isinstance(item, httpx.TimeoutException | TimeoutError) for item in chain):
        return "timeout"
    if any(isinstance(item, ConnectionRefusedError) for item in chain) or "refused" in text:
        return "refused"
    return "other"


async def _reachable(report: Report, url: str, wait: float) -> bool:
    host = httpx.URL(url).host
    try:
        async with httpx.AsyncClient(timeout=min(wait, 10.0)) as http:
            await http.get(url + API_PATH)
    except httpx.HTTPError as error:
        kind = connect_failure(error)
        what, fix = {
            "dns": (
                f"{host} does not resolve (DNS)",
                "check B2C_SITE_URL's host name (e.g. https://mysite.custhelp.com) and the "
                "machine's DNS",
            ),
            "tls": (
                f"{host}: the TLS handshake failed ({type(error).__name__})",
                "use https:// with the site's own host name; behind a TLS-inspecting proxy, "
                "give this machine the proxy's certificate (SSL_CERT_FILE)",
            ),
            "timeout": (
                f"{host} did not answer within {min(wait, 10.0):g} s",
                "check that this machine may reach the site (firewall, proxy, HTTPS_PROXY)",
            ),
            "refused": (
                f"{host} refused the connection",
                "check B2C_SITE_URL's scheme and port",
            ),
        }.get(kind, (f"{host} could not be reached ({type(error).__name__})", "check B2C_SITE_URL"))
        report.fail(AREA, f"reachable: {what}", fix)
        return False
    report.ok(AREA, f"reachable: {url} answers over {httpx.URL(url).scheme}")
    return True


def _access_failure(report: Report, settings: Settings, error: B2CError) -> bool:
    """Report an answer that stops every call (credentials, context, REST); True if it was one."""
    user = settings.b2c_username or "the API account"
    if error.status == 401:
        report.fail(
            AREA,
            f"credentials: Oracle refused them ({error.status} {error.reason})",
            "check B2C_USERNAME and B2C_PASSWORD (or B2C_SESSION_TOKEN / B2C_OAUTH_TOKEN); "
            "the account must be active and its password not expired",
        )
        return True
    if error.code == "OSC-CREST-00015":
        report.fail(
            AREA,
            f"REST API: not enabled for this account ({error.code})",
            PROFILE.format(user=user) + ", and under Permissions → Administration check "
            "Public SOAP API / Public REST API (the Connect REST API must be enabled for the site)",
        )
        return True
    if error.code == "OSC-CREST-00016" or (error.status == 400 and "ontext" in error.detail):
        report.fail(
            AREA,
            f"application context: Oracle refused {settings.b2c_app_context!r} ({error.reason})",
            "set B2C_APP_CONTEXT to a short name for this bot (1 to 40 characters), as your "
            "site's API resource pools expect",
        )
        return True
    if error.code == "OSC-CREST-00014":
        report.fail(
            AREA,
            f"site: this account is not authorized for the site ({error.code})",
            "check B2C_SITE_URL (the interface the account belongs to) and the account",
        )
        return True
    return False


class OracleDoctor:
    def __init__(self, report: Report, settings: Settings, b2c: B2CClient) -> None:
        self.report = report
        self.settings = settings
        self.b2c = b2c
        self.task_id: int | None = None  # a real task, for the link and the bare-reference look
        self.statuses: list[str] = []
        self.user = settings.b2c_username or "the API account"

    def fail(self, what: str, fix: str) -> None:
        self.report.fail(AREA, what, fix)

    async def access(self) -> bool:
        """Credentials, context, REST and reading tasks, in one call: ``GET /tasks?limit=1``."""
        try:
            listing = await self.b2c.get("tasks", limit=1)
        except B2CError as error:
            if _access_failure(self.report, self.settings, error):
                return False
            self.report.ok(AREA, "credentials, application context and REST API: accepted")
            if error.status == 403:
                self.fail(
                    f"task permission: cannot read tasks ({error.reason})",
                    PROFILE.format(user=self.user) + ", and give it the Tasks permissions "
                    "(read, add, edit) under Permissions → Tasks",
                )
            else:
                self.fail(
                    f"GET /tasks answered {error.status}: {error.reason}",
                    "report this line to the bot's maintainers",
                )
            return True
        self.report.ok(AREA, "credentials, application context and REST API: accepted")
        items = listing.get("items") or []
        if items and isinstance(items[0], dict) and str(items[0].get("id", "")).isdigit():
            self.task_id = int(items[0]["id"])
        self.report.ok(AREA, "task permission: the account can read tasks")
        self._dated()
        return True

    def _dated(self) -> None:
        """The thread sync reads a changed task's notes once, after its second is over by
        Oracle's clock, which it knows from the ``Date`` of Oracle's answers (inferred: HTTP
        servers date their answers; the sandbox does)."""
        said = self.b2c.oracle_time()
        if said is None:
            self.report.warn(
                AREA,
                "Oracle's answers carry no Date header: synced threads read a changed task's "
                "notes at every round while it stays in the poll's 5-second overlap",
            )
            return
        skew = abs((datetime.now(UTC) - said).total_seconds())
        self.report.ok(AREA, f"Oracle's answers are dated (its clock {skew:.0f} s from ours)")

    async def named_ids(self) -> None:
        try:
            listing = await self.b2c.get("namedIDs/tasks")
            names = [str(item.get("name")) for item in listing.get("items") or [] if item]
            offered = ", ".join(names) if names else "none"
            self.report.ok(AREA, f"named IDs: the site lists {offered}")
        except B2CError as error:
            self.report.warn(AREA, f"named IDs: GET /namedIDs/tasks answered {error.reason}")
        for kind, path in KINDS.items():
            try:
                items = await self.b2c.named_ids(path)
            except B2CError as error:
                self.fail(
                    f"named IDs {kind}: GET /namedIDs/tasks/{path} answered "
                    f"{error.status} ({error.reason})",
                    f"the form's {kind} list falls back to text and `/task @{kind}` names go to "
                    "Oracle unchecked; report the paths GET /namedIDs/tasks lists to the bot's "
                    "maintainers",
                )
                continue
            values = [str(item.get("lookupName")) for item in items if isinstance(item, dict)]
            if kind == "status":
                self.statuses = values
            shown = ", ".join(values[:8]) + (" …" if len(values) > 8 else "")
            self.report.ok(AREA, f"named IDs {kind}: {len(values)} ({shown or 'none'})")
        wanted = self.settings.b2c_completed_status
        if self.statuses and wanted.lower() not in (s.lower() for s in self.statuses):
            self.fail(
                f"B2C_COMPLETED_STATUS {wanted!r} is not one of the site's statuses",
                "set B2C_COMPLETED_STATUS to one of: " + ", ".join(self.statuses),
            )
        elif self.statuses:
            self.report.ok(AREA, f"B2C_COMPLETED_STATUS {wanted!r} is a status of the site")

    async def metadata(self) -> None:
        field = self.settings.b2c_request_id_field
        try:
            schema = await self.b2c.metadata("tasks")
        except B2CError as error:
            self.report.warn(
                AREA,
                f"metadata: GET /metadata-catalog/tasks answered {error.reason}; task names are "
                f"limited to {site.DEFAULT_NAME_MAX} characters",
            )
            if field:
                self.report.warn(AREA, f"custom field {field}: not listed (no metadata)")
            return
        limit = site.name_max_length(schema)
        if limit:
            self.report.ok(AREA, f"metadata: a task name takes at most {limit} characters")
        else:
            self.report.warn(
                AREA,
                "metadata: no maximum length for a task name; the bot allows "
                f"{site.DEFAULT_NAME_MAX} characters",
            )
        extra = [name for name in site.required_fields(schema) if name != "name"]
        if extra:
            self.report.warn(
                AREA,
                "metadata: the site requires " + ", ".join(extra) + " on every task",
                "give those fields defaults in B2C Service (the bot sends only what is typed)",
            )
        if field:
            found = site.custom_field(schema, field)
            if found is None:
                self.fail(
                    f"custom field {field} (B2C_REQUEST_ID_FIELD): the site has no such task "
                    "custom field",
                    f"in B2C Service add a task custom field named {field} (text, 40 characters "
                    "or more, not visible to customers), or unset B2C_REQUEST_ID_FIELD",
                )
            elif isinstance(found.get("maxLength"), int) and found["maxLength"] < 32:
                self.fail(
                    f"custom field {field}: takes {found['maxLength']} characters; a request id "
                    "has 32",
                    f"make {field} 40 characters or more",
                )
            else:
                self.report.ok(AREA, f"custom field {field}: exists on tasks")

    async def queries(self) -> None:
        forms = list(roql.FORMS)
        field = self.settings.b2c_request_id_field
        if field:
            forms.append(
                roql.Form(
                    f"task by request id ({field})",
                    lambda: roql.task_by_request_id(field, "0" * 32),
                    "the exact no-duplicate check",
                )
            )
        for form in forms:
            try:
                tables = await self.b2c.query(form.build())
            except B2CError as error:
                self.fail(
                    f"ROQL {form.what}: refused ({error.code or error.status}: {error.reason})",
                    f"{form.feature} will fail; report this line to the bot's maintainers",
                )
                continue
            if form.what.startswith("contact search") and tables:
                names = ", ".join(tables[0].column_names)
                self.report.ok(AREA, f"ROQL {form.what}: answers (columns named: {names})")
            else:
                self.report.ok(AREA, f"ROQL {form.what}: answers")
        if self.task_id is not None:
            await self._bare_reference()

    async def _bare_reference(self) -> None:
        try:
            rows = await self.b2c.rows(
                "select statusWithType.status, statusWithType.status.lookupName from tasks "
                f"where id = {int(self.task_id or 0)}"
            )
        except B2CError as error:
            self.report.warn(AREA, f"ROQL a bare reference: refused ({error.reason})")
            return
        if rows:
            bare, named = (rows[0] + [None, None])[:2]
            self.report.ok(
                AREA,
                f"ROQL a bare reference answers {bare!r} where ….lookupName answers {named!r} "
                "(the bot always selects ….id or ….lookupName)",
            )

    def link(self, task_id: int | None, *, made_here: bool = False) -> None:
        if task_id is None:
            self.report.warn(
                AREA,
                "task link: no task on the site to show it with (B2C_TASK_URL is unchecked)",
            )
            return
        url = self.settings.b2c_task_url.format(site=self.b2c.site_url, id=task_id)
        when = " (the --write task, deleted next: open a link to one of yours)" if made_here else ""
        self.report.warn(
            AREA,
            f"task link: {url}{when}",
            "open it once: it should show the task in B2C Service; if not, set B2C_TASK_URL "
            "(with {site} and {id})",
        )

    async def write(self) -> None:
        """Create a task, find it by name and time (and by request id), add a note, delete it."""
        now = datetime.now(UTC).replace(microsecond=0)
        name = f"doctor check {now:%Y-%m-%d %H:%M:%S} UTC (safe to delete)"
        body: dict[str, Any] = {
            "name": name,
            "notes": [{"text": "Created by python -m bot doctor --write"}],
        }
        field = self.settings.b2c_request_id_field
        request_id = "doctor" + now.strftime("%Y%m%d%H%M%S")
        if field:
            body["customFields"] = {"c": {field: request_id}}
        try:
            response = await self.b2c.post("tasks", body)
            task = Task.model_validate(response.json())
        except (B2CError, ValueError) as error:
            reason = error.reason if isinstance(error, B2CError) else "an unreadable answer"
            self.fail(
                f"--write: could not create a task ({reason})",
                PROFILE.format(user=self.user) + ", and give it permission to add tasks",
            )
            return
        location = response.headers.get("Location")
        self.report.ok(
            AREA,
            f"--write: created task {task.id} ({response.status_code}, "
            + (f"Location {location})" if location else "no Location header)"),
        )
        try:
            await self._find_again(task.id, name, task.created_time or now, field, request_id)
            await self._note(task.id)
            if self.task_id is None:  # no other task to show the link with
                self.link(task.id, made_here=True)
        finally:
            try:
                await self.b2c.delete_task(task.id)
                self.report.ok(AREA, f"--write: deleted task {task.id}")
            except B2CError as error:
                self.fail(
                    f"--write: could not delete task {task.id} ({error.reason})",
                    f'delete task {task.id} ("{name}") in B2C Service by hand',
                )

    async def _find_again(
        self, task_id: int, name: str, created: datetime, field: str | None, request_id: str
    ) -> None:
        before = await self.b2c.query_one_column(
            roql.task_by_name_since(name, created - timedelta(seconds=60))
        )
        after = await self.b2c.query_one_column(
            roql.task_by_name_since(name, created + timedelta(seconds=120))
        )
        if str(task_id) in before and str(task_id) not in after:
            self.report.ok(AREA, "--write: time literals are read in UTC (found by name and time)")
        else:
            self.fail(
                "--write: a task was not found by name and creation time as the bot asks "
                f"(a minute before: {bool(before)}, two after: {bool(after)}): the site does not "
                "read ROQL times in UTC",
                "set B2C_REQUEST_ID_FIELD (the exact check), and report this line to the bot's "
                "maintainers",
            )
        if field:
            found = await self.b2c.query_one_column(roql.task_by_request_id(field, request_id))
            if found == [str(task_id)]:
                self.report.ok(AREA, f"--write: found by its request id in {field}")
            else:
                self.fail(
                    f"--write: not found by its request id in {field} (got {found})",
                    f"check that {field} is a text field that tasks keep",
                )

    async def _note(self, task_id: int) -> None:
        """A note added by PATCH (a status change carries its note so) and by ``POST
        tasks/{id}/notes`` (a reply, Add note): each appended, each moving updatedTime."""
        had = 1  # the note the --write task was created with
        for how in ("PATCH", "POST"):
            try:
                before = (await self.b2c.get_task(task_id)).updated_time
                await asyncio.sleep(1.1)  # updatedTime counts whole seconds
                text = f"A note added by {how} (doctor)"
                if how == "PATCH":
                    await self.b2c.update_task(task_id, {"notes": [{"text": text}]})
                else:
                    await self.b2c.add_note(task_id, text)
                notes = (await self.b2c.get(f"tasks/{task_id}/notes")).get("items") or []
                after = (await self.b2c.get_task(task_id)).updated_time
            except B2CError as error:
                self.fail(
                    f"--write: adding a note by {how} failed ({error.reason})",
                    PROFILE.format(user=self.user) + ", and give it permission to edit tasks",
                )
                return
            self._note_outcome(how, before, after, len(notes), had + 1)
            had = len(notes)

    def _note_outcome(
        self, how: str, before: datetime | None, after: datetime | None, notes: int, wanted: int
    ) -> None:
        if before is not None and after is not None and after <= before:
            self.report.warn(
                AREA,
                f"--write: a note added by {how} did not move the task's updatedTime: synced "
                "threads will not tell notes added in B2C Service until another field changes",
            )
        elif before is not None:
            self.report.ok(AREA, f"--write: a note added by {how} moves updatedTime")
        if notes >= wanted:
            self.report.ok(AREA, f"--write: a note added by {how} is appended")
        else:
            self.fail(
                f"--write: after adding a note by {how} the task has {notes} note(s), not {wanted}",
                "notes would be replaced: report this line to the bot's maintainers",
            )


async def check_oracle(
    report: Report, settings: Settings, site_url: str, auth: httpx.Auth, *, write: bool
) -> None:
    if not await _reachable(report, site_url, settings.b2c_timeout):
        return
    async with B2CClient(
        site_url,
        auth=auth,
        app_context=settings.b2c_app_context,
        timeout=settings.b2c_timeout,
    ) as b2c:
        doctor = OracleDoctor(report, settings, b2c)
        try:
            if not await doctor.access():
                return
            await doctor.named_ids()
            await doctor.metadata()
            await doctor.queries()
            if write:
                await doctor.write()
            if doctor.task_id is not None or not write:
                doctor.link(doctor.task_id)
        except B2CConnectionError as error:
            report.fail(AREA, f"Oracle stopped answering: {error.detail}", "run it again")
