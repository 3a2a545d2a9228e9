"""`registry-server health` asks the running registry over gRPC health, as a container's
HEALTHCHECK does: with the registry's own settings, plaintext or mutual TLS."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry_server import cli
from registry_server.health_check import local_address
from tests.conftest import RunningRegistry, free_port


@pytest.fixture(autouse=True)
def no_registry_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the settings each test writes: none from the environment that runs the tests."""
    monkeypatch.delenv("REGISTRY_CONFIG", raising=False)
    for variable in (
        "REGISTRY_LISTEN",
        "REGISTRY_TLS_CERT",
        "REGISTRY_TLS_KEY",
        "REGISTRY_CLIENT_CA",
        "REGISTRY_HEALTH_CERT",
        "REGISTRY_HEALTH_KEY",
    ):
        monkeypatch.delenv(variable, raising=False)


def tls_settings(path: Path, pki: Path, port: int, health: bool) -> Path:
    """A registry.toml for a registry with mutual TLS listening on every interface."""
    lines = [
        f'listen = "0.0.0.0:{port}"',
        f'tls_cert = "{pki / "registry.pem"}"',
        f'tls_key = "{pki / "registry-key.pem"}"',
        f'client_ca = "{pki / "ca.pem"}"',
    ]
    if health:
        lines += [
            f'health_cert = "{pki / "partner-ucas.pem"}"',
            f'health_key = "{pki / "partner-ucas-key.pem"}"',
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_health_answers_serving_from_a_plaintext_registry(
    registry: RunningRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["health", "--address", registry.address]) == 0
    assert capsys.readouterr().out == f"{registry.address}: SERVING\n"


def test_health_asks_a_registry_on_every_interface_at_loopback() -> None:
    assert local_address("0.0.0.0:50051") == "127.0.0.1:50051"
    assert local_address("[::]:50051") == "[::1]:50051"
    assert local_address("registry.example.org:443") == "registry.example.org:443"


def test_health_with_mutual_tls_presents_its_certificate_and_checks_the_registrys(
    tls_registry: RunningRegistry, pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = tls_settings(tmp_path / "registry.toml", pki, tls_registry.port, health=True)
    assert cli.main(["--config", str(settings), "health"]) == 0
    assert capsys.readouterr().out == f"127.0.0.1:{tls_registry.port}: SERVING\n"


def test_health_with_mutual_tls_and_no_client_certificate_says_what_to_set(
    tls_registry: RunningRegistry, pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = tls_settings(tmp_path / "registry.toml", pki, tls_registry.port, health=False)
    assert cli.main(["--config", str(settings), "health"]) == 1
    error = capsys.readouterr().err
    assert "set health_cert and health_key (REGISTRY_HEALTH_CERT, REGISTRY_HEALTH_KEY)" in error


def test_health_of_a_registry_that_is_not_there_fails_naming_the_address(
    capsys: pytest.CaptureFixture[str],
) -> None:
    address = f"127.0.0.1:{free_port()}"
    assert cli.main(["health", "--address", address, "--timeout", "2"]) == 1
    assert capsys.readouterr().err.startswith(f"registry-server health: {address}: UNAVAILABLE")


def test_health_never_opens_the_database(registry: RunningRegistry, tmp_path: Path) -> None:
    database = tmp_path / "health-check" / "registry.db"
    database.parent.mkdir()
    assert (
        cli.main(
            ["--database-url", f"sqlite:///{database}", "health", "--address", registry.address]
        )
        == 0
    )
    assert not database.exists()  # opening it would have created and migrated it
