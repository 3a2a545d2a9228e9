"""Structured logs: one JSON object per line, carrying the request id of the sync or query
it belongs to, so an agent's lines and the registry's lines for the same sync can be joined.

StderrLines makes that true of every line the process writes to its standard error, not
only Python's logging: gRPC's C core, a worker process's dying words and anything printed
write to file descriptor 2 directly, as plain text."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import re
import sys
import threading
from typing import TextIO

REQUEST_ID_HEADER = "x-request-id"
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "request_id", …extra}` per line.

    It formats an access line for every call, so it is kept cheap: the date and time to
    the second are formatted once a second, and the extra fields are looked up in the
    record's dictionary instead of probed one by one."""

    FIELDS = (
        "institution",
        "method",
        "code",
        "seq",
        "records",
        "duration_ms",
        "caller",
        "peer",
        "reason",
        "origin",
        "attempt",
        "next_attempt_at",
    )
    _encode = json.JSONEncoder(ensure_ascii=False).encode

    def __init__(self) -> None:
        super().__init__()
        self._second: tuple[int, str] = (-1, "")  # replaced whole: threads share it

    def _time(self, created: float) -> str:
        whole = int(created)
        second, text = self._second
        if whole != second:
            text = dt.datetime.fromtimestamp(whole, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = (whole, text)
        return f"{text}.{int((created - whole) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        attributes = record.__dict__
        line = {
            "time": self._time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": attributes.get("request_id") or request_id.get(),
        }
        for name in self.FIELDS:
            if name in attributes:
                line[name] = attributes[name]
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return self._encode(line)


class CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a line is logged, as logging's own last resort
    does: a command run in process (by a test, or a program embedding it) that replaced
    sys.stderr for a while must not leave logging bound to a stream since closed."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass  # always sys.stderr, as it is at the time


def configure(json_lines: bool, level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Log to stream (stderr by default), as JSON lines or as text for a person at a
    terminal."""
    handler = logging.StreamHandler(stream) if stream is not None else CurrentStderr()
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # No line shows the thread, the process or the source line of a logging call, and
    # finding them cost a fifth of an access line (logging's own documented switches).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None
    # Alembic says at INFO each plugin it sets up and each step it takes: a dozen lines on
    # every command that opens the database. What it must say (a failure) is a warning.
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))


# gRPC's C core (Abseil's log format): severity letter, month and day, time, thread id,
# source file:line, then "] " and the message, e.g.
# "E0000 00:00:1767225600.123456   4242 server.cc:123] message".
GRPC_CORE_LINE = re.compile(r"([DIWEF])\d{4} [\d:.]+\s+\d+ ([^\]\s]+)\] ?(.*)")
SEVERITY = {
    "D": logging.DEBUG,
    "I": logging.INFO,
    "W": logging.WARNING,
    "E": logging.ERROR,
    "F": logging.CRITICAL,
}
grpc_core_log = logging.getLogger("grpc.core")
stderr_log = logging.getLogger("stderr")


def log_stderr_line(line: str) -> None:
    """Log one line that was written to file descriptor 2: gRPC's C core's under
    "grpc.core" at its own severity, with its source in "origin"; anything else (a
    traceback's lines, a warning printed before logging was set up) under "stderr"."""
    found = GRPC_CORE_LINE.fullmatch(line)
    if found:
        severity, origin, message = found.groups()
        grpc_core_log.log(SEVERITY[severity], "%s", message, extra={"origin": origin})
    else:
        stderr_log.warning("%s", line)


class StderrLines:
    """File descriptor 2 replaced by a pipe, read by a thread that logs each line written to
    it (log_stderr_line). Logging itself must write to `output`, the original standard
    error, or its lines would come round again. Child processes started afterwards inherit
    the pipe, so their lines are logged too.

    While the thread cannot keep up, a writer waits once the pipe is full (64 KiB on Linux):
    nothing written is lost."""

    def __init__(self) -> None:
        self.output = os.fdopen(os.dup(2), "w", encoding="utf-8", errors="replace", buffering=1)
        read_end, write_end = os.pipe()
        sys.stderr.flush()
        os.dup2(write_end, 2)
        os.close(write_end)
        self._reader = threading.Thread(
            target=self._relay, args=(read_end,), name="stderr-lines", daemon=True
        )
        self._reader.start()

    @staticmethod
    def _relay(read_end: int) -> None:
        with os.fdopen(read_end, "rb") as pipe:
            for raw in pipe:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line.strip():
                    log_stderr_line(line)

    def close(self, wait_seconds: float = 2.0) -> None:
        """Give file descriptor 2 back to the original standard error, after logging what
        the pipe still holds (the thread reads until every writer has closed it; a child
        still running keeps it open, hence the wait's limit)."""
        sys.stderr.flush()
        os.dup2(self.output.fileno(), 2)
        self._reader.join(wait_seconds)
