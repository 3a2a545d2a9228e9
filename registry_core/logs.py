"""Structured logs: one JSON object per line, carrying the request id of the sync or query
it belongs to, so an agent's lines and the registry's lines for the same sync can be joined."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys

REQUEST_ID_HEADER = "x-request-id"
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "request_id", …extra}` per line."""

    FIELDS = ("institution", "method", "code", "seq", "records", "duration_ms", "attempt",
              "next_attempt_at")

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or request_id.get(),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(json_lines: bool, level: int = logging.INFO) -> None:
    """Log to stderr, as JSON lines or as text for a person at a terminal."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic says at INFO each plugin it sets up and each step it takes: a dozen lines on
    # every command that opens the database. What it must say (a failure) is a warning.
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
