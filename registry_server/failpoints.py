"""Fault injection for the crash tests: REGISTRY_FAILPOINT=after-commit:N makes the registry
kill itself (SIGKILL, no clean-up) right after committing its N-th batch and before the
acknowledgement leaves, the worst moment for an agent. Unset, it costs one comparison."""

from __future__ import annotations

import os
import signal

_SPEC = os.environ.get("REGISTRY_FAILPOINT", "")
_commits = 0


def after_commit() -> None:
    global _commits
    if not _SPEC.startswith("after-commit:"):
        return
    _commits += 1
    if _commits >= int(_SPEC.split(":", 1)[1]):
        os.kill(os.getpid(), signal.SIGKILL)
