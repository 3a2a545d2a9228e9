"""A registry and an agent as real processes, for tests of what happens between them:
crashes, restarts, outages."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from registry_server.audit import verify_log
from registry_server.db import make_engine
from registry_server.sql import table
from registry_server.tables import PublishedRecord
from sync_agent import config as agent_config
from sync_agent.store import AgentStore
from tests.conftest import free_port


class Deployment:
    """A registry process on a fixed port and one agent folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = f"sqlite:///{root / 'registry.db'}"
        self.port = free_port()
        self.home = root / "agent"
        self.registry: subprocess.Popen[bytes] | None = None
        self.cli("registry_server.cli", "--database-url", self.url, "migrate")
        self.cli(
            "sync_agent.cli",
            "--home",
            str(self.home),
            "init",
            "--institution-id",
            "uk.ac.forth",
            "--name",
            "Forth",
            "--country",
            "GB",
            "--registry",
            f"127.0.0.1:{self.port}",
        )
        self.cli(
            "registry_server.cli",
            "--database-url",
            self.url,
            "institutions",
            "add",
            "--id",
            "uk.ac.forth",
            "--name",
            "Forth",
            "--country",
            "GB",
            "--public-key",
            str(self.home / "signing-key.pub"),
        )
        cfg = agent_config.load(self.home)
        self.store = AgentStore(cfg.store_path, cfg.institution_id)

    def __enter__(self) -> Deployment:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop_registry()
        self.store.close()

    def cli(self, module: str, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", module, *args], check=True, capture_output=True, timeout=120
        )

    def start_registry(self, failpoint: str = "") -> None:
        env = {**os.environ, "REGISTRY_FAILPOINT": failpoint}
        self.registry = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "registry_server.cli",
                "--database-url",
                self.url,
                "serve",
                "--listen",
                f"127.0.0.1:{self.port}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("registry did not start")

    def stop_registry(self) -> None:
        if self.registry and self.registry.poll() is None:
            self.registry.kill()
        if self.registry:
            self.registry.wait(10)

    def sync(self, *extra: str, stderr: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sync_agent.cli",
                "--home",
                str(self.home),
                "sync",
                "--batch-size",
                "10",
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )

    def assert_exactly_the_agents_records(self, count: int) -> None:
        engine = make_engine(self.url)
        r = table(PublishedRecord)
        with engine.connect() as c:
            held = {
                (k, v, bytes(p)) for k, v, p in c.execute(select(r.c.key, r.c.version, r.c.payload))
            }
        ours = {
            (m.key, m.version, m.SerializeToString(deterministic=True))
            for m in self.store.records(1)
        }
        assert len(held) == count
        assert held == ours
        report = verify_log(engine)
        assert report.ok, report.problems
        engine.dispose()
