"""Resolution on a synthetic network (registry_core/synthetic.py, seeded):

1. ResolveTransfer throughput over gRPC at 16 concurrent calls, against a bare grpc.aio echo
   server in the same run (anchor), in alternating rounds; p50 and p99 latency.
2. The database part of a depth-3 transitive look-up, against a raw SQLite recursive CTE
   over the same edges (anchor).
3. Latency growth of ResolveTransfer from a small to a large network, for random learners
   (on the small network nearly all of their answers are empty) and for recognised learners
   (each holds the sources of two of the target's agreements, and random credentials up to
   five holdings), and for recognised learners whose other credentials the target does not
   recognise, so that answers on both networks are nearly the same size. As a serving
   query worker sees it: each network's connection stays open, and every round asks new
   questions.

    python -m bench.resolve [--small 10000] [--large 1000000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import psycopg
from sqlalchemy import Engine, text

from bench.common import line, start_registry
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import equivalence_pb2_grpc
from registry.v1 import records_pb2 as rec
from registry_core import synthetic
from registry_core.records import Record, agreement_edges
from registry_server import bulk, equivalence
from registry_server.db import make_engine, reading, upgrade, writing
from registry_server.tables import AgreementEdge, PublishedRecord

CONCURRENCY = 16
Servers = tuple[subprocess.Popen[bytes], str]  # a server's process and its address
ROUNDS = 5  # of the throughput measurement
# Of the direct latency-growth measurement: a round (300 questions on each network) takes
# well under a second, and single rounds' ratios range over ±25% on this shared machine.
GROWTH_ROUNDS = 11


def load(url: str, shape: synthetic.Shape) -> None:
    """Write the synthetic network straight into the tables (a loading shortcut: the ingest
    path has its own benchmark); 20,000 records per transaction."""
    engine = make_engine(url)
    upgrade(engine)
    stamp = dt.datetime.now(dt.UTC)

    def records() -> Iterator[tuple[int, Record]]:
        for i in range(shape.institutions):
            owner = synthetic.institution_id(i)
            for n in range(shape.credentials_per_institution):
                yield rec.RECORD_KIND_MICRO_CREDENTIAL, synthetic.credential(owner, n)
            for n in range(shape.modules_per_institution):
                yield rec.RECORD_KIND_LEARNING_UNIT, synthetic.module(owner, n)
        for agreement in synthetic.agreements(shape):
            yield rec.RECORD_KIND_AGREEMENT, agreement

    rows: list[tuple[object, ...]] = []
    edges: list[tuple[object, ...]] = []

    def flush() -> None:
        with writing(engine) as connection:
            ts = bulk.timestamp(connection, stamp)
            bulk.upsert(
                connection,
                PublishedRecord,
                ["institution_id", "kind", "key"],
                [r[:-1] + (ts,) for r in rows],
            )
            bulk.insert(connection, AgreementEdge, edges)
        rows.clear()
        edges.clear()

    for kind, record in records():
        rows.append(
            (
                record.institution_id,
                kind,
                record.key,
                1,
                record.status,
                0,
                0,
                record.SerializeToString(deterministic=True),
                None,
            )
        )
        if isinstance(record, rec.RecognitionAgreement):
            edges.extend(agreement_edges(record))
        if len(rows) >= 20_000:
            flush()
    flush()
    engine.dispose()


def learner(rng: random.Random, shape: synthetic.Shape) -> list[eq.Holding]:
    hubs = max(1, shape.institutions // 10)
    return [
        eq.Holding(
            credential=rec.CredentialRef(
                institution_id=synthetic.institution_id(
                    rng.randrange(hubs) if rng.random() < 0.5 else rng.randrange(shape.institutions)
                ),
                key=f"MC{rng.randrange(shape.credentials_per_institution):05}",
            ),
            award_date="2025-06-01",
            identity_verified=True,
        )
        for _ in range(5)
    ]


def questions(
    shape: synthetic.Shape, count: int, depth: int, seed: int = 7
) -> list[eq.ResolveTransferRequest]:
    rng = random.Random(seed)
    return [
        eq.ResolveTransferRequest(
            holdings=learner(rng, shape),
            target_institution_id=synthetic.institution_id(rng.randrange(shape.institutions)),
            max_depth=depth,
            as_of="2026-01-15",
        )
        for _ in range(count)
    ]


def recognised_questions(
    url: str,
    shape: synthetic.Shape,
    count: int,
    depth: int,
    seed: int = 17,
    unrecognised_fillers: bool = False,
) -> list[eq.ResolveTransferRequest]:
    """Questions from learners whose credentials the target does recognise: each holds the
    sources of two of the target's agreements, and random credentials up to five holdings.
    With unrecognised_fillers, those random credentials are ones no agreement of the target
    names: on the large network random ones match more of the target's agreements than on
    the small one (2.25 grants an answer against 1.94), so only then do both networks give
    answers of the same size, and the ratio is the network's growth alone.
    A random learner's question on the sparse small network finds nothing to grant, so the
    latency-growth figure would compare an empty answer with a full one; this one holds the
    answer's shape alike on both networks and measures what the issue asks about, the cost
    of a question as the network grows."""
    rng = random.Random(seed)
    per_publisher = max(1, shape.agreements // shape.institutions)
    engine = make_engine(url)
    db = engine.connect()
    asked = []
    for _ in range(count):
        target = synthetic.institution_id(rng.randrange(shape.institutions - 1))
        keys = [f"AG{rng.randrange(per_publisher):06}" for _ in range(2)]
        held = db.execute(
            text(
                "SELECT source_institution_id, source_key FROM agreement_edge WHERE "
                "institution_id = :target AND agreement_key IN (:a, :b) ORDER BY "
                "agreement_key, source_institution_id, source_key"
            ),
            {"target": target, "a": keys[0], "b": keys[1]},
        ).fetchall()[:5]
        holdings = [
            eq.Holding(
                credential=rec.CredentialRef(institution_id=i, key=k),
                award_date="2025-06-01",
                identity_verified=True,
            )
            for i, k in held
        ]
        for filler in learner(rng, shape):
            if len(holdings) == 5:
                break
            ref = (filler.credential.institution_id, filler.credential.key)
            if (
                unrecognised_fillers
                and db.execute(
                    text(
                        "SELECT 1 FROM agreement_edge WHERE institution_id = :target AND "
                        "source_institution_id = :i AND source_key = :k"
                    ),
                    {"target": target, "i": ref[0], "k": ref[1]},
                ).fetchone()
            ):
                continue
            holdings.append(filler)
        asked.append(
            eq.ResolveTransferRequest(
                holdings=holdings, target_institution_id=target, max_depth=depth, as_of="2026-01-15"
            )
        )
    db.close()
    engine.dispose()
    return asked


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def hammer(
    call: Callable[[Any], Awaitable[object]], payloads: Sequence[Any], seconds: float
) -> tuple[float, list[float]]:
    """Calls per second with CONCURRENCY calls in flight, and every call's latency."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        i = offset
        while time.perf_counter() < stop:
            start = time.perf_counter()
            await call(payloads[i % len(payloads)])
            latencies.append(time.perf_counter() - start)
            i += CONCURRENCY

    begin = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(CONCURRENCY)))
    return len(latencies) / (time.perf_counter() - begin), latencies


def network(agreements: int) -> synthetic.Shape:
    """The benchmarks' synthetic network: 200 institutions, 100,000 credentials."""
    return synthetic.Shape(
        institutions=200,
        credentials_per_institution=500,
        modules_per_institution=50,
        agreements=agreements,
    )


@contextmanager
def echo_and_registry(work: Path, url: str) -> Iterator[tuple[Servers, Servers]]:
    """The bare echo server (anchor) and a registry on url, both started and ready: each as
    (process, address); both stopped afterwards."""
    echo_port = work / "echo.port"
    echo_port.unlink(missing_ok=True)  # a previous run's, in a work directory used again
    echo = subprocess.Popen([sys.executable, "-m", "bench.echo_server", str(echo_port)])
    try:
        registry, address = start_registry(url, None, work / "registry.log")
    except BaseException:
        echo.terminate()
        raise
    try:
        while not echo_port.exists():
            time.sleep(0.05)
        yield (echo, f"127.0.0.1:{echo_port.read_text()}"), (registry, address)
    finally:
        echo.terminate()
        registry.terminate()
        echo.wait(10)
        registry.wait(30)


def throughput(
    work: Path, url: str, shape: synthetic.Shape, seconds: float, rounds: int = ROUNDS
) -> None:
    """Calls per second of the echo anchor and of the registry, in alternating rounds of
    seconds / rounds each (after a warm-up of both), so that drift on a shared machine, which
    moves either by a third within minutes, falls on both alike; the median round's ratio is
    reported, with the range."""
    with echo_and_registry(work, url) as ((_, echo_address), (_, address)):
        requests = questions(shape, 500, 1)

        async def run() -> list[tuple[float, float, list[float]]]:
            async with (
                grpc.aio.insecure_channel(echo_address) as e,
                grpc.aio.insecure_channel(address) as r,
            ):
                echo_call: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = e.unary_unary(
                    "/bench.Echo/Echo"
                )
                payloads = [q.SerializeToString() for q in requests]
                stub = equivalence_pb2_grpc.EquivalenceServiceStub(r)

                def echoed(span: float) -> Awaitable[tuple[float, list[float]]]:
                    return hammer(lambda p: echo_call(p, timeout=30), payloads, span)

                def resolved(span: float) -> Awaitable[tuple[float, list[float]]]:
                    return hammer(lambda q: stub.ResolveTransfer(q, timeout=30), requests, span)

                await echoed(1)
                await resolved(1)
                measured = []
                for round_ in range(rounds):
                    span = seconds / rounds
                    if round_ % 2 == 0:
                        (echo_rate, _), (rate, latencies) = await echoed(span), await resolved(span)
                    else:
                        (rate, latencies), (echo_rate, _) = await resolved(span), await echoed(span)
                    measured.append((echo_rate, rate, latencies))
                return measured

        measured = asyncio.run(run())
    ratios = sorted(measured, key=lambda m: m[1] / m[0])
    echo_rate, rate, _ = ratios[len(ratios) // 2]
    latencies = [latency for m in measured for latency in m[2]]
    print(
        f"ResolveTransfer over gRPC, {CONCURRENCY} calls in flight, {rounds} alternating "
        f"rounds of {seconds / rounds:.0f} s each (network of {shape.agreements:,} "
        "agreements, direct)"
    )
    line(
        "anchor: bare grpc.aio echo server, same request bytes (median round)",
        f"{echo_rate:>8,.0f} calls/s",
    )
    line(
        "ResolveTransfer (median round)",
        f"{rate:>8,.0f} calls/s  = {rate / echo_rate:.2f}x the anchor (rounds "
        f"{ratios[0][1] / ratios[0][0]:.2f}x-{ratios[-1][1] / ratios[-1][0]:.2f}x)",
    )
    line(
        "ResolveTransfer latency p50 / p99 (all rounds)",
        f"{percentile(latencies, 0.5) * 1000:.1f} ms / {percentile(latencies, 0.99) * 1000:.1f} ms",
    )


def recursive_cte(url: str, requests: list[eq.ResolveTransferRequest]) -> float:
    """Anchor: median seconds of one raw recursive CTE per question over agreement_edge, on
    the driver's own connection (sqlite3 or psycopg), no SQLAlchemy in between."""
    postgresql = url.startswith("postgresql")
    target = "%(target)s" if postgresql else ":target"
    sql = f"""
        WITH RECURSIVE reach(institution_id, key, depth) AS (
            SELECT column1, column2, 0 FROM (VALUES {{held}}) AS held
            UNION
            SELECT e.institution_id, e.grant_unit_key, r.depth + 1
            FROM agreement_edge e JOIN reach r
              ON e.source_institution_id = r.institution_id AND e.source_key = r.key
            WHERE r.depth < 2 AND e.transitive_allowed AND e.status = 2 AND e.grant_unit_key != ''
              AND e.institution_id != {target})
        SELECT DISTINCT e.institution_id, e.agreement_key FROM agreement_edge e JOIN reach r
          ON e.source_institution_id = r.institution_id AND e.source_key = r.key
        WHERE e.institution_id = {target} OR (e.transitive_allowed AND r.depth < 2)"""
    if postgresql:
        db: Any = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    else:
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
    times = []
    for request in requests:
        held = ", ".join(
            f"('{h.credential.institution_id}', '{h.credential.key}')" for h in request.holdings
        )
        start = time.perf_counter()
        cursor = db.cursor()
        cursor.execute(sql.format(held=held), {"target": request.target_institution_id})
        cursor.fetchall()
        times.append(time.perf_counter() - start)
        if postgresql:
            db.rollback()  # ends the statement's transaction: one snapshot a question
    db.close()
    return statistics.median(times)


def depth3(url: str, shape: synthetic.Shape) -> None:
    requests = questions(shape, 300, 3, seed=11)
    anchor = recursive_cte(url, requests)
    engine = make_engine(url)
    times = []
    for request in requests:
        held = [(h.credential.institution_id, h.credential.key) for h in request.holdings]
        start = time.perf_counter()
        with reading(engine) as reads:
            equivalence.candidate_agreements(reads, request.target_institution_id, held, 3)
        times.append(time.perf_counter() - start)
    engine.dispose()
    ours = statistics.median(times)
    print(f"Depth-3 transitive look-up, database part, median of {len(requests)} questions")
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    line(f"anchor: raw {backend} recursive CTE over agreement_edge", f"{anchor * 1000:7.3f} ms")
    line(
        "registry: candidate_agreements (reach, walk back, payloads)",
        f"{ours * 1000:7.3f} ms  = {ours / anchor:.2f}x the anchor's latency",
    )


def resolve_latency(
    engine: Engine,
    requests: list[eq.ResolveTransferRequest],
) -> tuple[float, float]:
    """Median latency in process, and the mean number of grants per answer."""
    times, grants = [], 0
    for request in requests:
        start = time.perf_counter()
        answer = equivalence.resolve_transfer(engine, request)
        times.append(time.perf_counter() - start)
        grants += len(answer.grants)
    return statistics.median(times), grants / len(requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument(
        "--seconds",
        type=float,
        default=20,
        help="of each side's throughput measurement, over all rounds",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-resolve-"))
    small, large = network(args.small), network(args.large)
    urls = {}
    for name, shape in (("small", small), ("large", large)):
        urls[name] = f"sqlite:///{work / name}.db"
        started = time.perf_counter()
        load(urls[name], shape)
        print(
            f"(loaded the {name} network, {shape.agreements:,} agreements, in "
            f"{time.perf_counter() - started:.0f} s)"
        )
    throughput(work, urls["large"], large, args.seconds)
    depth3(urls["large"], large)
    latency_growth(urls, small, large)


def latency_growth(urls: dict[str, str], small: synthetic.Shape, large: synthetic.Shape) -> None:
    """In-process ResolveTransfer latency on the large network against the small one, as a
    serving query worker sees it: each network's engine (and so its connection, with the
    database file mapped into memory) is warmed as a worker warms its own at start
    (equivalence.warm) and stays open through the rounds, as a worker's does, after a
    round of questions of their own. Every round asks questions not asked before (a new
    seed), so no round is answered from what the same question left in the caches."""
    print(
        f"ResolveTransfer latency in process, {small.agreements:,} vs {large.agreements:,} "
        "agreements (medians of 300 questions)"
    )
    shapes = {"small": small, "large": large}
    for depth, rounds in ((1, GROWTH_ROUNDS), (3, 1)):
        askers: list[
            tuple[str, Callable[[str, synthetic.Shape, int], list[eq.ResolveTransferRequest]]]
        ] = [
            ("random learners", lambda url, shape, seed: questions(shape, 300, depth, seed=seed)),
            (
                "recognised learners",
                lambda url, shape, seed: recognised_questions(url, shape, 300, depth, seed=seed),
            ),
            (
                "recognised, unrecognised fillers",
                lambda url, shape, seed: recognised_questions(
                    url, shape, 300, depth, seed=seed, unrecognised_fillers=True
                ),
            ),
        ]
        for who, ask in askers:
            engines = {n: make_engine(urls[n]) for n in shapes}
            for engine in engines.values():
                equivalence.warm(engine)
            ratios = []
            for round_ in range(rounds + 1):  # round 0 warms the engines up
                asked = {n: ask(urls[n], shapes[n], 1000 + round_) for n in shapes}
                # Alternating which network goes first, so drift on a shared machine does not
                # favour one side; the median round is reported, with the range.
                order = ("small", "large") if round_ % 2 == 0 else ("large", "small")
                measured = {n: resolve_latency(engines[n], asked[n]) for n in order}
                if round_ > 0:
                    ratios.append((measured["large"][0] / measured["small"][0], measured))
            for engine in engines.values():
                engine.dispose()
            ratios.sort(key=lambda r: r[0])
            ratio, measured = ratios[len(ratios) // 2]
            spread = f", rounds {ratios[0][0]:.2f}x-{ratios[-1][0]:.2f}x" if rounds > 1 else ""
            line(
                f"depth {depth}, {who}: small (anchor) / large",
                f"{measured['small'][0] * 1000:.2f} ms / {measured['large'][0] * 1000:.2f} ms "
                f"= {ratio:.2f}x{spread}  (grants per answer {measured['small'][1]:.2f} / "
                f"{measured['large'][1]:.2f})",
            )


if __name__ == "__main__":
    main()
