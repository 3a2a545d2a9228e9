"""Where a ResolveTransfer call's CPU goes, process by process, against the bare grpc.aio echo
server (anchor) in the same run: 16 calls in flight for some seconds each, CPU time read from
/proc (Linux) for the server's process, each of its worker processes, and the benchmark's
client. When the cores are full, throughput is the cores divided by the CPU a call takes in
all processes together, so this says which process to make cheaper.

    python -m bench.resolve_cpu [--database PATH] [--agreements 1000000] [--seconds 8]

Without --database it builds the synthetic network first (as bench.resolve does; about a
minute for 1,000,000 agreements).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc

from bench.common import line
from bench.resolve import echo_and_registry, hammer, load, network, questions
from registry.v1 import equivalence_pb2_grpc


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> dict[str, int]:
    """A process's children by the module each runs (python -m MODULE)."""
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        argv = Path(f"/proc/{child}/cmdline").read_bytes().decode().split("\0")
        name = argv[argv.index("-m") + 1] if "-m" in argv else argv[0]
        found[name.rsplit(".", 1)[-1]] = int(child)
    return found


async def measure(
    server: int, call: Callable[[Any], Awaitable[object]], payloads: list[Any], seconds: float
) -> tuple[float, dict[str, float]]:
    """Calls per second, and ms of CPU a call for the server, each child and the client."""
    await hammer(call, payloads, 1)  # warm up
    pids = {"server": server, **children(server)}
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    client_before = time.process_time()
    rate, _ = await hammer(call, payloads, seconds)
    calls = rate * seconds
    per_call = {
        name: (cpu_seconds(pid) - before[name]) / calls * 1000 for name, pid in pids.items()
    }
    per_call["client"] = (time.process_time() - client_before) / calls * 1000
    return rate, per_call


def report(name: str, rate: float, per_call: dict[str, float]) -> float:
    total = sum(per_call.values())
    parts = ", ".join(f"{who} {ms:.3f}" for who, ms in per_call.items())
    line(name, f"{rate:>7,.0f} calls/s; CPU ms a call: {total:.3f} ({parts})")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", type=Path, help="a network bench.resolve built")
    parser.add_argument("--agreements", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-resolve-cpu-"))
    shape = network(args.agreements)
    database = args.database or work / "network.db"
    if args.database is None:
        load(f"sqlite:///{database}", shape)
    requests = questions(shape, 500, 1)
    with echo_and_registry(work, f"sqlite:///{database}") as (
        (echo, echo_address),
        (registry, address),
    ):

        async def run() -> tuple[tuple[float, dict[str, float]], tuple[float, dict[str, float]]]:
            async with (
                grpc.aio.insecure_channel(echo_address) as e,
                grpc.aio.insecure_channel(address) as r,
            ):
                echo_call: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = e.unary_unary(
                    "/bench.Echo/Echo"
                )
                stub = equivalence_pb2_grpc.EquivalenceServiceStub(r)
                echoed = await measure(
                    echo.pid,
                    lambda p: echo_call(p, timeout=30),
                    [q.SerializeToString() for q in requests],
                    args.seconds,
                )
                resolved = await measure(
                    registry.pid,
                    lambda q: stub.ResolveTransfer(q, timeout=30),
                    requests,
                    args.seconds,
                )
                return echoed, resolved

        (echo_rate, echo_cpu), (rate, cpu) = asyncio.run(run())
    print(
        f"CPU a call, {args.seconds:.0f} s each, 16 calls in flight, "
        f"{os.cpu_count()} cores (network of {shape.agreements:,} agreements, direct)"
    )
    anchor = report("anchor: bare grpc.aio echo server", echo_rate, echo_cpu)
    ours = report("ResolveTransfer (registry, its query workers)", rate, cpu)
    line(
        "CPU a call, anchor / registry",
        f"{anchor / ours:.2f}x (throughput's ceiling "
        f"when the cores are full); measured throughput {rate / echo_rate:.2f}x",
    )


if __name__ == "__main__":
    main()
