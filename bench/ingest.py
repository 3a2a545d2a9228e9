"""Ingest on SQLite: the registry's store write and the whole pipeline, against a raw
sqlite3 executemany upsert of the same rows (the anchor), measured in one run; the whole
pipeline in three rounds, each paired with an anchor run just before it.

    python -m bench.ingest [--records 100000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine

from bench.common import (
    client_tls,
    credential,
    line,
    make_pki,
    raw_sqlite_upsert,
    record_rows,
    start_registry,
    timed,
)
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core.batch import batch_payload
from registry_core.envelope import Ed25519Signer, next_head, seal
from registry_server import acceptance, directory, publication
from registry_server.db import make_engine, upgrade, writing
from registry_server.publication import TransactionState
from sync_agent.client import RegistryClient
from sync_agent.store import AgentStore
from sync_agent.sync import sync

BATCH = 1000
E2E_ROUNDS = 3


def signed_batches(
    institution: str, records: list[rec.MicroCredential], signer: Ed25519Signer
) -> list[pub.SignedEnvelope]:
    envelopes, head = [], ""
    for start in range(0, len(records), BATCH):
        chunk = records[start : start + BATCH]
        header = pub.Batch(
            institution_id=institution,
            first_seq=start + 1,
            last_seq=start + len(chunk),
            prev_head=head,
        )
        payload = batch_payload(
            header,
            [
                pub.RecordChange(seq=start + 1 + i, micro_credential=r).SerializeToString()
                for i, r in enumerate(chunk)
            ],
        )
        envelopes.append(seal(payload, signer))
        head = next_head(head, payload)
    return envelopes


def store_write(engine: Engine, envelopes: Sequence[pub.SignedEnvelope]) -> float:
    """Seconds applying the batches as the registry does and committing them (on SQLite
    with its checkpoints on commit, as the anchors have them); acceptance, in the same
    transaction, is not counted."""
    total = 0.0
    for envelope in envelopes:
        with writing(engine) as connection:
            publication._lock_log(connection)
            verdict = acceptance.accept(envelope, TransactionState(connection))
            assert isinstance(verdict, acceptance.Accepted)
            start = time.perf_counter()
            publication._apply(connection, envelope, verdict)
        total += time.perf_counter() - start  # the commit included
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument(
        "--single", type=int, default=2_000, help="records for the one-record-per-call pipeline"
    )
    args = parser.parse_args()
    n = args.records
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    records = [credential("uk.ac.forth", i) for i in range(n)]

    rows = record_rows(records)
    # The machine is shared: the anchor is measured before each measurement and the median
    # taken, so a quiet or busy moment does not flatter or sink one side of the ratio.
    anchors: list[float] = []

    def anchor() -> None:
        anchors.append(raw_sqlite_upsert(work / f"raw-{len(anchors)}.db", rows))

    anchor()
    # For reference only: the same upsert with the log never copied back, which says how
    # much of the anchor its own checkpoints are (the registry's are in a thread of its own).
    uncheckpointed = raw_sqlite_upsert(work / "raw-no-checkpoints.db", rows, checkpoints=False)

    # The store write alone: batches accepted beforehand, then applied (records, agreement
    # index, the institution's checkpoint, log) and committed as the registry does, one
    # transaction per batch.
    engine = make_engine(f"sqlite:///{work / 'store.db'}")
    upgrade(engine)
    signer = Ed25519Signer.generate()
    directory.enrol(engine, "uk.ac.forth", "Forth", "GB", signer.public_key)
    envelopes = signed_batches("uk.ac.forth", records, signer)

    store = store_write(engine, envelopes)
    anchor()
    engine.dispose()
    engine = make_engine(f"sqlite:///{work / 'publish.db'}")
    upgrade(engine)
    directory.enrol(engine, "uk.ac.forth", "Forth", "GB", signer.public_key)
    in_process = timed(lambda: [publication.publish(engine, e) for e in envelopes])
    engine.dispose()

    # The whole pipeline: agent store -> signed batches -> gRPC with mutual TLS -> verify ->
    # validate -> store -> log, registry in its own process. E2E_ROUNDS rounds, each into a
    # registry of its own right after an anchor run of its own: the ratio of each pair, taken
    # within seconds, is what the machine's drift disturbs least; their median is reported.
    pki = work / "pki"
    make_pki(pki, ["uk.ac.forth", "uk.ac.single"])
    agent_signer = Ed25519Signer.generate()
    single_signer = Ed25519Signer.generate()
    agent = AgentStore(work / "agent.db", "uk.ac.forth")
    agent.put_records(records)
    single = AgentStore(work / "single.db", "uk.ac.single")
    single.put_records([credential("uk.ac.single", i) for i in range(args.single)])
    pairs: list[tuple[float, float]] = []  # (anchor, end to end) seconds
    for round_ in range(E2E_ROUNDS):
        url = f"sqlite:///{work / f'registry-{round_}.db'}"
        engine = make_engine(url)
        upgrade(engine)
        directory.enrol(engine, "uk.ac.forth", "Forth", "GB", agent_signer.public_key)
        directory.enrol(engine, "uk.ac.single", "Single", "GB", single_signer.public_key)
        engine.dispose()
        process, address = start_registry(url, pki, work / f"registry-{round_}.log")
        try:
            anchor()
            # A new registry holds nothing, so the agent publishes its whole change log again.
            with RegistryClient(address, client_tls(pki, "uk.ac.forth")) as client:
                pairs.append(
                    (
                        anchors[-1],
                        timed(lambda: sync(agent, client, agent_signer, batch_size=BATCH)),
                    )
                )
            if round_ == 0:
                with RegistryClient(address, client_tls(pki, "uk.ac.single")) as client:
                    one = timed(lambda: sync(single, client, single_signer, batch_size=1))
        finally:
            process.terminate()
            process.wait(30)
    ratios = sorted(a / e for a, e in pairs)
    e2e = statistics.median(e for _, e in pairs)

    raw = statistics.median(anchors)

    def rate(count: int, seconds: float) -> float:
        return count / seconds

    print(f"Ingest on SQLite, {n:,} micro-credentials of ~220 bytes, batches of {BATCH}")
    line(
        f"anchor: raw sqlite3 executemany upsert (median of {len(anchors)})",
        f"{rate(n, raw):>10,.0f} records/s  (runs: "
        f"{', '.join(f'{rate(n, a):,.0f}' for a in anchors)})",
    )
    line(
        "reference: the same upsert, the log never copied back (no checkpoints)",
        f"{rate(n, uncheckpointed):>10,.0f} records/s",
    )
    line(
        "store write of accepted batches (records, index, log, commit)",
        f"{rate(n, store):>10,.0f} records/s  = {raw / store:.2f}x the anchor",
    )
    line(
        "publish in process (verify, validate, store, log)",
        f"{rate(n, in_process):>10,.0f} records/s  = {raw / in_process:.2f}x the anchor",
    )
    line(
        f"end to end: agent -> gRPC mTLS -> verify -> store -> log ({E2E_ROUNDS} rounds)",
        f"{rate(n, e2e):>10,.0f} records/s  = {statistics.median(ratios):.2f}x the anchor "
        f"(median of each round's ratio to its own anchor run; rounds "
        f"{', '.join(f'{r:.2f}x' for r in ratios)})",
    )
    line(
        f"same pipeline, one record per call ({args.single:,} records)",
        f"{rate(args.single, one):>10,.0f} records/s; batching is "
        f"{rate(n, e2e) / rate(args.single, one):.0f}x faster",
    )


if __name__ == "__main__":
    main()
