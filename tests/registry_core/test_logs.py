"""Logging set up by a command run in process (registry_core.logs.configure) follows
sys.stderr, so it never writes to a stream that has since been closed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from registry_core import logs


@pytest.fixture
def root_handlers() -> Iterator[None]:
    root = logging.getLogger()
    kept, level = root.handlers[:], root.level
    yield
    root.handlers[:] = kept
    root.setLevel(level)


def test_lines_go_to_the_standard_error_of_the_moment_not_one_since_closed(
    root_handlers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    during, after = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stderr", during)
    logs.configure(json_lines=True)
    logging.getLogger("registry_server").warning("while the command ran")
    during.close()  # as a test's captured stream is, once the test ends
    monkeypatch.setattr("sys.stderr", after)
    logging.getLogger("registry_server").warning("afterwards")
    [line] = after.getvalue().splitlines()
    assert json.loads(line)["message"] == "afterwards"
