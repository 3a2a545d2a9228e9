"""Mixed load: do partners' cheap questions stay quick while everything else happens at once?

A registry process on loopback serves a synthetic network. The anchor is the p99 latency of
a partner's cheap questions (direct ResolveTransfer, five holdings) asked one after another
on the idle registry, measured first in the same run. Then, all at once, each on its own
connection (a development registry counts each connection as a caller):

- 20 agents publish their catalogues in signed batches, back to back, through the whole
  loaded phase (25,000 records each by default; the report says if they finished early);
- 3 partners ask costly questions (chains of 3 links) back to back;
- one abusive client keeps 40 of the largest chain questions the budget allows in flight,
  and sends questions beyond the budget;

and the same cheap questions are asked again. The figure is the cheap questions' loaded p99
over their unloaded p99 (goal: at most 3x), with the rest reported: what was published,
what the costly partners got, what the abusive client was refused.

The other callers run in a process of their own, so that the cheap questions' client is
alone in its process. Bounded and self-stopping: the loaded phase ends when the cheap
questions are answered, and the other callers then stop.

    python -m bench.mixed_load [--agreements 50000] [--cheap 500] [--records 25000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import grpc

from bench.common import credential, line, start_registry
from bench.ingest import signed_batches
from bench.resolve import load, percentile, questions
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import equivalence_pb2_grpc, publication_pb2_grpc
from registry.v1 import publication_pb2 as pub
from registry_core import synthetic
from registry_core.envelope import Ed25519Signer
from registry_server import directory
from registry_server.db import make_engine

AGENTS = 20
COSTLY_PARTNERS = 3
ABUSIVE_IN_FLIGHT = 40
GOAL = 3.0
PACE = 0.01  # a partner's admissions system asking a hundred direct questions a second


def channel(address: str) -> grpc.Channel:
    """A connection of its own (gRPC would otherwise share one between channels)."""
    return grpc.insecure_channel(address, [("grpc.use_local_subchannel_pool", 1)])


def enrol_agents(url: str, records: int) -> list[list[pub.SignedEnvelope]]:
    """AGENTS institutions enrolled with keys, and each one's catalogue as signed batches."""
    engine = make_engine(url)
    catalogues = []
    for n in range(AGENTS):
        institution = f"uk.ac.agent{n:02}"
        signer = Ed25519Signer.generate()
        directory.enrol(engine, institution, f"Agent {n}", "GB", signer.public_key)
        catalogues.append(
            signed_batches(
                institution, [credential(institution, i) for i in range(records)], signer
            )
        )
    engine.dispose()
    return catalogues


def cheap_latencies(address: str, asked: list[eq.ResolveTransferRequest]) -> list[float]:
    """Each question's latency, asked one after another at a partner's pace (one every
    PACE seconds at most)."""
    with channel(address) as ch:
        stub = equivalence_pb2_grpc.EquivalenceServiceStub(ch)
        latencies = []
        for question in asked:
            start = time.perf_counter()
            stub.ResolveTransfer(question, timeout=60)
            latencies.append(time.perf_counter() - start)
            time.sleep(max(0.0, PACE - latencies[-1]))
        return latencies


class Load:
    """The other callers, each in its own thread; counts what each got."""

    def __init__(
        self, address: str, shape: synthetic.Shape, catalogues: list[list[pub.SignedEnvelope]]
    ) -> None:
        self.address = address
        self.shape = shape
        self.catalogues = catalogues
        self.stop = threading.Event()
        self.counts: Counter[str] = Counter()
        self.last_published = 0.0  # time.time() of the last acknowledged batch
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._agent, args=(batches,)) for batches in catalogues
        ]
        self.threads += [
            threading.Thread(target=self._costly, args=(seed,)) for seed in range(COSTLY_PARTNERS)
        ]
        self.threads.append(threading.Thread(target=self._abusive))

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(120)

    def _agent(self, batches: list[pub.SignedEnvelope]) -> None:
        with channel(self.address) as ch:
            stub = publication_pb2_grpc.PublicationServiceStub(ch)
            for envelope in batches:
                if self.stop.is_set():
                    return
                try:
                    stub.Publish(pub.PublishRequest(envelope=envelope), timeout=120)
                    self.count("batches published")
                    self.last_published = max(self.last_published, time.time())
                except grpc.RpcError as error:
                    self.count(f"publish {error.code().name}")

    def _costly(self, seed: int) -> None:
        asked = questions(self.shape, 200, 3, seed=100 + seed)
        with channel(self.address) as ch:
            stub = equivalence_pb2_grpc.EquivalenceServiceStub(ch)
            for question in itertools.cycle(asked):
                if self.stop.is_set():
                    return
                try:
                    stub.ResolveTransfer(question, timeout=120)
                    self.count("costly answered")
                except grpc.RpcError as error:
                    self.count(f"costly {error.code().name}")

    def _abusive(self) -> None:
        rng = random.Random(99)
        largest = eq.ResolveTransferRequest(
            holdings=[h for q in questions(self.shape, 40, 5, seed=5) for h in q.holdings][:200],
            target_institution_id=synthetic.institution_id(rng.randrange(self.shape.institutions)),
            max_depth=5,
            as_of="2026-01-15",
        )
        beyond = eq.ResolveTransferRequest(
            holdings=[*largest.holdings, *largest.holdings],
            target_institution_id=largest.target_institution_id,
            max_depth=5,
        )
        with channel(self.address) as ch:
            stub = equivalence_pb2_grpc.EquivalenceServiceStub(ch)
            in_flight: list[grpc.Future[eq.ResolveTransferResponse]] = []
            while not self.stop.is_set():
                while len(in_flight) < ABUSIVE_IN_FLIGHT:
                    in_flight.append(stub.ResolveTransfer.future(largest, timeout=120))
                    in_flight.append(stub.ResolveTransfer.future(beyond, timeout=120))
                done = in_flight.pop(0)
                try:
                    done.result()
                    self.count("abusive answered")
                except grpc.RpcError as error:
                    self.count(f"abusive {error.code().name}")
            for future in in_flight:
                future.cancel()


def run_load(address: str, url: str, shape: synthetic.Shape, records: int) -> None:
    """The load process: prepare, say "ready", start on "go", stop on "stop" (or the end of
    its input), then print what each caller got as JSON. A process of its own, so that its
    threads' share of Python's lock never counts in the cheap questions' latency."""
    catalogues = enrol_agents(url, records)
    print("ready", flush=True)
    sys.stdin.readline()
    with Load(address, shape, catalogues) as running:
        sys.stdin.readline()
    print(
        json.dumps({"counts": running.counts, "last_published": running.last_published}), flush=True
    )


def shape_of(agreements: int) -> synthetic.Shape:
    return synthetic.Shape(
        institutions=50,
        credentials_per_institution=200,
        modules_per_institution=20,
        agreements=agreements,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agreements", type=int, default=50_000)
    parser.add_argument("--cheap", type=int, default=500, help="cheap questions per phase")
    parser.add_argument("--records", type=int, default=25_000, help="each agent's catalogue")
    parser.add_argument("--load", nargs=2, metavar=("ADDRESS", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    shape = shape_of(args.agreements)
    if args.load:
        run_load(args.load[0], args.load[1], shape, args.records)
        return
    with tempfile.TemporaryDirectory(prefix="bench-mixed-") as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'registry.db'}"
        load(url, shape)
        process, address = start_registry(url, None, work / "registry.log")
        others = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.mixed_load",
                "--agreements",
                str(args.agreements),
                "--records",
                str(args.records),
                "--load",
                address,
                url,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert others.stdin is not None and others.stdout is not None
        try:
            if others.stdout.readline().strip() != "ready":
                raise SystemExit("the load process did not start")
            cheap = questions(shape, args.cheap, 1, seed=1)
            cheap_latencies(address, cheap[:50])  # warm-up
            unloaded = cheap_latencies(address, cheap)
            others.stdin.write("go\n")
            others.stdin.flush()
            time.sleep(2)  # every caller under way
            loaded_from = time.time()
            loaded = cheap_latencies(address, cheap)
            loaded_until = time.time()
            others.stdin.write("stop\n")
            others.stdin.flush()
            got = json.loads(others.stdout.readline() or "{}")
            others.wait(120)
        finally:
            others.kill()
            process.terminate()
            process.wait(30)
    base, under = percentile(unloaded, 0.99), percentile(loaded, 0.99)
    print(
        f"mixed load: {AGENTS} agents publishing, {COSTLY_PARTNERS} partners asking chains, "
        f"one client keeping {ABUSIVE_IN_FLIGHT}+ costly questions in flight"
    )
    line(
        "cheap questions, unloaded p50 / p99 (anchor)",
        f"{percentile(unloaded, 0.5) * 1e3:.1f} / {base * 1e3:.1f} ms",
    )
    line(
        f"cheap questions, loaded p50 / p99 ({len(loaded)} asked)",
        f"{percentile(loaded, 0.5) * 1e3:.1f} / {under * 1e3:.1f} ms",
    )
    line(
        "loaded p99 / anchor p99 (goal at most 3x)",
        f"{under / base:.2f}x the anchor ({'met' if under / base <= GOAL else 'NOT met'})",
    )
    publishing = (min(got.get("last_published", 0.0), loaded_until) - loaded_from) / (
        loaded_until - loaded_from
    )
    line(
        "agents publishing through the loaded phase",
        f"{max(0.0, publishing):.0%} of it"
        + (" (ask fewer --cheap or more --records)" if publishing < 1 else ""),
    )
    for what, count in sorted(got.get("counts", {}).items()):
        line(what, str(count))


if __name__ == "__main__":
    main()
