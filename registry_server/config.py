"""The registry's settings: built-in defaults, then a TOML file (--config or
REGISTRY_CONFIG), then environment variables, then command-line options. A wrong setting
stops start-up with the file, the setting and the fix: the registry never starts
half-configured.

The PostgreSQL password can stay out of all of them: in a file named by
database_password_file, or in the systemd credential "database-password"
($CREDENTIALS_DIRECTORY/database-password, from LoadCredential= in
deploy/systemd/registry-server.service), it is put into database_url here. Nothing prints
that URL with its password: RegistryConfig's repr leaves database_url out, and messages show
it through printable_url."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from registry_core.settings import SettingsError, from_environment, read_file, refuse_unknown
from registry_server.volume import MODES, VolumeRule

# A setting that cannot work; the message names where it came from and the fix.
ConfigError = SettingsError


@dataclass(frozen=True)
class RegistryConfig:
    # With a password file or credential, the URL holds the password: kept out of repr.
    database_url: str = field(default="sqlite:///registry.db", repr=False)
    # A file holding the PostgreSQL password alone (one line); unset, the systemd credential
    # "database-password" is used where there is one.
    database_password_file: Path | None = None
    listen: str = "127.0.0.1:50051"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    client_ca: Path | None = None
    # The client certificate and key `registry-server health` presents to a registry with
    # mutual TLS (a container's health check); not read by the registry itself.
    health_cert: Path | None = None
    health_key: Path | None = None
    # Threads for database calls; 0 runs them on the event loop (fastest with SQLite on a
    # small machine); -1 (default) picks 0 for SQLite and 2 for PostgreSQL.
    worker_threads: int = -1
    # Worker processes checking the record rules of published batches beside the registry's
    # own process; 0 checks them in that process; -1 (default) picks 1 on a machine with more
    # than one core, else 0.
    check_workers: int = -1
    # Worker processes answering partners' questions; 0 answers them in the registry's own
    # process; -1 (default) picks, for SQLite, one fewer than the machine's cores (none on a
    # single core), and for PostgreSQL one a core.
    query_workers: int = -1
    # With check workers and a database a worker can share (a file or PostgreSQL), a worker
    # process applies the batches they pass, so that the registry's own process carries only
    # bytes for publications (registry_server.applying); false applies them in that process.
    apply_worker: bool = True
    metrics_listen: str = ""
    log_format: str = "json"
    # One log line for every call (method, caller, status, duration, request id). Each costs
    # the event loop a few tens of microseconds; a registry answering thousands of calls a
    # second may turn them off and keep the metrics, which count every call anyway.
    # Refused publications are logged either way.
    access_log: bool = True
    # The registry's event loop: "uvloop" (default where it is installed: libuv's loop cut
    # the registry's own CPU a call by about a tenth) or "asyncio" (the standard library's).
    event_loop: str = "uvloop"
    # Volume of learning at publish (registry_server.volume.VolumeRule, where each default
    # is justified): a micro-credential's workload_hours may be this share either side of
    # the notional hours of its credit (0: not checked); one of this many ECTS credits or
    # more (60 UK/SCQF credits, the smallest full award) is not a micro-credential (0: no
    # limit); "refuse" or "warn" of either.
    workload_tolerance: float = VolumeRule.workload_tolerance
    credit_limit_ects: float = VolumeRule.credit_limit_ects
    volume_mode: str = VolumeRule.mode
    # Seconds between SIGTERM and the end of serving during which health says NOT_SERVING
    # and calls are still answered, so load balancers and probes stop sending calls before
    # the port closes; -1 (default) picks DRAIN_SECONDS with TLS (a network's registry)
    # and 0 without (one machine: nobody to drain for).
    drain_seconds: float = -1


ENVIRONMENT = {
    "database_url": "REGISTRY_DATABASE_URL",
    "database_password_file": "REGISTRY_DATABASE_PASSWORD_FILE",
    "listen": "REGISTRY_LISTEN",
    "tls_cert": "REGISTRY_TLS_CERT",
    "tls_key": "REGISTRY_TLS_KEY",
    "client_ca": "REGISTRY_CLIENT_CA",
    "health_cert": "REGISTRY_HEALTH_CERT",
    "health_key": "REGISTRY_HEALTH_KEY",
    "worker_threads": "REGISTRY_WORKER_THREADS",
    "check_workers": "REGISTRY_CHECK_WORKERS",
    "query_workers": "REGISTRY_QUERY_WORKERS",
    "apply_worker": "REGISTRY_APPLY_WORKER",
    "metrics_listen": "REGISTRY_METRICS_LISTEN",
    "log_format": "REGISTRY_LOG_FORMAT",
    "access_log": "REGISTRY_ACCESS_LOG",
    "event_loop": "REGISTRY_EVENT_LOOP",
    "workload_tolerance": "REGISTRY_WORKLOAD_TOLERANCE",
    "credit_limit_ects": "REGISTRY_CREDIT_LIMIT_ECTS",
    "volume_mode": "REGISTRY_VOLUME_MODE",
    "drain_seconds": "REGISTRY_DRAIN_SECONDS",
}
# The largest value of each share or credit setting: beyond it a setting is a slip, not a
# policy (a tolerance of 10 is 0 to 11 times the notional hours; 240 ECTS is a degree).
LIMITS = {"workload_tolerance": 10.0, "credit_limit_ects": 240.0}
TLS_FILES = ("tls_cert", "tls_key", "client_ca")
PATHS = (*TLS_FILES, "database_password_file")
HEALTH_PATHS = ("health_cert", "health_key")
# The name LoadCredential= gives the password in deploy/systemd/registry-server.service.
PASSWORD_CREDENTIAL = "database-password"
DRAIN_SECONDS = 5.0  # a load balancer checking health every few seconds sees NOT_SERVING
MAX_DRAIN_SECONDS = 300.0


def _figure(
    name: str, value: Any, where: str, highest: float, hint: str, default: bool = False
) -> float:
    """value as a number from 0 to highest, or -1 (the default) where default is true."""
    try:
        figure = float(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{where}: setting '{name}' = {value!r} is not a number; give 0 to {highest:g} {hint}"
        ) from None
    if not (0 <= figure <= highest or (default and figure == -1)):
        raise ConfigError(f"{where}: setting '{name}' = {figure:g}; give 0 to {highest:g} {hint}")
    return figure


def _coerce(name: str, value: Any, where: str, base: Path) -> Any:
    if name in ("worker_threads", "check_workers", "query_workers"):
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{where}: setting '{name}' = {value!r} is not a whole "
                "number; give 0 to 64, or -1 for the default"
            ) from None
        if not -1 <= number <= 64:
            raise ConfigError(
                f"{where}: setting '{name}' = {number}; give 0 to 64, or -1 for the default"
            )
        return number
    if name == "drain_seconds":
        return _figure(name, value, where, MAX_DRAIN_SECONDS, "or -1 for the default", default=True)
    if name in LIMITS:
        return _figure(name, value, where, LIMITS[name], "(0 turns the check off)")
    if name in ("access_log", "apply_worker"):
        if isinstance(value, bool) or str(value).lower() in ("true", "false"):
            return value if isinstance(value, bool) else str(value).lower() == "true"
        raise ConfigError(f"{where}: setting '{name}' = {value!r}; use true or false")
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: setting '{name}' must be a non-empty string")
    if name == "volume_mode" and value not in MODES:
        raise ConfigError(f'{where}: setting \'volume_mode\' = {value!r}; use "refuse" or "warn"')
    if name == "log_format" and value not in ("json", "text"):
        raise ConfigError(f'{where}: setting \'log_format\' = {value!r}; use "json" or "text"')
    if name == "event_loop" and value not in ("uvloop", "asyncio"):
        raise ConfigError(f'{where}: setting \'event_loop\' = {value!r}; use "uvloop" or "asyncio"')
    if name in ("listen", "metrics_listen") and (
        ":" not in value or not value.rsplit(":", 1)[1].isdigit()
    ):
        raise ConfigError(
            f"{where}: setting '{name}' = {value!r} is not host:port; for example \"0.0.0.0:50051\""
        )
    if name == "database_url" and not value.startswith(("sqlite:", "postgresql")):
        raise ConfigError(
            f"{where}: setting 'database_url' = {value!r} is not a database URL; "
            "use sqlite:///path.db or postgresql+psycopg://user@host/db"
        )
    if name in PATHS or name in HEALTH_PATHS:
        return base / value
    return value


def load(
    file: Path | None,
    environ: Mapping[str, str] = os.environ,
    overrides: Mapping[str, Any] | None = None,
) -> RegistryConfig:
    """Settings from defaults, file, environment and overrides (None values ignored)."""
    config = RegistryConfig()
    known = {f.name for f in fields(RegistryConfig)}
    if file is not None:
        data = read_file(file, "give the registry's configuration file (--config)")
        refuse_unknown(file, data, known)
        config = replace(
            config, **{k: _coerce(k, v, str(file), file.parent) for k, v in data.items()}
        )
    from_env = {
        k: _coerce(k, v, f"environment variable {ENVIRONMENT[k]}", Path.cwd())
        for k, v in from_environment(environ, ENVIRONMENT).items()
    }
    config = replace(config, **from_env)
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    config = replace(
        config,
        **{
            k: _coerce(k, str(v), f"option --{k.replace('_', '-')}", Path.cwd())
            for k, v in given.items()
        },
    )
    tls = {name: getattr(config, name) for name in TLS_FILES}
    if any(tls.values()):
        missing = [name for name, value in tls.items() if value is None]
        if missing:
            raise ConfigError(
                f"setting '{missing[0]}' is missing: mutual TLS needs tls_cert, "
                "tls_key and client_ca together"
            )
        for name, value in tls.items():
            if not Path(value).is_file():
                raise ConfigError(f"setting '{name}' = {value}: no such file")
    password = _password_file(config, environ)
    if password is not None:
        config = replace(config, database_url=_with_password(config.database_url, *password))
    if (config.health_cert is None) != (config.health_key is None):
        absent = "health_key" if config.health_key is None else "health_cert"
        raise ConfigError(
            f"setting '{absent}' is missing: the health check's client "
            "certificate needs health_cert and health_key together"
        )
    return config


def _password_file(config: RegistryConfig, environ: Mapping[str, str]) -> tuple[Path, str] | None:
    """Where the database password is, and what named it: the setting, else the systemd
    credential if the service has one; None where neither is."""
    if config.database_password_file is not None:
        return config.database_password_file, (
            "setting 'database_password_file' (REGISTRY_DATABASE_PASSWORD_FILE)"
        )
    credentials = environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / PASSWORD_CREDENTIAL).is_file():
        return (
            Path(credentials) / PASSWORD_CREDENTIAL,
            f"systemd credential '{PASSWORD_CREDENTIAL}' (LoadCredential=)",
        )
    return None


def _with_password(url: str, file: Path, where: str) -> str:
    """url with the password read from file (one line; a final newline is not part of it)."""
    if not url.startswith("postgresql"):
        raise ConfigError(
            f"{where}: a database password is for PostgreSQL, but database_url "
            f"is {printable_url(url)}; remove the setting (or, under systemd, the "
            "unit's LoadCredential=) or use a postgresql+psycopg:// URL"
        )
    try:
        password = file.read_text("utf-8").removesuffix("\n").removesuffix("\r")
    except FileNotFoundError:
        raise ConfigError(
            f"{where} = {file}: no such file; write the database password in it"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(
            f"{where} = {file}: cannot read it ({reason}); make it a text file "
            "the registry's user can read"
        ) from None
    if not password or "\n" in password:
        raise ConfigError(
            f"{where} = {file}: "
            + ("is empty" if not password else "has more than one line")
            + "; write the password alone in it"
        )
    parsed = make_url(url)
    if parsed.password is not None:
        raise ConfigError(
            f"{where}: database_url {printable_url(url)} has a password too; "
            "remove it from the URL and keep it in the file only"
        )
    return parsed.set(password=password).render_as_string(hide_password=False)


def printable_url(url: str) -> str:
    """url with its password, if any, shown as ***: for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL at all, so no password can be told apart in it
        return url


def database_threads(settings: RegistryConfig) -> int:
    """The worker_threads setting with -1 resolved: 0 (on the event loop) for SQLite, where
    calls are short and threads only queue for Python's global lock; 2 for PostgreSQL, where
    a thread waits on the network while another call runs."""
    if settings.worker_threads >= 0:
        return settings.worker_threads
    return 0 if settings.database_url.startswith("sqlite") else 2


def record_check_workers(settings: RegistryConfig) -> int:
    """The check_workers setting with -1 resolved: one worker process where a core is to
    spare for it, none on a single core (it would only compete with the registry)."""
    if settings.check_workers >= 0:
        return settings.check_workers
    return 1 if (os.cpu_count() or 1) > 1 else 0


def query_worker_count(settings: RegistryConfig) -> int:
    """The query_workers setting with -1 resolved. SQLite: a worker for each core but the one
    the registry's own process uses for the transport, none on a single core. PostgreSQL: one
    a core, as many as the questions' CPU can use while each waits on the network for its
    statements (two a core until a question's statement stayed prepared and its snapshot
    took one round trip: 2026-12-08 on 2 cores and 1M agreements, two workers answered
    0.37x-0.42x the echo, four 0.32x in alternating runs)."""
    if settings.query_workers >= 0:
        return settings.query_workers
    cores = os.cpu_count() or 1
    return cores - 1 if settings.database_url.startswith("sqlite") else cores


def drain_seconds(settings: RegistryConfig) -> float:
    """The drain_seconds setting with -1 resolved: DRAIN_SECONDS for a registry with TLS,
    which a network reaches through load balancers and probes; 0 for a plaintext one, which
    serves one machine."""
    if settings.drain_seconds >= 0:
        return settings.drain_seconds
    return DRAIN_SECONDS if settings.tls_cert else 0.0


def volume_rule(settings: RegistryConfig) -> VolumeRule:
    """The volume settings as acceptance applies them."""
    return VolumeRule(settings.workload_tolerance, settings.credit_limit_ects, settings.volume_mode)


def run_serving(main: Coroutine[Any, Any, None], settings: RegistryConfig) -> None:
    """Runs the registry's main coroutine on the configured event loop; on "uvloop" where
    uvloop is not installed (it is not on Windows), on asyncio's."""
    if settings.event_loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            uvloop.run(main)
            return
    asyncio.run(main)
