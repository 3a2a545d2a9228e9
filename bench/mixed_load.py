"""Mixed load: do partners' cheap questions stay quick while everything else happens at once?

A registry process on loopback serves a synthetic network. The anchor is the p99 latency of
a partner's cheap questions (direct ResolveTransfer, five holdings) asked one after another
on the idle registry, measured first in the same run. Then, all at once, each on its own
connection (a development registry counts each connection as a caller):

- 20 agents publish their catalogues in signed batches;
- 3 partners ask costly questions (chains of 3 links) back to back;
- one abusive client keeps 40 of the largest chain questions the budget allows in flight,
  and sends questions beyond the budget;

and the same cheap questions are asked again. The figure is the cheap questions' loaded p99
over their unloaded p99 (goal: at most 3x), with the rest reported: what was published,
what the costly partners got, what the abusive client was refused.

Bounded and self-stopping: the loaded phase ends when the cheap questions are answered
(or after --seconds), and every thread then stops.

    python -m bench.mixed_load [--agreements 50000] [--cheap 300] [--seconds 120]
"""

from __future__ import annotations

import argparse
import random
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
        catalogues.append(signed_batches(
            institution, [credential(institution, i) for i in range(records)], signer))
    engine.dispose()
    return catalogues


def cheap_latencies(address: str, asked: list[eq.ResolveTransferRequest],
                    stop: threading.Event | None = None) -> list[float]:
    with channel(address) as ch:
        stub = equivalence_pb2_grpc.EquivalenceServiceStub(ch)
        latencies = []
        for question in asked:
            if stop is not None and stop.is_set():
                break
            start = time.perf_counter()
            stub.ResolveTransfer(question, timeout=60)
            latencies.append(time.perf_counter() - start)
        return latencies


class Load:
    """The other callers, each in its own thread; counts what each got."""

    def __init__(self, address: str, shape: synthetic.Shape,
                 catalogues: list[list[pub.SignedEnvelope]]) -> None:
        self.address = address
        self.shape = shape
        self.catalogues = catalogues
        self.stop = threading.Event()
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._agent, args=(batches,))
                        for batches in catalogues]
        self.threads += [threading.Thread(target=self._costly, args=(seed,))
                         for seed in range(COSTLY_PARTNERS)]
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
                except grpc.RpcError as error:
                    self.count(f"publish {error.code().name}")

    def _costly(self, seed: int) -> None:
        asked = questions(self.shape, 200, 3, seed=100 + seed)
        with channel(self.address) as ch:
            stub = equivalence_pb2_grpc.EquivalenceServiceStub(ch)
            for question in asked:
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
            target_institution_id=synthetic.institution_id(rng.randrange(
                self.shape.institutions)), max_depth=5, as_of="2026-01-15")
        beyond = eq.ResolveTransferRequest(holdings=[*largest.holdings, *largest.holdings],
                                           target_institution_id=largest.target_institution_id,
                                           max_depth=5)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agreements", type=int, default=50_000)
    parser.add_argument("--cheap", type=int, default=300, help="cheap questions per phase")
    parser.add_argument("--records", type=int, default=2_000, help="each agent's catalogue")
    parser.add_argument("--seconds", type=float, default=120, help="longest loaded phase")
    args = parser.parse_args()
    shape = synthetic.Shape(institutions=50, credentials_per_institution=200,
                            modules_per_institution=20, agreements=args.agreements)
    with tempfile.TemporaryDirectory(prefix="bench-mixed-") as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'registry.db'}"
        load(url, shape)
        catalogues = enrol_agents(url, args.records)
        process, address = start_registry(url, None, work / "registry.log")
        try:
            cheap = questions(shape, args.cheap, 1, seed=1)
            cheap_latencies(address, cheap[:50])  # warm-up
            unloaded = cheap_latencies(address, cheap)
            stop = threading.Event()
            timer = threading.Timer(args.seconds, stop.set)
            timer.start()
            with Load(address, shape, catalogues) as running:
                time.sleep(1)  # every caller under way
                loaded = cheap_latencies(address, cheap, stop)
            timer.cancel()
        finally:
            process.terminate()
            process.wait(30)
    base, under = percentile(unloaded, 0.99), percentile(loaded, 0.99)
    print(f"mixed load: {AGENTS} agents publishing, {COSTLY_PARTNERS} partners asking chains, "
          f"one client keeping {ABUSIVE_IN_FLIGHT}+ costly questions in flight")
    line("cheap questions, unloaded p50 / p99 (anchor)",
         f"{percentile(unloaded, 0.5) * 1e3:.1f} / {base * 1e3:.1f} ms")
    line(f"cheap questions, loaded p50 / p99 ({len(loaded)} asked)",
         f"{percentile(loaded, 0.5) * 1e3:.1f} / {under * 1e3:.1f} ms")
    line("loaded p99 / anchor p99 (goal at most 3x)",
         f"{under / base:.2f}x the anchor ({'met' if under / base <= GOAL else 'NOT met'})")
    for what, count in sorted(running.counts.items()):
        line(what, str(count))


if __name__ == "__main__":
    main()
