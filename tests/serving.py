"""A real `registry-server serve` process, for the tests that need one (signals, a second
process on the same database, the health a load balancer sees): started with the arguments
and environment given, and waited for until its port file says it listens."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

START_SECONDS = 60  # importing, migrating and starting workers; far more than it takes


@dataclass
class ServedRegistry:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def tls_arguments(pki: Path) -> list[str]:
    """The registry's certificate and the network's CA from a tests' pki directory."""
    return [
        "--tls-cert",
        str(pki / "registry.pem"),
        "--tls-key",
        str(pki / "registry-key.pem"),
        "--client-ca",
        str(pki / "ca.pem"),
    ]


@contextmanager
def served_registry(
    database_url: str,
    directory: Path,
    *,
    name: str = "registry",
    listen: str = "127.0.0.1:0",
    arguments: tuple[str, ...] | list[str] = (),
    environment: Mapping[str, str] | None = None,
) -> Iterator[ServedRegistry]:
    """A registry serving database_url, its log in directory/<name>.log; stopped (SIGTERM,
    then SIGKILL after 30 s) when the block ends. Fails with the log when it does not start."""
    port_file, log = directory / f"{name}.port", directory / f"{name}.log"
    port_file.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "registry_server.cli",
        "--database-url",
        database_url,
        "serve",
        "--listen",
        listen,
        "--port-file",
        str(port_file),
        *arguments,
    ]
    with log.open("wb") as output:  # the child keeps its own copy of the file
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(environment or {})},
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not port_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the registry did not start; its log:\n{log.read_text()}")
            time.sleep(0.05)
        yield ServedRegistry(process, int(port_file.read_text()), log)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
