"""When the registry cannot be reached: which failures are worth another attempt, how long
the agent keeps trying, and what it says meanwhile and in the end.

A registry restarting during the nightly window is unreachable for seconds to minutes, so a
sync keeps trying for a budget of minutes (retry_minutes) rather than giving up at once and
costing the institution a night. A refusal (INVALID_ARGUMENT, PERMISSION_DENIED, a batch too
large...) or a certificate the agent cannot trust is an answer: no number of attempts changes
it, so it ends the sync at the first attempt.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import grpc

from registry_core.wording import counted
from sync_agent.client import RECONNECT_MAX_SECONDS, Registry

log = logging.getLogger("sync_agent")
T = TypeVar("T")

# Nothing was applied and the same call may succeed later: the registry is down or
# restarting (UNAVAILABLE, which is also how a refused connection reaches the agent), it
# did not answer in time (DEADLINE_EXCEEDED), or its database lost a race (ABORTED).
TRANSIENT = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED}
)
FIRST_DELAY_SECONDS = 0.5
# The longest wait between attempts, the channel's own reconnection backoff's too: after a
# long outage a registry that is back is noticed within this long.
MAX_DELAY_SECONDS = RECONNECT_MAX_SECONDS


# How gRPC says the agent could not trust the registry's certificate: a setting to mend,
# not an outage to wait out.
HOSTNAME_REFUSED = ("hostname verification", "peer name")
CA_REFUSED = ("certificate_verify_failed", "unknown ca")


def _says(details: str, markers: tuple[str, ...]) -> bool:
    said = details.lower()
    return any(marker in said for marker in markers)


def is_transient(error: grpc.RpcError) -> bool:
    """Whether another attempt of the same call may succeed."""
    return error.code() in TRANSIENT and not _says(
        error.details() or "", HOSTNAME_REFUSED + CA_REFUSED
    )


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt number attempt (from 1): doubling from
    FIRST_DELAY_SECONDS up to MAX_DELAY_SECONDS, of which a random half, so agents that
    failed together (a registry restart fails them all) do not retry together."""
    ceiling = min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2.0 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


class RetryBudgetSpent(Exception):
    """The registry stayed unreachable for the whole retry budget."""

    def __init__(self, error: grpc.RpcError, attempts: int, minutes: float) -> None:
        super().__init__(f"unreachable after {attempts} attempts over {minutes:g} minutes")
        self.error, self.attempts, self.minutes = error, attempts, minutes


@dataclass
class Retrying:
    """A sync's attempts at the registry. After a transient failure it waits and the caller
    tries again, until the registry has been unreachable for `minutes` in a row; an answer
    starts the count again, so each outage has the whole budget."""

    address: str
    minutes: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _since: float | None = field(default=None, init=False)
    _attempts: int = field(default=0, init=False)

    def answered(self) -> None:
        self._since, self._attempts = None, 0

    def failed(self, error: grpc.RpcError, doing: str) -> None:
        """Wait before the next attempt at what failed (doing, in words, for the log). Raises
        error itself when it is not transient, RetryBudgetSpent when the budget is spent."""
        if not is_transient(error):
            raise error
        now = self.clock()
        if self._since is None:
            self._since = now
        self._attempts += 1
        left = self._since + self.minutes * 60 - now
        if left <= 0:
            raise RetryBudgetSpent(error, self._attempts, self.minutes)
        delay = min(backoff(self._attempts), left)
        next_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
        give_up_at = next_at + dt.timedelta(seconds=left - delay)
        log.warning(
            "the registry at %s failed %s (%s: %s); attempt %d, the next at %s "
            "(in %.1f s); retrying until %s (retry budget %g minutes)",
            self.address,
            doing,
            error.code().name,
            error.details(),
            self._attempts,
            next_at.isoformat(timespec="seconds"),
            delay,
            give_up_at.isoformat(timespec="seconds"),
            self.minutes,
            extra={
                "next_attempt_at": next_at.isoformat(timespec="seconds"),
                "attempt": self._attempts,
            },
        )
        self.sleep(delay)

    def call(self, attempt: Callable[[], T], doing: str) -> T:
        """attempt's answer, trying again after each transient failure."""
        while True:
            try:
                answer = attempt()
            except grpc.RpcError as error:
                self.failed(error, doing)
                continue
            self.answered()
            return answer


def explain(
    error: grpc.RpcError, client: Registry | None = None, doing: str = "the request"
) -> str:
    """A failed call in words, with what to do; with the client, which address was dialled,
    where that address came from, and what failed on the way. doing names what was refused
    ("the sync", "the question")."""
    code = error.code()
    if code == grpc.StatusCode.UNAVAILABLE:
        if client is None:
            return (
                "the registry is unreachable; check the registry address in agent.toml "
                "and the network, then sync again (nothing was lost)"
            )
        then = (
            "nothing was lost, sync again once it is mended"
            if doing == "the sync"
            else "ask again once it is mended"
        )
        return (
            f"the registry at {client.address} (from {address_source(client)}) is "
            f"unreachable: "
            f"{why_unreachable(error.details() or '', client.address, client.uses_tls)}; {then}"
        )
    return f"the registry refused {doing} ({code.name}): {error.details()}"


def explain_spent(spent: RetryBudgetSpent, client: Registry) -> str:
    """The registry unreachable for the whole budget, in words: where, why, for how long."""
    details = spent.error.details() or ""
    why = (
        f"{spent.error.code().name}: {details}"
        if spent.error.code() == grpc.StatusCode.ABORTED
        else why_unreachable(details, client.address, client.uses_tls)
    )
    return (
        f"the registry at {client.address} (from {address_source(client)}) is "
        f"unreachable: {why}; it stayed so for the whole retry budget of "
        f"{spent.minutes:g} minutes ({counted(spent.attempts, 'attempt')}; retry_minutes "
        "in agent.toml, SYNC_AGENT_RETRY_MINUTES or sync --retry-minutes); nothing was "
        "lost, the next sync continues from the registry's checkpoint"
    )


def address_source(client: Registry) -> str:
    return (
        "SYNC_AGENT_REGISTRY"
        if os.environ.get("SYNC_AGENT_REGISTRY") == client.address
        else "agent.toml's registry setting"
    )


@dataclass(frozen=True)
class TLSSettings:
    """Where a caller's TLS files are set, named in the advice (the agent's by default; the
    partner's command has its own options)."""

    caller: str = "this agent"
    ca: str = "[tls] ca (or SYNC_AGENT_TLS_CA)"
    pair: str = "[tls] certificate and private_key"
    enable: str = "run `sync-agent tls` with the network's CA and this institution's certificate"


AGENT_TLS = TLSSettings()


def why_unreachable(
    details: str, address: str, uses_tls: bool, settings: TLSSettings = AGENT_TLS
) -> str:
    """What gRPC's connection failure says, in words an institution's IT team (or a
    partner's) acts on."""
    said = details.lower()
    host = address.rsplit(":", 1)[0]
    if _says(said, HOSTNAME_REFUSED):
        return (
            f"its certificate does not name {host}; dial it by a name its certificate "
            "carries (the network operator's `registry_server.pki server --host`)"
        )
    if _says(said, CA_REFUSED):
        return (
            f"its certificate is not signed by the CA {settings.caller} trusts; check "
            f"{settings.ca} is the network's CA certificate"
        )
    if "socket closed" in said or "connection reset" in said:
        if not uses_tls:
            return (
                f"it closed the connection: it most likely requires mutual TLS, and "
                f"{settings.caller} has none; {settings.enable}"
            )
        return (
            f"it closed the connection during the TLS handshake: most likely it does not "
            f"accept {settings.caller}'s certificate (not issued by the network's CA, or "
            f"expired); check {settings.pair}"
        )
    if "connection refused" in said:
        return "nothing listens there; check the address and port, and that it is running"
    if "dns" in said or "name resolution" in said or "resolve" in said:
        return f"the host name {host} does not resolve; check the address"
    if "deadline" in said or "timeout" in said or "timed out" in said:
        return "it did not answer in time; check the network between here and the registry"
    return f"gRPC said: {details}"
