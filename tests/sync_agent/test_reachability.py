"""Which failures the agent tries again, for how long, and what it says meanwhile; and where
the retry budget is set. A fake clock stands in for time: nothing here waits."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from sync_agent import config as agent_config
from sync_agent.cli import main
from sync_agent.reachability import (
    MAX_DELAY_SECONDS,
    RetryBudgetSpent,
    Retrying,
    backoff,
    is_transient,
)


class Failure(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str = "") -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


REFUSED = Failure(
    grpc.StatusCode.UNAVAILABLE,
    "failed to connect to all addresses; last error: "
    "UNAVAILABLE: ipv4:127.0.0.1:50051: Connection refused",
)


class FakeTime:
    """A monotonic clock that moves only when the agent sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def retrying(minutes: float, time: FakeTime) -> Retrying:
    return Retrying("127.0.0.1:50051", minutes, clock=time.clock, sleep=time.sleep)


def test_a_registry_back_within_the_budget_is_answered_and_each_retry_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    time = FakeTime()
    outcomes: list[object] = [REFUSED, REFUSED, REFUSED, "the checkpoint"]

    def attempt() -> object:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Failure):
            raise outcome
        return outcome

    assert retrying(15, time).call(attempt, "to give its checkpoint") == "the checkpoint"
    assert len(time.slept) == 3
    retries = [r for r in caplog.records if hasattr(r, "next_attempt_at")]
    assert [getattr(r, "attempt") for r in retries] == [1, 2, 3]
    assert (
        "the registry at 127.0.0.1:50051 failed to give its checkpoint (UNAVAILABLE"
        in retries[0].getMessage()
    )
    assert "retry budget 15 minutes" in retries[0].getMessage()


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.RESOURCE_EXHAUSTED,  # a batch too large
        grpc.StatusCode.INTERNAL,
    ],
)
def test_a_refusal_ends_at_the_first_attempt(code: grpc.StatusCode) -> None:
    time = FakeTime()
    refusal = Failure(code, "refused")
    with pytest.raises(Failure) as raised:
        retrying(15, time).failed(refusal, "to give its checkpoint")
    assert raised.value is refusal
    assert time.slept == []


@pytest.mark.parametrize(
    "details",
    [
        "Ssl handshake failed: SSL_ERROR_SSL: error:1000007d:SSL routines:"
        "OPENSSL_internal:CERTIFICATE_VERIFY_FAILED",
        "Custom verification check failed with error: UNAUTHENTICATED: Hostname Verification "
        "Check failed.",
    ],
)
def test_a_registry_certificate_the_agent_cannot_trust_is_not_waited_out(details: str) -> None:
    assert not is_transient(Failure(grpc.StatusCode.UNAVAILABLE, details))


@pytest.mark.parametrize(
    "code",
    [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED],
)
def test_an_outage_a_timeout_and_a_lost_race_are_tried_again(code: grpc.StatusCode) -> None:
    assert is_transient(Failure(code, "Connection refused"))


def test_a_registry_down_for_the_whole_budget_is_given_up_on_at_its_end() -> None:
    time = FakeTime()
    attempts = retrying(15, time)
    with pytest.raises(RetryBudgetSpent) as spent:
        while True:
            attempts.failed(REFUSED, "to give its checkpoint")
    assert spent.value.error is REFUSED
    assert spent.value.attempts == len(time.slept) + 1
    # The last attempt is made when the budget ends, not a delay before or after it.
    assert time.now == 15 * 60


def test_an_answer_gives_the_next_outage_the_whole_budget_again() -> None:
    time = FakeTime()
    attempts = retrying(1, time)
    for _ in range(5):
        attempts.failed(REFUSED, "to acknowledge the batch from seq 1")
    outage_began = time.now
    attempts.answered()
    with pytest.raises(RetryBudgetSpent):
        while True:
            attempts.failed(REFUSED, "to acknowledge the batch from seq 1001")
    assert time.now == outage_began + 60


def test_a_budget_of_zero_tries_once() -> None:
    with pytest.raises(RetryBudgetSpent) as spent:
        retrying(0, FakeTime()).failed(REFUSED, "to give its checkpoint")
    assert spent.value.attempts == 1


def test_waits_double_with_jitter_up_to_the_cap() -> None:
    for attempt in range(1, 30):
        ceiling = min(MAX_DELAY_SECONDS, 0.5 * 2 ** (attempt - 1))
        waits = {backoff(attempt) for _ in range(20)}
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
        assert len(waits) > 1, "agents that failed together must not retry together"


def write_config(home: Path, extra: str = "") -> None:
    home.mkdir()
    (home / agent_config.CONFIG).write_text(
        'institution_id = "uk.ac.forth"\nname = "Forth"\ncountry = "GB"\n' + extra
    )


def test_the_retry_budget_is_15_minutes_unless_agent_toml_or_the_environment_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNC_AGENT_RETRY_MINUTES", raising=False)
    write_config(tmp_path / "default")
    assert agent_config.load(tmp_path / "default").retry_minutes == 15
    write_config(tmp_path / "file", "retry_minutes = 45\n")
    assert agent_config.load(tmp_path / "file").retry_minutes == 45
    monkeypatch.setenv("SYNC_AGENT_RETRY_MINUTES", "2.5")
    assert agent_config.load(tmp_path / "file").retry_minutes == 2.5


@pytest.mark.parametrize(
    ("setting", "variable", "named"),
    [
        ("retry_minutes = -1\n", "", "agent.toml: setting 'retry_minutes' = -1"),
        ('retry_minutes = "soon"\n', "", "agent.toml: setting 'retry_minutes' = 'soon'"),
        ("retry_minutes = true\n", "", "agent.toml: setting 'retry_minutes' = True"),
        ("", "1441", "SYNC_AGENT_RETRY_MINUTES = '1441'"),
        ("", "nan", "SYNC_AGENT_RETRY_MINUTES = 'nan'"),
    ],
)
def test_a_wrong_retry_budget_is_named_with_its_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, variable: str, named: str
) -> None:
    monkeypatch.setenv("SYNC_AGENT_RETRY_MINUTES", variable)
    write_config(tmp_path / "agent", setting)
    with pytest.raises(agent_config.ConfigError) as error:
        agent_config.load(tmp_path / "agent")
    assert named in str(error.value)
    assert "is not a number of minutes from 0 to 1440; give how long a sync keeps trying" in str(
        error.value
    )


def test_a_wrong_retry_minutes_option_is_named_before_anything_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(tmp_path / "agent")
    assert main(["--home", str(tmp_path / "agent"), "sync", "--retry-minutes", "forever"]) == 1
    assert (
        "sync-agent: --retry-minutes = 'forever' is not a number of minutes"
        in capsys.readouterr().err
    )
