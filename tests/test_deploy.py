"""Every sample in deploy/ works: it parses, the settings load through the real loaders,
the commands it runs exist, the paths it names are where it says."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest

from registry_server import cli as registry_cli
from registry_server import config as registry_config
from registry_server.db import make_engine, upgrade
from registry_server.observability import Metrics
from registry_server.pki import create_ca, issue_client, issue_server
from registry_server.queries import QueryWorkers
from sync_agent import cli as agent_cli
from sync_agent import config as agent_config
from sync_agent.config import init_home

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMMANDS = {"registry-server": registry_cli.main, "sync-agent": agent_cli.main}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


def check_command(line: str) -> None:
    """The command exists in this project and accepts its arguments."""
    words = shlex.split(line)
    binary = Path(words[0]).name
    assert binary in COMMANDS, f"{binary} is not one of this project's commands"
    with pytest.raises(SystemExit) as done:
        COMMANDS[binary]([*words[1:], "--help"])
    assert done.value.code == 0, line


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    create_ca(directory)
    issue_server(directory, ["localhost"])
    issue_client(directory, "institution", "uk.ac.taff")
    return directory


def test_registry_sample_loads_and_documents_every_setting(tmp_path: Path, pki: Path) -> None:
    shutil.copy(DEPLOY / "config" / "registry.toml", tmp_path / "registry.toml")
    shutil.copytree(pki, tmp_path / "pki")
    settings = registry_config.load(tmp_path / "registry.toml", environ={})
    assert settings.listen == "0.0.0.0:50051"
    assert settings.tls_cert == tmp_path / "pki" / "registry.pem"
    assert settings.health_cert == tmp_path / "pki" / "partner-registry-health.pem"
    text = (DEPLOY / "config" / "registry.toml").read_text()
    for setting, variable in registry_config.ENVIRONMENT.items():
        assert setting in text and variable in text, f"{setting} / {variable} not documented"


def test_environment_wins_over_the_file_and_errors_name_the_fix(tmp_path: Path) -> None:
    sample = tmp_path / "registry.toml"
    sample.write_text('listen = "0.0.0.0:1"\n')
    assert (
        registry_config.load(sample, environ={"REGISTRY_LISTEN": "127.0.0.1:2"}).listen
        == "127.0.0.1:2"
    )
    sample.write_text('listen = "everywhere"\n')
    with pytest.raises(
        registry_config.ConfigError, match="registry.toml: setting 'listen'.*host:port"
    ):
        registry_config.load(sample, environ={})
    sample.write_text('lisen = "0.0.0.0:1"\n')
    with pytest.raises(registry_config.ConfigError, match="unknown setting 'lisen'"):
        registry_config.load(sample, environ={})
    sample.write_text('tls_cert = "missing.pem"\n')
    with pytest.raises(registry_config.ConfigError, match="tls_key and client_ca together"):
        registry_config.load(sample, environ={})
    sample.write_text('health_cert = "pki/partner-registry-health.pem"\n')
    with pytest.raises(
        registry_config.ConfigError,
        match="setting 'health_key' is missing: .*health_cert and health_key",
    ):
        registry_config.load(sample, environ={})
    with pytest.raises(registry_config.ConfigError, match="REGISTRY_WORKER_THREADS.*0 to 64"):
        registry_config.load(None, environ={"REGISTRY_WORKER_THREADS": "zero"})
    with pytest.raises(
        registry_config.ConfigError,
        match="REGISTRY_EVENT_LOOP: setting 'event_loop' = 'tokio'; use \"uvloop\" or \"asyncio\"",
    ):
        registry_config.load(None, environ={"REGISTRY_EVENT_LOOP": "tokio"})


def test_drain_defaults_to_five_seconds_with_tls_and_none_without(
    tmp_path: Path, pki: Path
) -> None:
    assert registry_config.drain_seconds(registry_config.load(None, environ={})) == 0
    tls = registry_config.load(
        None,
        environ={
            "REGISTRY_TLS_CERT": str(pki / "registry.pem"),
            "REGISTRY_TLS_KEY": str(pki / "registry-key.pem"),
            "REGISTRY_CLIENT_CA": str(pki / "ca.pem"),
        },
    )
    assert registry_config.drain_seconds(tls) == registry_config.DRAIN_SECONDS == 5
    assert (
        registry_config.drain_seconds(
            registry_config.load(None, environ={"REGISTRY_DRAIN_SECONDS": "0"})
        )
        == 0
    )


def test_drain_and_access_log_settings_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(
        registry_config.ConfigError,
        match="REGISTRY_DRAIN_SECONDS: setting 'drain_seconds' = -2; give 0 to "
        "300 or -1 for the default",
    ):
        registry_config.load(None, environ={"REGISTRY_DRAIN_SECONDS": "-2"})
    with pytest.raises(
        registry_config.ConfigError, match="setting 'access_log' = 'off'; use true or false"
    ):
        registry_config.load(None, environ={"REGISTRY_ACCESS_LOG": "off"})
    sample = tmp_path / "registry.toml"
    sample.write_text("access_log = false\n")
    assert registry_config.load(sample, environ={}).access_log is False
    assert registry_config.load(None, environ={"REGISTRY_ACCESS_LOG": "False"}).access_log is False


def test_registry_refuses_to_start_half_configured(tmp_path: Path) -> None:
    sample = tmp_path / "registry.toml"
    sample.write_text('database_url = "mysql://x"\n')
    assert registry_cli.main(["--config", str(sample), "migrate"]) == 2


def test_agent_sample_loads(tmp_path: Path, pki: Path) -> None:
    home = tmp_path / "agent"
    init_home(home, "uk.ac.taff", "Taff University", "GB", "127.0.0.1:1")
    shutil.copy(DEPLOY / "config" / "agent.toml", home / "agent.toml")
    shutil.copytree(pki, home / "pki")
    cfg = agent_config.load(home)
    assert cfg.institution_id == "uk.ac.taff" and cfg.tls is not None
    text = (DEPLOY / "config" / "agent.toml").read_text()
    for variable in [*agent_config.ENVIRONMENT.values(), *agent_config.TLS_ENVIRONMENT.values()]:
        assert variable in text, f"{variable} not documented in the agent sample"


def test_agent_environment_wins_and_errors_name_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_home(tmp_path, "uk.ac.taff", "Taff", "GB", "127.0.0.1:1")
    monkeypatch.setenv("SYNC_AGENT_REGISTRY", "registry.example.org:443")
    assert agent_config.load(tmp_path).registry == "registry.example.org:443"
    monkeypatch.setenv("SYNC_AGENT_TLS_CA", "nowhere.pem")
    with pytest.raises(
        agent_config.ConfigError, match=r"agent.toml: \[tls\] ca = 'nowhere.pem': no such file"
    ):
        agent_config.load(tmp_path)
    (tmp_path / "agent.toml").write_text('institution_id = "uk.ac.taff"\nnmae = "x"\n')
    with pytest.raises(agent_config.ConfigError, match="unknown setting 'nmae'"):
        agent_config.load(tmp_path)


def test_systemd_units_run_real_commands() -> None:
    registry = unit("registry-server.service")
    check_command(registry["Service"]["ExecStart"])
    check_command(registry["Service"]["ExecStartPre"])
    assert "REGISTRY_CONFIG=" in registry["Service"]["Environment"]
    agent = unit("sync-agent.service")
    assert agent["Service"]["Type"] == "oneshot"
    check_command(agent["Service"]["ExecStart"])


def test_timer_is_nightly_with_a_random_delay() -> None:
    timer = unit("sync-agent.timer")["Timer"]
    assert timer["OnCalendar"].startswith("*-*-*")
    assert timer["RandomizedDelaySec"] and timer["Persistent"] == "true"
    assert (DEPLOY / "systemd" / "sync-agent.service").exists()  # the unit the timer starts


def containerfile() -> list[list[tuple[str, str]]]:
    """deploy/Containerfile's stages, each a list of (INSTRUCTION, arguments), continuation
    lines joined and comments left out; the ARGs before the first FROM are stage 0."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Containerfile").read_text())
    stages: list[list[tuple[str, str]]] = [[]]
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, arguments = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), " ".join(arguments.split())))
    return stages


def instructions(stage: list[tuple[str, str]], name: str) -> list[str]:
    return [arguments for instruction, arguments in stage if instruction == name]


def environment(stage: list[tuple[str, str]]) -> dict[str, str]:
    return dict(
        word.split("=", 1) for line in instructions(stage, "ENV") for word in shlex.split(line)
    )


def test_containerfile_builds_a_virtual_environment_and_runs_it_slim_and_not_as_root() -> None:
    arguments, build, runtime = containerfile()
    assert instructions(arguments, "ARG") == ["BASE_IMAGE=python:3.11-slim"]
    assert instructions(build, "FROM") == ["${BASE_IMAGE} AS build"]
    assert instructions(runtime, "FROM") == ["${BASE_IMAGE}"]  # the venv runs on its Python
    venv = "/opt/credit-registry"
    assert any(f"{venv}/bin/pip install" in run for run in instructions(build, "RUN"))
    # The runtime stage takes the virtual environment and nothing else from the build: no
    # pip install, no package manager, no compiler.
    assert [copy for copy in instructions(runtime, "COPY")] == [f"--from=build {venv} {venv}"]
    for run in instructions(runtime, "RUN"):
        assert not re.search(r"\b(pip|apt-get|apt|gcc|make)\b", run), run
    assert environment(runtime)["PATH"].startswith(f"{venv}/bin:")
    user = instructions(runtime, "USER")[-1].split(":")
    assert (
        user[0].isdigit()
        and int(user[0]) != 0
        and f"--uid {user[0]}" in instructions(runtime, "RUN")[0]
    )


def test_containerfile_serves_and_checks_its_health_with_real_commands() -> None:
    runtime = containerfile()[-1]
    check_command(" ".join(json.loads(instructions(runtime, "CMD")[-1])))
    healthcheck = instructions(runtime, "HEALTHCHECK")[-1]
    assert healthcheck.count("CMD ") == 1, "the health check runs one command, in exec form"
    probe = json.loads(healthcheck.split("CMD ", 1)[1])
    assert probe == ["registry-server", "health"]
    check_command(" ".join(probe))


def test_build_context_holds_every_package_the_project_installs() -> None:
    """.dockerignore lets through exactly what pyproject.toml's wheel is made of."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {
        pattern.rstrip("*")
        for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    allowed = {
        line[1:]
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert allowed == packages | {"pyproject.toml", project["project"]["readme"]}
    assert all((ROOT / name).exists() for name in allowed)


def compose() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return parsed


def test_compose_builds_the_registry_from_the_containerfile() -> None:
    registry = compose()["services"]["registry"]
    context = (DEPLOY / registry["build"]["context"]).resolve()
    assert context == ROOT, "the build context is the repository, as .dockerignore expects"
    assert (context / registry["build"]["dockerfile"]) == DEPLOY / "Containerfile"
    assert set(registry["build"]["args"]) <= {
        line.split("=")[0] for line in instructions(containerfile()[0], "ARG")
    }


def test_compose_migrates_then_serves_with_real_commands_and_installs_nothing() -> None:
    registry = compose()["services"]["registry"]
    assert registry["command"][:2] == ["sh", "-c"]
    steps = [step.strip() for step in registry["command"][2].split("&&")]
    commands = [step.removeprefix("exec ") for step in steps if "registry-server" in step]
    assert commands == ["registry-server migrate", "registry-server serve"]
    assert steps[-1] == "exec registry-server serve", "serve must get the stop signal"
    for command in commands:
        check_command(command)
    assert "pip" not in registry["command"][2]
    check_command(" ".join(registry["healthcheck"]["test"][1:]))
    assert registry["depends_on"]["db"]["condition"] == "service_healthy"
    assert "healthcheck" in compose()["services"]["db"]


def test_compose_mounts_only_configuration_read_only_where_the_image_reads_it() -> None:
    registry = compose()["services"]["registry"]
    image_config = environment(containerfile()[-1])["REGISTRY_CONFIG"]
    assert registry["environment"]["REGISTRY_CONFIG"] == image_config
    mounts = [volume.split(":") for volume in registry["volumes"]]
    assert mounts == [["./config", str(Path(image_config).parent), "ro"]]
    assert (DEPLOY / "config" / Path(image_config).name).is_file()


def test_compose_passes_the_database_password_as_a_secret_to_both_services() -> None:
    services, secrets = compose()["services"], compose()["secrets"]
    (name,) = secrets
    assert services["db"]["secrets"] == services["registry"]["secrets"] == [name]
    assert services["db"]["environment"]["POSTGRES_PASSWORD_FILE"] == f"/run/secrets/{name}"
    assert f"/run/secrets/{name}" in services["registry"]["command"][2]
    url = services["registry"]["environment"]["REGISTRY_DATABASE_URL"]
    assert "@db:" in url and ":" not in url.split("//")[1].split("@")[0], "no password in the URL"
    registry_config.load(None, environ={"REGISTRY_DATABASE_URL": url})


def test_compose_publishes_the_port_the_registry_listens_on() -> None:
    registry = compose()["services"]["registry"]
    port = registry["environment"]["REGISTRY_LISTEN"].rsplit(":", 1)[1]
    assert any(mapping.endswith(f":{port}") for mapping in registry["ports"])
    assert port in instructions(containerfile()[-1], "EXPOSE")[0].split()


def test_database_threads_default_to_the_event_loop_for_sqlite_only(tmp_path: Path) -> None:
    sqlite = registry_config.load(None, environ={})
    assert sqlite.worker_threads == -1 and registry_config.database_threads(sqlite) == 0
    postgres = registry_config.load(
        None, environ={"REGISTRY_DATABASE_URL": "postgresql+psycopg://registry@127.0.0.1/registry"}
    )
    assert registry_config.database_threads(postgres) == 2
    four = registry_config.load(None, environ={"REGISTRY_WORKER_THREADS": "4"})
    assert registry_config.database_threads(four) == 4
    with pytest.raises(registry_config.ConfigError, match="give 0 to 64, or -1"):
        registry_config.load(None, environ={"REGISTRY_WORKER_THREADS": "-2"})


def test_record_check_workers_default_to_one_where_a_core_is_spare(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = registry_config.load(None, environ={})
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert defaults.check_workers == -1 and registry_config.record_check_workers(defaults) == 1
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert registry_config.record_check_workers(defaults) == 0
    none = registry_config.load(None, environ={"REGISTRY_CHECK_WORKERS": "0"})
    assert registry_config.record_check_workers(none) == 0
    with pytest.raises(
        registry_config.ConfigError,
        match="environment variable REGISTRY_CHECK_WORKERS: setting "
        "'check_workers' = 'two' is not a whole number",
    ):
        registry_config.load(None, environ={"REGISTRY_CHECK_WORKERS": "two"})


def test_query_workers_default_to_every_core_but_the_registrys_own_on_sqlite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = registry_config.load(None, environ={})
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert defaults.query_workers == -1 and registry_config.query_worker_count(defaults) == 7
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert registry_config.query_worker_count(defaults) == 0
    postgres = registry_config.load(
        None, environ={"REGISTRY_DATABASE_URL": "postgresql+psycopg://registry@db/registry"}
    )
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert registry_config.query_worker_count(postgres) == 2  # one a core: they wait on reads
    two = registry_config.load(None, environ={"REGISTRY_QUERY_WORKERS": "2"})
    assert registry_config.query_worker_count(two) == 2
    with pytest.raises(
        registry_config.ConfigError,
        match="environment variable REGISTRY_QUERY_WORKERS: setting "
        "'query_workers' = 65; give 0 to 64",
    ):
        registry_config.load(None, environ={"REGISTRY_QUERY_WORKERS": "65"})


def test_alert_rules_pass_promtool_and_their_unit_tests() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian: apt-get install prometheus)")
    rules = DEPLOY / "prometheus"
    for command in (
        ["check", "rules", "registry-alerts.yml"],
        ["test", "rules", "registry-alerts.test.yml"],
    ):
        done = subprocess.run(
            [promtool, *command], cwd=rules, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "SUCCESS" in done.stdout + done.stderr


def test_alert_rules_name_only_metrics_the_registry_or_node_exporter_serves(
    tmp_path: Path, pki: Path
) -> None:
    """A renamed metric would leave its alert silently matching nothing."""
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    upgrade(engine)
    metrics = Metrics(engine)
    metrics.watch(lambda: {"registry": (pki / "registry.pem").read_bytes()}, [QueryWorkers([])])
    served = set(
        re.findall(r"^# TYPE (\S+)", generate_latest(metrics.registry).decode(), re.MULTILINE)
    )
    engine.dispose()
    rules = yaml.safe_load((DEPLOY / "prometheus" / "registry-alerts.yml").read_text())
    for rule in rules["groups"][0]["rules"]:
        for name in re.findall(r"\b(?:registry|node)_[a-z_]+", rule["expr"]):
            assert name.startswith("node_filesystem_") or name in served, (
                f"{rule['alert']} uses {name}, which the registry does not serve"
            )
