"""The PostgreSQL password comes from a file or a systemd credential (LoadCredential=) into
database_url, and never shows in a repr or a message."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from registry_server import cli as registry_cli
from registry_server import config
from tests.conftest import PG_URL, postgres_problem

POSTGRES = "postgresql+psycopg://registry@db.example.org:5432/registry"
# Characters a URL must quote: a password pasted in raw would break it.
PASSWORD = "s3cret@host:5432/db?x=%41"


def credentials(tmp_path: Path, password: str = PASSWORD + "\n") -> dict[str, str]:
    """The environment systemd gives a service with LoadCredential=database-password:…;
    the file ends in a newline, as `echo … >` writes it."""
    directory = tmp_path / "credentials"
    directory.mkdir()
    (directory / "database-password").write_text(password)
    return {"CREDENTIALS_DIRECTORY": str(directory), "REGISTRY_DATABASE_URL": POSTGRES}


def test_systemd_credential_puts_the_password_into_the_postgresql_url(tmp_path: Path) -> None:
    url = make_url(config.load(None, environ=credentials(tmp_path)).database_url)
    assert url.password == PASSWORD
    assert (url.username, url.host, url.port, url.database) == (
        "registry",
        "db.example.org",
        5432,
        "registry",
    )


def test_password_file_setting_wins_over_the_credential(tmp_path: Path) -> None:
    (tmp_path / "database-password").write_text("from-the-setting\n")
    sample = tmp_path / "registry.toml"
    sample.write_text(
        f'database_url = "{POSTGRES}"\ndatabase_password_file = "database-password"\n'
    )  # beside the file
    settings = config.load(sample, environ=credentials(tmp_path))
    assert make_url(settings.database_url).password == "from-the-setting"
    (tmp_path / "other").write_text("from-the-environment")
    settings = config.load(
        sample, environ={"REGISTRY_DATABASE_PASSWORD_FILE": str(tmp_path / "other")}
    )
    assert make_url(settings.database_url).password == "from-the-environment"


def test_database_url_without_a_password_file_is_used_as_given(tmp_path: Path) -> None:
    given = "postgresql+psycopg://registry:in-the-url@db/registry"
    no_credential = tmp_path / "empty-credentials"
    no_credential.mkdir()  # a service with other credentials, not this one
    settings = config.load(
        None, environ={"REGISTRY_DATABASE_URL": given, "CREDENTIALS_DIRECTORY": str(no_credential)}
    )
    assert settings.database_url == given
    assert config.load(None, environ={}).database_url == "sqlite:///registry.db"


def test_password_shows_in_no_repr_and_no_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = config.load(None, environ=credentials(tmp_path))
    assert PASSWORD not in repr(settings)
    assert (
        config.printable_url(settings.database_url)
        == "postgresql+psycopg://registry:***@db.example.org:5432/registry"
    )
    # A database that cannot be reached (nothing listens on port 1): the exit message names
    # the problem without the password.
    (tmp_path / "run").mkdir()
    for name, value in credentials(tmp_path / "run").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "postgresql+psycopg://registry@127.0.0.1:1/r")
    with pytest.raises(SystemExit) as refused:
        registry_cli.main(["migrate"])
    assert "cannot open the database" in str(refused.value.code)
    assert PASSWORD not in str(refused.value.code)
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "postgresql+nosuchdriver://registry@db/r")
    with pytest.raises(SystemExit) as refused:
        registry_cli.main(["migrate"])
    assert "registry:***@db" in str(refused.value.code)
    assert PASSWORD not in str(refused.value.code)


@pytest.mark.parametrize(
    ("password", "url", "message"),
    [
        ("", POSTGRES, "database-password: is empty; write the password alone in it"),
        ("one\ntwo\n", POSTGRES, "has more than one line; write the password alone in it"),
        (
            PASSWORD,
            "sqlite:///registry.db",
            "a database password is for PostgreSQL, but "
            "database_url is sqlite:///registry.db; remove the setting \\(or, under systemd, the "
            "unit's LoadCredential=\\)",
        ),
        (
            PASSWORD,
            "postgresql+psycopg://registry:other@db/registry",
            "registry:\\*\\*\\*@db/registry has a password too; remove it from the URL",
        ),
    ],
)
def test_unusable_password_stops_the_registry_naming_the_fix(
    tmp_path: Path, password: str, url: str, message: str
) -> None:
    environ = {**credentials(tmp_path, password), "REGISTRY_DATABASE_URL": url}
    with pytest.raises(
        config.ConfigError, match="systemd credential 'database-password'"
    ) as refused:
        config.load(None, environ=environ)
    assert refused.match(message)


def test_missing_password_file_is_named_with_its_setting(tmp_path: Path) -> None:
    with pytest.raises(
        config.ConfigError,
        match="setting 'database_password_file' "
        r"\(REGISTRY_DATABASE_PASSWORD_FILE\) = .*nowhere: no such file",
    ):
        config.load(
            None,
            environ={
                "REGISTRY_DATABASE_URL": POSTGRES,
                "REGISTRY_DATABASE_PASSWORD_FILE": str(tmp_path / "nowhere"),
            },
        )


@pytest.mark.postgres
def test_postgresql_accepts_the_url_with_the_password_quoted(tmp_path: Path) -> None:
    problem = postgres_problem()
    if problem:
        pytest.skip(problem)
    without_password = make_url(PG_URL).set(password=None).render_as_string()
    environ = {**credentials(tmp_path), "REGISTRY_DATABASE_URL": without_password}
    # The test server trusts local connections, so this proves the quoted URL reaches the
    # right server and database, not that the password is checked.
    engine = create_engine(config.load(None, environ=environ).database_url)
    try:
        with engine.connect() as connection:
            assert (
                connection.execute(text("select current_database()")).scalar_one()
                == make_url(PG_URL).database
            )
    finally:
        engine.dispose()
