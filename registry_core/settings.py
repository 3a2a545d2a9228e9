"""Reading a TOML settings file and its environment variables, as the registry
(registry_server.config) and the sync agent (sync_agent.config) both do: one way to say a
file is missing or malformed, a setting unknown, and which source a value came from."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


class SettingsError(Exception):
    """A setting that is missing or cannot work; the message names the file (or the
    environment variable) and the fix."""


def read_file(path: Path, missing: str) -> dict[str, Any]:
    """The settings in path; missing is what to do when it does not exist."""
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path} not found; {missing}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: not UTF-8 text; save it as UTF-8") from None


def refuse_unknown(path: Path, data: Mapping[str, Any], known: Iterable[str]) -> None:
    """A file's first setting that is not one of known, named with the list of settings (a
    slip such as `listen_address` would otherwise be ignored silently)."""
    names = sorted(known)
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise SettingsError(
            f"{path}: unknown setting '{unknown[0]}'; the settings are {', '.join(names)}"
        )


def from_environment(environ: Mapping[str, str], names: Mapping[str, str]) -> dict[str, str]:
    """The settings given by environment variable (names: setting → variable); an empty
    variable counts as not given."""
    return {
        setting: environ[variable] for setting, variable in names.items() if environ.get(variable)
    }
