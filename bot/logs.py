"""Logging set-up: human-readable by default, one JSON object per line with LOG_FORMAT=json.

Every record made while a Slack request is handled carries that request's id (a context
variable set by the web route and Bolt middleware); the same id goes into the audit row's
request JSON, so a log line and an audit row can be joined. Request bodies are never logged.
"""

from __future__ import annotations

import contextvars
import logging
import secrets
import sys
from typing import Any

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "dialer_bot_request_id", default=None
)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# httpx logs every request's full URL at INFO; the dialer client logs its own, at DEBUG.
_QUIET_BELOW_DEBUG = ("httpx", "httpcore")


def new_request_id() -> str:
    """Short, random, unguessable: it names a request in logs and audit rows, nothing more."""
    return "r" + secrets.token_hex(6)


def set_request_id(value: str | None) -> contextvars.Token[str | None]:
    return _request_id.set(value)


def current_request_id() -> str | None:
    """The id of the Slack request being handled (inherited by tasks it starts)."""
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Put `request_id` on every record, so both formats can show it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


class NoBodies(logging.Filter):
    """Bolt logs a bad-signature request with its whole body (at INFO), and an unhandled one
    with its payload: a forged request's text, or a user's, has no place in the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("slack_bolt"):
            return True
        msg = record.getMessage()
        if msg.startswith("Invalid request signature detected"):
            record.msg, record.args = "Invalid request signature: refused with 401", ()
        elif msg.startswith("Unhandled request ("):
            record.msg, record.args = "Unhandled request (payload not logged)", ()
        return True


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        rid = getattr(record, "request_id", None)
        return f"{text} [{rid}]" if rid else text


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        timestamp=False,
    )


def setup_logging(level: str = "INFO", fmt: str = "text", stream: Any = None) -> None:
    """Configure the root logger once for `serve`, `socket` and the CLI."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(NoBodies())
    handler.setFormatter(json_formatter() if fmt == "json" else _TextFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # a library's warning is a log line too, in the same format
    for name in _QUIET_BELOW_DEBUG:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    # Bolt reads SLACK_BOT_TOKEN itself, sees the client's token too, and warns on every
    # start that one "will be unused"; they are the same token, so the warning says nothing.
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_drop_token_unused)


def _drop_token_unused(record: logging.LogRecord) -> bool:
    return "`token` will be unused" not in record.getMessage()
