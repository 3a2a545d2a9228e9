"""The systemd units in deploy/ pass systemd's own checks, offline (no systemd as PID 1
needed): `systemd-analyze verify` of every unit and what it names, `systemd-analyze security`
at an exposure of 2.5 or less, and `systemd-sysusers` creating the users they run as."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_deploy import DEPLOY, unit

ANALYZE = shutil.which("systemd-analyze")
SYSUSERS = shutil.which("systemd-sysusers")
DISTRIBUTION_UNITS = Path("/usr/lib/systemd/system")
pytestmark = pytest.mark.skipif(
    ANALYZE is None or not DISTRIBUTION_UNITS.is_dir(),
    reason="systemd-analyze and /usr/lib/systemd/system are missing (Debian, Ubuntu: apt-get "
    "install systemd; it need not run)",
)

SERVICES = ("registry-server.service", "sync-agent.service")
UNITS = (*SERVICES, "sync-agent.timer")
# The rating systemd-analyze security gives is 0.0 (safe) to 10.0 (exposed); 2.5 is the most
# these may reach. Measured: 1.1 each (systemd 252).
MOST_EXPOSURE = 2.5
INSTALLED = Path(sys.executable).parent  # where pip put registry-server and sync-agent
EXEC_SETTINGS = ("ExecStartPre", "ExecStart", "ExecReload")


def analyze(*arguments: str) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run(
        [ANALYZE, "--no-pager", *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def failure_handlers() -> list[str]:
    """The unit each service's OnFailure= starts, with %n (the failing unit) filled in."""
    return [unit(name)["Unit"]["OnFailure"].replace("%n", name) for name in SERVICES]


def commands(name: str) -> list[str]:
    """The programs a unit runs: the first word of each Exec line, without its prefixes (a
    setting may come more than once, so not through configparser)."""
    text = (DEPLOY / "systemd" / name).read_text()
    return [
        program.lstrip("-@:+!")
        for program in re.findall(
            rf"^(?:{'|'.join(EXEC_SETTINGS)})=(\S+)", text, flags=re.MULTILINE
        )
    ]


def install(root: Path, program: str) -> None:
    """program into root as docs/operations.md installs it: this project's commands from
    the virtual environment the tests run in, the system's (echo, systemctl) from PATH."""
    if program.startswith("/opt/credit-registry/bin/"):
        found = shutil.which(Path(program).name, path=str(INSTALLED))
        target = root / program.lstrip("/")
    elif program.startswith("/"):  # a system program named by its path (/bin/kill)
        found = shutil.which(Path(program).name)
        target = root / program.lstrip("/")
    else:
        found = shutil.which(program)
        target = root / "usr" / "bin" / program
    assert found is not None, f"{program}, which a unit runs, is not installed"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(found, target)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file system as after the install steps: the distribution's units, ours in
    /etc/systemd/system, and every program they run (verify checks that each exists)."""
    root = tmp_path_factory.mktemp("root")
    shutil.copytree(DISTRIBUTION_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    shutil.copytree(DEPLOY / "systemd", root / "etc/systemd/system")
    templates = [path.name for path in (DEPLOY / "systemd").glob("*@.service")]
    for name in (*SERVICES, *templates):
        for program in commands(name):
            install(root, program)
    return root


def verify(root: Path, *units: str) -> subprocess.CompletedProcess[str]:
    # --recursive-errors=yes: a warning about the unit or anything it depends on fails.
    return analyze(
        "verify", f"--root={root}", "--man=no", "--generators=no", "--recursive-errors=yes", *units
    )


def test_units_and_their_failure_handlers_pass_systemd_analyze_verify(root: Path) -> None:
    checked = verify(root, *UNITS, *failure_handlers())
    assert checked.returncode == 0, checked.stderr


def test_verify_fails_a_misspelt_setting(root: Path) -> None:
    """The check above would notice a mistake: a setting systemd does not know."""
    unit_file = root / "etc/systemd/system/registry-server.service"
    original = unit_file.read_text()
    try:
        unit_file.write_text(original.replace("ProtectClock=", "ProtectClok="))
        checked = verify(root, "registry-server.service")
    finally:
        unit_file.write_text(original)
    assert checked.returncode != 0 and "Unknown key 'ProtectClok'" in checked.stderr


def test_every_service_reports_its_failure() -> None:
    for name, handler in zip(SERVICES, failure_handlers(), strict=True):
        assert handler == f"credit-registry-failure@{name}.service"
    assert (DEPLOY / "systemd" / "credit-registry-failure@.service").is_file()


@pytest.mark.parametrize("name", SERVICES)
def test_service_exposure_is_at_most_2_5(name: str) -> None:
    # --threshold counts tenths: 25 fails the command above an exposure of 2.5.
    rated = analyze(
        "security",
        "--offline=yes",
        f"--threshold={MOST_EXPOSURE * 10:g}",
        str(DEPLOY / "systemd" / name),
    )
    overall = re.search(rf"Overall exposure level for {re.escape(name)}: (\d+\.\d)", rated.stdout)
    assert overall is not None, rated.stdout + rated.stderr
    unmet = "\n".join(line for line in rated.stdout.splitlines() if line.startswith("✗"))
    assert float(overall[1]) <= MOST_EXPOSURE, unmet
    assert rated.returncode == 0, rated.stderr


def test_agent_time_limit_covers_its_wait_and_retry_budget() -> None:
    """TimeoutStartSec: the --wait for a sync started by hand, plus the agent's retry budget
    (30 minutes at most by default), plus time for the sync itself."""
    service = unit("sync-agent.service")["Service"]
    words = service["ExecStart"].split()
    wait = float(words[words.index("--wait") + 1])
    span = analyze("timespan", service["TimeoutStartSec"])
    microseconds = re.search(r"μs: (\d+)", span.stdout)
    assert microseconds is not None, span.stdout + span.stderr
    assert int(microseconds[1]) / 1e6 >= wait + 30 * 60 + 15 * 60


@pytest.mark.skipif(SYSUSERS is None, reason="systemd-sysusers is not installed")
def test_sysusers_create_the_users_and_groups_the_units_run_as(tmp_path: Path) -> None:
    assert SYSUSERS is not None
    (tmp_path / "etc").mkdir()
    shutil.copytree(DEPLOY / "sysusers.d", tmp_path / "etc/sysusers.d")
    files = sorted(path.name for path in (DEPLOY / "sysusers.d").glob("*.conf"))
    subprocess.run([SYSUSERS, f"--root={tmp_path}", *files], check=True, capture_output=True)
    users = {
        line.split(":")[0]: line.split(":")
        for line in (tmp_path / "etc/passwd").read_text().splitlines()
    }
    groups = {line.split(":")[0] for line in (tmp_path / "etc/group").read_text().splitlines()}
    for name in SERVICES:
        service = unit(name)["Service"]
        assert service["User"] in users and service["Group"] in groups
        assert users[service["User"]][5] == f"/var/lib/{service['StateDirectory']}"
        assert users[service["User"]][6].endswith("nologin")
