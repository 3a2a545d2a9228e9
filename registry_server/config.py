"""The registry's settings: built-in defaults, then a TOML file (--config or
REGISTRY_CONFIG), then environment variables, then command-line options. A wrong setting
stops start-up with the file, the setting and the fix: the registry never starts
half-configured."""

from __future__ import annotations

import asyncio
import os
import tomllib
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from registry_server.volume import MODES, VolumeRule


class ConfigError(Exception):
    """A setting that cannot work; the message names where it came from and the fix."""


@dataclass(frozen=True)
class RegistryConfig:
    database_url: str = "sqlite:///registry.db"
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
    # single core), and for PostgreSQL two a core.
    query_workers: int = -1
    metrics_listen: str = ""
    log_format: str = "json"
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


ENVIRONMENT = {
    "database_url": "REGISTRY_DATABASE_URL",
    "listen": "REGISTRY_LISTEN",
    "tls_cert": "REGISTRY_TLS_CERT",
    "tls_key": "REGISTRY_TLS_KEY",
    "client_ca": "REGISTRY_CLIENT_CA",
    "health_cert": "REGISTRY_HEALTH_CERT",
    "health_key": "REGISTRY_HEALTH_KEY",
    "worker_threads": "REGISTRY_WORKER_THREADS",
    "check_workers": "REGISTRY_CHECK_WORKERS",
    "query_workers": "REGISTRY_QUERY_WORKERS",
    "metrics_listen": "REGISTRY_METRICS_LISTEN",
    "log_format": "REGISTRY_LOG_FORMAT",
    "event_loop": "REGISTRY_EVENT_LOOP",
    "workload_tolerance": "REGISTRY_WORKLOAD_TOLERANCE",
    "credit_limit_ects": "REGISTRY_CREDIT_LIMIT_ECTS",
    "volume_mode": "REGISTRY_VOLUME_MODE",
}
# The largest value of each share or credit setting: beyond it a setting is a slip, not a
# policy (a tolerance of 10 is 0 to 11 times the notional hours; 240 ECTS is a degree).
LIMITS = {"workload_tolerance": 10.0, "credit_limit_ects": 240.0}
PATHS = ("tls_cert", "tls_key", "client_ca")
HEALTH_PATHS = ("health_cert", "health_key")


def _coerce(name: str, value: Any, where: str, base: Path) -> Any:
    if name in ("worker_threads", "check_workers", "query_workers"):
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: setting '{name}' = {value!r} is not a whole "
                              "number; give 0 to 64, or -1 for the default") from None
        if not -1 <= number <= 64:
            raise ConfigError(f"{where}: setting '{name}' = {number}; give 0 to 64, "
                              "or -1 for the default")
        return number
    if name in LIMITS:
        try:
            figure = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: setting '{name}' = {value!r} is not a number; give "
                              f"0 to {LIMITS[name]:g} (0 turns the check off)") from None
        if not 0 <= figure <= LIMITS[name]:
            raise ConfigError(f"{where}: setting '{name}' = {figure:g}; give 0 to "
                              f"{LIMITS[name]:g} (0 turns the check off)")
        return figure
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: setting '{name}' must be a non-empty string")
    if name == "volume_mode" and value not in MODES:
        raise ConfigError(f"{where}: setting 'volume_mode' = {value!r}; use \"refuse\" or "
                          "\"warn\"")
    if name == "log_format" and value not in ("json", "text"):
        raise ConfigError(f"{where}: setting 'log_format' = {value!r}; use \"json\" or \"text\"")
    if name == "event_loop" and value not in ("uvloop", "asyncio"):
        raise ConfigError(f"{where}: setting 'event_loop' = {value!r}; use \"uvloop\" or "
                          "\"asyncio\"")
    if name in ("listen", "metrics_listen") and (":" not in value or not value.rsplit(":", 1)[1].isdigit()):
        raise ConfigError(f"{where}: setting '{name}' = {value!r} is not host:port; for "
                          "example \"0.0.0.0:50051\"")
    if name == "database_url" and not value.startswith(("sqlite:", "postgresql")):
        raise ConfigError(f"{where}: setting 'database_url' = {value!r} is not a database URL; "
                          "use sqlite:///path.db or postgresql+psycopg://user@host/db")
    if name in PATHS or name in HEALTH_PATHS:
        return base / value
    return value


def load(file: Path | None, environ: Mapping[str, str] = os.environ,
         overrides: Mapping[str, Any] | None = None) -> RegistryConfig:
    """Settings from defaults, file, environment and overrides (None values ignored)."""
    config = RegistryConfig()
    known = {f.name for f in fields(RegistryConfig)}
    if file is not None:
        try:
            data = tomllib.loads(file.read_text("utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{file}: no such configuration file") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML ({exc})") from None
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{file}: unknown setting '{unknown[0]}'; the settings are "
                              f"{', '.join(sorted(known))}")
        config = replace(config, **{k: _coerce(k, v, str(file), file.parent)
                                    for k, v in data.items()})
    from_env = {k: _coerce(k, environ[v], f"environment variable {v}", Path.cwd())
                for k, v in ENVIRONMENT.items() if environ.get(v)}
    config = replace(config, **from_env)
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    config = replace(config, **{k: _coerce(k, str(v), f"option --{k.replace('_', '-')}",
                                           Path.cwd()) for k, v in given.items()})
    tls = {name: getattr(config, name) for name in PATHS}
    if any(tls.values()):
        missing = [name for name, value in tls.items() if value is None]
        if missing:
            raise ConfigError(f"setting '{missing[0]}' is missing: mutual TLS needs tls_cert, "
                              "tls_key and client_ca together")
        for name, value in tls.items():
            if not Path(value).is_file():
                raise ConfigError(f"setting '{name}' = {value}: no such file")
    if (config.health_cert is None) != (config.health_key is None):
        absent = "health_key" if config.health_key is None else "health_cert"
        raise ConfigError(f"setting '{absent}' is missing: the health check's client "
                          "certificate needs health_cert and health_key together")
    return config


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
    the registry's own process uses for the transport, none on a single core. PostgreSQL: two
    a core, because a worker answers one question at a time and waits on the network for
    each statement (as worker_threads picks 2 threads there)."""
    if settings.query_workers >= 0:
        return settings.query_workers
    cores = os.cpu_count() or 1
    return cores - 1 if settings.database_url.startswith("sqlite") else 2 * cores


def volume_rule(settings: RegistryConfig) -> VolumeRule:
    """The volume settings as acceptance applies them."""
    return VolumeRule(settings.workload_tolerance, settings.credit_limit_ects,
                      settings.volume_mode)


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
