"""Settings from the environment and a ``.env`` file in the working folder, checked at start.

Every missing, malformed or placeholder setting stops start-up, all named at once, one line each
(``SettingsError``), each saying what the setting accepts in the README's words.
Secrets are ``SecretStr``: their repr is ``**********``, so a settings object can be logged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.journal import parse_url
from bot.oracle.client import MAX_APP_CONTEXT


class Mode(Enum):
    HTTP = "http"
    SOCKET = "socket"


class SettingsError(Exception):
    """One line per setting, naming it and saying what is wrong with it."""


FIX = "set it in the environment or in .env in the folder the bot starts in (see .env.example)"
# the example values of .env.example: set, well-formed, and not anyone's real value
PLACEHOLDERS = {
    "slack_bot_token": "xoxb-your-bot-token",
    "slack_signing_secret": "your-signing-secret",
    "b2c_site_url": "https://mysite.custhelp.com",
    "b2c_password": "change-me",
}


def _check_url(value: str, name: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL like https://mysite.custhelp.com, not {value!r}")
    if parts.username or parts.password:
        raise ValueError("must not contain a user name or password (use B2C_USERNAME/PASSWORD)")
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    # only for `python -m bot doctor`'s manifest check (apps.manifest.export)
    slack_config_token: SecretStr | None = None
    slack_app_id: str | None = None
    slack_api_url: str = "https://slack.com/api/"

    b2c_site_url: str | None = None
    b2c_username: str | None = None
    b2c_password: SecretStr | None = None
    b2c_session_token: SecretStr | None = None
    b2c_oauth_token: SecretStr | None = None
    b2c_app_context: str = "Slack task bot"
    b2c_task_url: str = "{site}/AgentWeb/Bookmark/Task/{id}"
    b2c_timeout: float = Field(default=20.0, gt=0, le=120)
    b2c_completed_status: str = Field(default="Completed", min_length=1, max_length=80)
    b2c_request_id_field: str | None = None
    task_buttons_for: str = "anyone"

    # seconds between looks for tasks changed in Oracle (synced threads); 0 turns it off
    b2c_sync_interval: float = Field(default=15.0, ge=0, le=3600)
    b2c_retry_budget: float = Field(default=120.0, ge=0, le=86400)
    # link previews of task links (off where the bot's account sees more than a channel may)
    task_unfurl: bool = True
    task_subscriptions: bool = True
    task_workflow_step: bool = True  # the Workflow Builder step (manifest.yaml: functions)
    # the emoji that makes a task of a message (its name, without colons)
    task_reaction: str = Field(default="ticket", min_length=1, max_length=100)
    # morning digests sent a minute at most (Slack's chat.postMessage limits)
    digest_per_minute: float = Field(default=120.0, ge=1, le=1000)
    b2c_max_concurrency: int = Field(default=8, ge=1, le=100)

    database_url: str | None = None
    journal_path: str = "task-journal.sqlite3"
    # a process's heartbeat in the journal: its requests are free 3 heartbeats after it dies
    journal_heartbeat: float = Field(default=2.0, ge=0.1, le=60)
    journal_sweep_interval: float = Field(default=1.0, ge=0.1, le=3600)
    journal_retention_days: float = Field(default=30, ge=1, le=3650)
    shutdown_grace: float = Field(default=5.0, ge=0, le=600)

    allowed_channels: str = ""
    allowed_users: str = ""
    allowed_usergroups: str = ""
    # channels shared with another organization (Slack Connect) that get everything anyway
    slack_connect_open_channels: str = ""

    port: int = Field(default=3000, ge=0, le=65535)
    log_level: str = "INFO"
    log_format: str = "text"

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "slack_config_token",
        "slack_app_id",
        "b2c_username",
        "b2c_password",
        "b2c_session_token",
        "b2c_oauth_token",
        "b2c_site_url",
        "b2c_request_id_field",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """``NAME=`` (as in .env.example) means "not set", not "set to nothing"."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_api_url")
    @classmethod
    def _slack_url(cls, value: str) -> str:
        _check_url(value, "SLACK_API_URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("b2c_site_url")
    @classmethod
    def _site_url(cls, value: str | None) -> str | None:
        return _check_url(value, "B2C_SITE_URL").rstrip("/") if value else None

    @field_validator("b2c_request_id_field")
    @classmethod
    def _request_id_field(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.strip().removeprefix("customFields.c.").removeprefix("c.")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,79}", name):
            raise ValueError(
                "must be the name of a task custom field (letters, digits and _), "
                f"like slack_request_id, not {value!r}"
            )
        return name

    @field_validator("b2c_app_context")
    @classmethod
    def _app_context(cls, value: str) -> str:
        if not value.strip() or len(value) > MAX_APP_CONTEXT:
            raise ValueError(
                f"must be 1 to {MAX_APP_CONTEXT} characters (Oracle's limit), not {len(value)}"
            )
        return value

    @field_validator("b2c_task_url")
    @classmethod
    def _task_url(cls, value: str) -> str:
        try:
            value.format(site="https://x", id=1)
        except (KeyError, IndexError, ValueError):
            raise ValueError("may only use the placeholders {site} and {id}") from None
        if "{id}" not in value:
            raise ValueError("must contain {id}, e.g. {site}/AgentWeb/Bookmark/Task/{id}")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parse_url(value)  # raises ValueError naming the accepted forms
        return value

    @field_validator("task_buttons_for")
    @classmethod
    def _buttons_for(cls, value: str) -> str:
        if value.strip().lower() not in ("anyone", "requester", "assignee"):
            raise ValueError("must be anyone, requester or assignee")
        return value.strip().lower()

    @field_validator("task_reaction")
    @classmethod
    def _reaction(cls, value: str) -> str:
        name = value.strip().strip(":")
        if not re.fullmatch(r"[a-z0-9_+'-]+", name):
            raise ValueError(f"must be an emoji's name like ticket or :ticket:, not {value!r}")
        return name

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value.lower() not in ("text", "json"):
            raise ValueError("must be text or json")
        return value.lower()

    @property
    def journal_url(self) -> str:
        return self.database_url or f"sqlite:///{self.journal_path}"

    @staticmethod
    def _ids(value: str) -> frozenset[str]:
        return frozenset(
            part.strip() for part in value.replace(" ", ",").split(",") if part.strip()
        )

    @property
    def access(self) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        """(channels, users, user groups) allowed to create tasks; empty means anyone."""
        return (
            self._ids(self.allowed_channels),
            self._ids(self.allowed_users),
            self._ids(self.allowed_usergroups),
        )

    @property
    def open_shared_channels(self) -> frozenset[str]:
        """Slack Connect channels the operator opened fully (comma-separated IDs)."""
        return self._ids(self.slack_connect_open_channels)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    def check(self, mode: Mode, *, sandbox: bool = False, malformed: Sequence[str] = ()) -> None:
        """Raise SettingsError naming every setting this mode needs and lacks (and those
        ``malformed``, as ``read_all_settings`` found them), one line each."""
        problems = self.problems(mode, sandbox=sandbox, malformed=malformed)
        if problems:
            raise SettingsError("\n".join(problems))

    def problems(
        self,
        mode: Mode,
        *,
        sandbox: bool = False,
        malformed: list[str] = (),  # type: ignore[assignment]
    ) -> list[str]:
        """Every setting this mode needs and lacks, has in the wrong form or still holds as
        .env.example's example, one line each; a setting ``malformed`` names is told once."""
        told = {line.split()[2].rstrip(":") for line in malformed}
        found: list[str] = list(malformed)
        required: list[tuple[str, object]] = [("SLACK_BOT_TOKEN", self.slack_bot_token)]
        if mode is Mode.HTTP:
            required.append(("SLACK_SIGNING_SECRET", self.slack_signing_secret))
        if mode is Mode.SOCKET:
            required.append(("SLACK_APP_TOKEN", self.slack_app_token))
        if not sandbox:
            required.append(("B2C_SITE_URL", self.b2c_site_url))
        for name, value in required:
            if name in told:
                continue
            if value is None or (isinstance(value, SecretStr) and not value.get_secret_value()):
                found.append(f"Missing setting {name}")
        for attribute, example in PLACEHOLDERS.items():
            value = getattr(self, attribute)
            shown = value.get_secret_value() if isinstance(value, SecretStr) else value
            if shown is not None and shown.rstrip("/") == example:
                found.append(
                    f"Setting {attribute.upper()} still holds .env.example's example value: "
                    "give the real one"
                )
        found += self._check_prefix("SLACK_BOT_TOKEN", self.slack_bot_token, "xoxb-")
        if mode is Mode.SOCKET:
            found += self._check_prefix("SLACK_APP_TOKEN", self.slack_app_token, "xapp-")
        if not sandbox and not self.has_b2c_credentials:
            found.append(
                "Missing setting B2C_USERNAME/B2C_PASSWORD: set both (or "
                "B2C_SESSION_TOKEN or B2C_OAUTH_TOKEN) for Oracle B2C Service"
            )
        return found

    @property
    def has_b2c_credentials(self) -> bool:
        """A username and password, a session token or an OAuth token for Oracle."""
        return bool(
            (self.b2c_username and self.b2c_password)
            or self.b2c_session_token
            or self.b2c_oauth_token
        )

    @staticmethod
    def _check_prefix(name: str, value: SecretStr | None, prefix: str) -> list[str]:
        if value is not None and not value.get_secret_value().startswith(prefix):
            return [f"Malformed setting {name}: it must start with {prefix}"]
        return []


def accepted(attribute: str) -> str | None:
    """What a setting accepts, in the README's words (None: its own check says it)."""
    field = Settings.model_fields.get(attribute)
    if field is None:
        return None
    kind = field.annotation
    if kind is bool:
        return "on or off"
    bounds = {type(item).__name__: item for item in field.metadata}
    if kind in (int, float):
        number = "a whole number" if kind is int else "a number"
        low = bounds.get("Ge") or bounds.get("Gt")
        high = bounds.get("Le") or bounds.get("Lt")
        if low is not None and high is not None:
            bottom = getattr(low, "ge", None)
            if bottom is None:
                return f"{number} above {low.gt} and at most {high.le}"  # type: ignore[union-attr]
            return f"{number} from {bottom} to {getattr(high, 'le', None)}"
        return number
    if "MinLen" in bounds and "MaxLen" in bounds:
        return f"{bounds['MinLen'].min_length} to {bounds['MaxLen'].max_length} characters"
    return None


def _line(error: dict[str, Any]) -> str:
    attribute = str(error["loc"][0]) if error["loc"] else ""
    name = attribute.upper() or "settings"
    if error.get("type") == "value_error":  # our own check: already in the README's words
        return f"Malformed setting {name}: " + error["msg"].removeprefix("Value error, ")
    wanted = accepted(attribute)
    given = error.get("input")
    if wanted is None:
        return f"Malformed setting {name}: " + error["msg"]
    return f"Malformed setting {name}: it must be {wanted}, not {str(given)!r}"


def read_all_settings(**overrides: object) -> tuple[Settings, list[str]]:
    """The settings with every malformed one set back to its default, and a line for each
    (for ``doctor``, which reports them all at once)."""
    problems: list[str] = []
    defaults: dict[str, object] = {}
    for _ in range(len(Settings.model_fields) + 1):
        try:
            return Settings(**overrides, **defaults), problems  # type: ignore[arg-type]
        except ValidationError as error:
            for item in error.errors():
                problems.append(_line(item))  # type: ignore[arg-type]
                name = str(item["loc"][0]) if item["loc"] else ""
                if name in Settings.model_fields:
                    defaults[name] = Settings.model_fields[name].default
    raise SettingsError(problems[-1] if problems else "the settings could not be read")


def load_settings(**overrides: object) -> Settings:
    """Read the settings; malformed values raise SettingsError naming each."""
    settings, problems = read_all_settings(**overrides)
    if problems:
        raise SettingsError("\n".join(problems))
    return settings
