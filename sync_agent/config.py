"""The agent's home folder: its config, key pair and store."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from registry_core.envelope import Ed25519Signer
from registry_core.settings import SettingsError, from_environment, read_file, refuse_unknown
from sync_agent.client import ClientTLS
from sync_agent.files import write_atomically

CONFIG = "agent.toml"
PRIVATE_KEY = "signing-key.pem"
PUBLIC_KEY = "signing-key.pub"
STORE = "store.db"
DEFAULT_REGISTRY = "127.0.0.1:50051"
DEFAULT_BASE_URL = "https://registry.example.org"
# How long `sync-agent sync` keeps trying an unreachable registry, in minutes: longer than a
# registry's restart (or a PostgreSQL fail-over), shorter than the nightly window.
DEFAULT_RETRY_MINUTES = 15.0
MAX_RETRY_MINUTES = 24 * 60.0


# The agent's configuration is missing or wrong; the message names the file and the fix.
ConfigError = SettingsError


@dataclass(frozen=True)
class AgentConfig:
    home: Path
    institution_id: str
    name: str
    country: str
    registry: str
    tls: ClientTLS | None = None
    # The network's public address, in the ids of the credentials the institution issues
    # (issuer, achievement, status list); the registry reads them by their paths, whatever
    # the host.
    base_url: str = DEFAULT_BASE_URL
    retry_minutes: float = DEFAULT_RETRY_MINUTES

    @property
    def store_path(self) -> Path:
        return self.home / STORE

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.store_path}"

    def signer(self) -> Ed25519Signer:
        path = self.home / PRIVATE_KEY
        try:
            return Ed25519Signer.from_file(path)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{path}: cannot read the signing key ({exc}); run "
                "`sync-agent init` or restore the key"
            ) from None


def default_home() -> Path:
    return Path(os.environ.get("SYNC_AGENT_HOME", "agent"))


def init_home(
    home: Path, institution_id: str, name: str, country: str, registry: str
) -> tuple[AgentConfig, Ed25519Signer]:
    """Create home with a new Ed25519 key pair and config. Refuses to overwrite a key."""
    home.mkdir(parents=True, exist_ok=True)
    if (home / PRIVATE_KEY).exists():
        raise ConfigError(
            f"{home / PRIVATE_KEY} exists already; this folder belongs to an "
            "agent (use another --home, or rotate keys through the operator)"
        )
    signer = Ed25519Signer.generate()
    write_atomically(home / PRIVATE_KEY, signer.private_pem(), mode=0o600)
    public_pem = (
        serialization.load_pem_private_key(signer.private_pem(), None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    write_atomically(home / PUBLIC_KEY, public_pem)
    text = (
        "# The sync agent's settings; see docs/operations.md (Configuration).\n"
        f"institution_id = {json.dumps(institution_id)}\n"
        f"name = {json.dumps(name)}\n"
        f"country = {json.dumps(country)}\n"
        f"registry = {json.dumps(registry)}\n"
    )  # JSON string escapes are valid TOML basic strings
    write_atomically(home / CONFIG, text.encode("utf-8"))
    return load(home), signer


ENVIRONMENT = {
    "institution_id": "SYNC_AGENT_INSTITUTION_ID",
    "name": "SYNC_AGENT_NAME",
    "country": "SYNC_AGENT_COUNTRY",
    "registry": "SYNC_AGENT_REGISTRY",
    "base_url": "SYNC_AGENT_BASE_URL",
    "retry_minutes": "SYNC_AGENT_RETRY_MINUTES",
}
TLS_ENVIRONMENT = {
    "ca": "SYNC_AGENT_TLS_CA",
    "certificate": "SYNC_AGENT_TLS_CERTIFICATE",
    "private_key": "SYNC_AGENT_TLS_PRIVATE_KEY",
}


def load(home: Path) -> AgentConfig:
    """agent.toml in home; every setting can be overridden by its environment variable
    (ENVIRONMENT, TLS_ENVIRONMENT), which wins over the file."""
    path = home / CONFIG
    data = read_file(path, "run `sync-agent init` first or pass --home")
    refuse_unknown(path, data, (*ENVIRONMENT, "tls"))
    data.update(from_environment(os.environ, ENVIRONMENT))
    tls_section = dict(data.get("tls", {}))
    tls_section.update(from_environment(os.environ, TLS_ENVIRONMENT))
    for setting in ("institution_id", "name", "country"):
        if not isinstance(data.get(setting), str) or not data[setting]:
            raise ConfigError(
                f"{path}: setting '{setting}' is missing; add {setting} = \"…\" "
                f"(or set {ENVIRONMENT[setting]})"
            )
    base_url = str(data.get("base_url", DEFAULT_BASE_URL))
    if not base_url.startswith(("https://", "http://")):
        raise ConfigError(
            f"{path}: base_url = {base_url!r} is not a web address; give the "
            'network\'s public address, such as "https://registry.example.org"'
        )
    retry_minutes = retry_minutes_from(
        data.get("retry_minutes", DEFAULT_RETRY_MINUTES),
        ENVIRONMENT["retry_minutes"]
        if os.environ.get(ENVIRONMENT["retry_minutes"])
        else f"{path}: setting 'retry_minutes'",
    )
    return AgentConfig(
        home,
        data["institution_id"],
        data["name"],
        data["country"],
        data.get("registry", DEFAULT_REGISTRY),
        _tls(path, tls_section),
        base_url,
        retry_minutes,
    )


def retry_minutes_from(value: object, where: str) -> float:
    """A retry budget in minutes, from a file's number or a variable's or option's text;
    where names the setting, for the error."""
    try:
        minutes = (
            float(value)
            if isinstance(value, (int, float, str)) and not isinstance(value, bool)
            else -1.0
        )
    except ValueError:
        minutes = -1.0
    if not 0 <= minutes <= MAX_RETRY_MINUTES:
        raise ConfigError(
            f"{where} = {value!r} is not a number of minutes from 0 to "
            f"{MAX_RETRY_MINUTES:g}; give how long a sync keeps trying an "
            f"unreachable registry, for example {DEFAULT_RETRY_MINUTES:g} "
            "(0: not at all)"
        )
    return minutes


def _tls(path: Path, section: dict[str, object]) -> ClientTLS | None:
    """The [tls] section: ca, certificate and private_key paths (relative to the home)."""
    if not section:
        return None
    files = {}
    for setting in ("ca", "certificate", "private_key"):
        value = section.get(setting)
        if not isinstance(value, str) or not value:
            raise ConfigError(
                f"{path}: [tls] setting '{setting}' is missing; give the path of "
                "the PEM file (see docs/operations.md, Certificates)"
            )
        file = path.parent / value
        if not file.is_file():
            raise ConfigError(f"{path}: [tls] {setting} = {value!r}: no such file")
        files[setting] = file
    return ClientTLS.from_files(files["ca"], files["certificate"], files["private_key"])


def set_registry(home: Path, address: str) -> None:
    """Point agent.toml's registry setting at address (host:port), keeping the rest."""
    path = home / CONFIG
    head, tls, rest = path.read_text("utf-8").partition("\n[tls]")
    lines = [
        f"registry = {json.dumps(address)}" if line.startswith("registry =") else line
        for line in head.split("\n")
    ]
    write_atomically(path, ("\n".join(lines) + tls + rest).encode("utf-8"))
    load(home)


def set_tls(home: Path, ca: Path, certificate: Path, private_key: Path) -> None:
    """Add a [tls] section to agent.toml (replacing one that is there), after checking the
    files are there: a section naming a missing file would stop every later command,
    this one included."""
    path = home / CONFIG
    if not path.is_file():
        raise ConfigError(f"{path} not found; run `sync-agent init` first or pass --home")
    for setting, file in (
        ("--ca", ca),
        ("--certificate", certificate),
        ("--private-key", private_key),
    ):
        if not (home / file).is_file():
            raise ConfigError(f"{setting} {file}: no such file; nothing was changed")
    text = path.read_text("utf-8").split("\n[tls]")[0].rstrip("\n")
    text += (
        "\n\n[tls]\n"
        f"ca = {json.dumps(str(ca))}\n"
        f"certificate = {json.dumps(str(certificate))}\n"
        f"private_key = {json.dumps(str(private_key))}\n"
    )
    write_atomically(path, text.encode("utf-8"))
    load(home)  # refuse a section that does not work
