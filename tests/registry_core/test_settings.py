"""The settings files of the registry and the agent are read one way: a missing file, bad
TOML, text that is not UTF-8 and an unknown setting each name the file and the fix, and an
empty environment variable counts as not given."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry_core.settings import SettingsError, from_environment, read_file, refuse_unknown
from registry_server import config as registry_config
from sync_agent import config as agent_config


def test_a_file_that_cannot_be_read_names_itself_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    with pytest.raises(SettingsError, match=r"absent.toml not found; run the init"):
        read_file(missing, "run the init")
    latin = tmp_path / "latin.toml"
    latin.write_bytes('name = "Universit\xe9"\n'.encode("latin-1"))
    with pytest.raises(SettingsError, match="latin.toml: not UTF-8 text; save it as UTF-8"):
        read_file(latin, "")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    with pytest.raises(SettingsError, match="broken.toml: not valid TOML"):
        read_file(broken, "")


def test_an_unknown_setting_is_named_with_every_setting(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="unknown setting 'nmae'; the settings are a, name"):
        refuse_unknown(tmp_path / "x.toml", {"nmae": 1, "a": 2}, ["name", "a"])


def test_an_empty_environment_variable_is_not_a_setting() -> None:
    names = {"listen": "X_LISTEN", "name": "X_NAME"}
    assert from_environment({"X_LISTEN": "", "X_NAME": "Taff"}, names) == {"name": "Taff"}


def test_the_registry_and_the_agent_raise_the_same_error() -> None:
    assert registry_config.ConfigError is agent_config.ConfigError is SettingsError
