"""uvicorn's logging with every query string redacted, so no secret in a URL reaches a log."""

from __future__ import annotations

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG

REDACTED = "[redacted]"


def redact_path(value: object) -> object:
    """A request target without its query string (`/x?token=…` → `/x?[redacted]`)."""
    if isinstance(value, str) and value.startswith("/") and "?" in value:
        return value.split("?", 1)[0] + "?" + REDACTED
    return value


class RedactQueryStrings(logging.Filter):
    """Drops the query string from the paths uvicorn logs (access lines, WebSocket lines):
    credentials do not belong in URLs, but a client may still put them there."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_path(arg) for arg in record.args)
        elif isinstance(record.msg, str) and "?" in record.msg and not record.args:
            record.msg = " ".join(str(redact_path(word)) for word in record.msg.split(" "))
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration with the filter on both of its handlers."""
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_query"] = {"()": RedactQueryStrings}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_query")
    return config
