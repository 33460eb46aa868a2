"""Logging set-up: plain text or one JSON object per line (``LOG_FORMAT=json``), and a filter
that masks every configured secret, as a last line of defence: no code path logs one on purpose.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
MASK = "**********"
SLACK_SDK_LOGGERS = (
    "slack_sdk.web.async_base_client",
    "slack_sdk.web.async_slack_response",
    "slack_sdk.webhook.async_client",
)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and every ``extra`` field."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


class TextFormatter(logging.Formatter):
    """One line a record, with the same ``extra`` fields as the JSON lines, as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD and v is not None}
        if not extras:
            return line
        first, newline, rest = line.partition("\n")  # a traceback stays below the line
        fields = " ".join(f"{k}={v}" for k, v in extras.items())
        return f"{first} [{fields}]{newline}{rest}"


# tokens no setting holds, masked by their form: a Workflow Builder step's workflow token
# (xwfp-, in each function_executed event: a library's debug line may print the event)
TOKEN_FORMS = re.compile(r"\bxwfp-[A-Za-z0-9-]+")


class SecretFilter(logging.Filter):
    """Replaces any of the given secrets, and any workflow token, in a record's message and
    arguments. On the handler (every configured secret), and on the libraries' loggers that
    print deliveries whole (``mask_token_forms``: workflow tokens whatever handler writes)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return TOKEN_FORMS.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self._mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # slack_sdk decides whether to build its debug lines (the whole request and response, on
    # every call) from its logger's own level, which is unset (0, "everything") by default:
    # give it the configured one, so that nothing is formatted only to be thrown away
    for name in SLACK_SDK_LOGGERS:
        logging.getLogger(name).setLevel(level)


# the loggers that print Slack's deliveries whole (Bolt's app logger carries Socket Mode's):
# Socket Mode's debug line prints each envelope, a function_executed event with its token
PAYLOAD_LOGGERS = (
    "slack_bolt.AsyncApp",
    "slack_sdk.socket_mode.aiohttp",
    "slack_sdk.socket_mode.async_client",
)


def mask_token_forms() -> None:
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretFilter) for f in logger.filters):
            logger.addFilter(SecretFilter(()))
