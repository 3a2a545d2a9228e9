"""The container image works: deploy/Containerfile builds with podman, the image runs the
command deploy/compose.yaml gives it (migrate, then serve) as its own user, answers gRPC
health from outside and to its own HEALTHCHECK, and stops on SIGTERM.

Opt-in (CREDIT_REGISTRY_TEST_CONTAINER=1): it makes a Debian base image with debootstrap
and builds the image, 3 to 6.5 minutes on a shared 2-core machine, too long for every run
of the suite. docs/operations.md, "Running in containers", says how."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from registry_server.health_check import HealthCheckError, check
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
OPT_IN = "CREDIT_REGISTRY_TEST_CONTAINER"
BASE_IMAGE = "CREDIT_REGISTRY_TEST_BASE_IMAGE"
IMAGE = "localhost/credit-registry:test"
# A machine whose network intercepts TLS keeps the interceptor's CA in this bundle; the
# build borrows it for pip's downloads (a build volume: nothing of it stays in the image).
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

pytestmark = pytest.mark.slow


def podman_command(store: Path) -> list[str]:
    """podman with its own storage under store (vfs: needs no kernel overlay support), so the
    test neither uses nor leaves anything in the machine's own podman storage; cgroupfs,
    which needs no systemd; runc where installed (crun refuses hybrid cgroup hierarchies)."""
    command = [
        "podman",
        "--root",
        str(store / "root"),
        "--runroot",
        str(store / "run"),
        "--storage-driver",
        "vfs",
        "--cgroup-manager",
        "cgroupfs",
    ]
    if shutil.which("runc"):
        command += ["--runtime", "runc"]
    return command


def resource_limits() -> list[str]:
    """Limits at or below this process's own: podman's defaults raise them, which a runtime
    without CAP_SYS_RESOURCE (as in some sandboxes) is refused."""
    files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    processes = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    files = 65536 if files == resource.RLIM_INFINITY else min(files, 65536)
    processes = 4096 if processes == resource.RLIM_INFINITY else min(processes, 4096)
    return ["--ulimit", f"nofile={files}:{files}", "--ulimit", f"nproc={processes}:{processes}"]


def run(
    command: list[str], timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    if os.environ.get(OPT_IN) != "1":
        pytest.skip(
            f"building the image takes 3 to 6.5 minutes; set {OPT_IN}=1 to run it "
            "(docs/operations.md, Running in containers)"
        )
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (apt-get install podman runc debootstrap)")
    store = tmp_path_factory.mktemp("podman")
    yield podman_command(store)
    shutil.rmtree(store, ignore_errors=True)  # a vfs store holds a full copy of each layer


@pytest.fixture(scope="module")
def image(podman: list[str]) -> str:
    """The registry's image, built from deploy/Containerfile on the given base image or one
    made by deploy/container/make-base-image.sh."""
    base = os.environ.get(BASE_IMAGE)
    if base is None:
        if os.geteuid() != 0 or shutil.which("debootstrap") is None:
            pytest.skip(
                f"no base image: making one needs root and debootstrap; or set "
                f"{BASE_IMAGE} to an image with Python 3.11 (e.g. python:3.11-slim)"
            )
        base = "localhost/credit-registry-base:bookworm"
        run(
            [str(ROOT / "deploy" / "container" / "make-base-image.sh"), base],
            timeout=1200,
            env={**os.environ, "PODMAN": " ".join(podman)},
        )
    borrowed_ca = (
        ["--volume", f"{HOST_CA_BUNDLE}:{HOST_CA_BUNDLE}:ro"] if HOST_CA_BUNDLE.is_file() else []
    )
    run(
        [
            *podman,
            "build",
            "--network",
            "host",
            *resource_limits(),
            *borrowed_ca,
            "--format",
            "docker",  # keeps HEALTHCHECK, which the OCI format has no place for
            "--build-arg",
            f"BASE_IMAGE={base}",
            "--file",
            str(ROOT / "deploy" / "Containerfile"),
            "--tag",
            IMAGE,
            str(ROOT),
        ],
        timeout=1800,
    )
    return IMAGE


@pytest.fixture
def registry_container(podman: list[str], image: str, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The image running compose.yaml's command on a plaintext SQLite configuration, mounted
    read-only as compose mounts deploy/config; its name and port."""
    config = tmp_path / "config"
    config.mkdir(mode=0o755)
    port = free_port()
    (config / "registry.toml").write_text(
        'database_url = "sqlite:////var/lib/credit-registry/registry.db"\n'
        f'listen = "0.0.0.0:{port}"\nlog_format = "text"\n'
    )
    (config / "registry.toml").chmod(0o644)  # the image's user is not this file's owner
    secret = tmp_path / "registry-db-password"
    secret.write_text("unused with SQLite\n")
    secret.chmod(0o644)
    command = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())["services"][
        "registry"
    ]["command"]
    name = f"credit-registry-test-{port}"
    run(
        [
            *podman,
            "run",
            "--detach",
            "--name",
            name,
            "--network",
            "host",
            *resource_limits(),
            "--volume",
            f"{config}:/etc/credit-registry:ro",
            "--volume",
            f"{secret}:/run/secrets/registry-db-password:ro",
            image,
            *[part.replace("$$", "$") for part in command],
        ]
    )  # compose's $$ is one $
    yield name, port
    subprocess.run(
        [*podman, "rm", "--force", "--time", "0", name], capture_output=True, check=False
    )


def wait_until_serving(address: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            check(address, None, timeout=2)
            return
        except HealthCheckError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def test_image_migrates_serves_grpc_health_as_its_own_user_and_stops_on_sigterm(
    podman: list[str], registry_container: tuple[str, int]
) -> None:
    name, port = registry_container
    wait_until_serving(f"127.0.0.1:{port}")  # asked from outside the container
    run([*podman, "healthcheck", "run", name])  # the image's own HEALTHCHECK, inside it
    assert run([*podman, "exec", name, "id", "-u"]).stdout.strip() == "10001"
    run([*podman, "stop", "--time", "20", name])
    state = run([*podman, "inspect", "--format", "{{.State.ExitCode}}", name]).stdout.strip()
    logs = run([*podman, "logs", name])
    output = logs.stdout + logs.stderr
    assert "the database schema is at the newest migration" in output  # migrate ran first
    assert f"registry listening on 0.0.0.0:{port}" in output
    assert "stopping: finishing calls in flight" in output
    assert state == "0", output


def test_image_holds_no_compiler_and_its_environment_no_installer(
    podman: list[str], image: str
) -> None:
    listed = run(
        [
            *podman,
            "run",
            "--rm",
            "--network",
            "none",
            *resource_limits(),
            image,
            "sh",
            "-c",
            "ls /opt/credit-registry/bin; command -v gcc cc make || true",
        ]
    )
    names = {Path(word).name for word in listed.stdout.split()}
    assert {"registry-server", "sync-agent", "python"} <= names
    assert not names & {"pip", "pip3", "gcc", "cc", "make"}
