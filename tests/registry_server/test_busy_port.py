"""A registry started on a port already in use stops at start-up, naming the port, with a
non-zero exit: it never logs "listening" while sharing the port with another process, and
never ends in a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port


def serve(
    url: str, port: int, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "registry_server.cli",
            "--database-url",
            url,
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    subprocess.run(
        [sys.executable, "-m", "registry_server.cli", "--database-url", url, "migrate"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return url


@pytest.fixture
def first_registry(database: str, tmp_path: Path) -> Iterator[int]:
    """A registry serving on a port; yields the port."""
    port, port_file = free_port(), tmp_path / "port"
    first = serve(database, port, "--port-file", str(port_file))
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first registry did not start"
            time.sleep(0.1)
        yield port
    finally:
        first.terminate()
        first.communicate(timeout=30)


def ended(process: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.terminate()
        out, err = process.communicate(timeout=30)
        pytest.fail(f"the second registry kept running: {out}{err}")
    return process.returncode, out + err


def test_a_second_registry_on_the_same_port_exits_naming_the_port(
    database: str, first_registry: int
) -> None:
    code, output = ended(serve(database, first_registry))
    assert code != 0
    assert f"cannot listen on 127.0.0.1:{first_registry}" in output
    assert "in use" in output and "--listen" in output
    assert "listening" not in output and "Traceback" not in output


def test_a_metrics_port_in_use_exits_naming_it_without_a_traceback(
    database: str, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        metrics_port = taken.getsockname()[1]
        env = {**os.environ, "REGISTRY_METRICS_LISTEN": f"127.0.0.1:{metrics_port}"}
        code, output = ended(serve(database, free_port(), env=env))
    assert code != 0
    assert f"cannot serve metrics on 127.0.0.1:{metrics_port}" in output
    assert "metrics_listen" in output
    assert "Traceback" not in output and "listening" not in output
