"""A sync's cost grows with the number of changes, not with the catalogue: a no-change sync
and a 100-change sync on a 100,000-record catalogue, against the same on a 1,000-record
catalogue (the anchor), measured in one run over gRPC with mutual TLS.

    python -m bench.sync_flat [--large 100000] [--small 1000]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
from pathlib import Path

from bench.common import client_tls, credential, line, make_pki, start_registry, timed
from registry_core.envelope import Ed25519Signer
from registry_server import directory
from registry_server.db import make_engine, upgrade
from sync_agent.client import RegistryClient
from sync_agent.store import AgentStore
from sync_agent.sync import sync


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    sizes = {"uk.ac.small": args.small, "uk.ac.large": args.large}
    pki = work / "pki"
    make_pki(pki, list(sizes))
    url = f"sqlite:///{work / 'registry.db'}"
    engine = make_engine(url)
    upgrade(engine)
    agents = {}
    for institution, size in sizes.items():
        signer = Ed25519Signer.generate()
        directory.enrol(engine, institution, institution, "GB", signer.public_key)
        store = AgentStore(work / f"{institution}.db", institution)
        store.put_records([credential(institution, i) for i in range(size)])
        agents[institution] = (store, signer)
    engine.dispose()
    process, address = start_registry(url, pki, work / "registry.log")
    editions = itertools.count(1)
    clients = {}
    try:
        for institution, (store, signer) in agents.items():
            clients[institution] = RegistryClient(address, client_tls(pki, institution))
            sync(store, clients[institution], signer)  # publish the catalogue once

        def no_change(institution: str) -> float:
            store, signer = agents[institution]
            return timed(lambda: sync(store, clients[institution], signer))

        def hundred_changes(institution: str) -> float:
            store, signer = agents[institution]
            edition = next(editions)
            size = sizes[institution]
            return timed(
                lambda: (
                    store.put_records(
                        [credential(institution, i * 7 % size, edition) for i in range(100)]
                    ),
                    sync(store, clients[institution], signer),
                )
            )

        # Alternate the two catalogues so that machine noise falls on both alike.
        samples: dict[tuple[str, str], list[float]] = {}
        for round_ in range(40):
            for institution in sizes:
                samples.setdefault(("none", institution), []).append(no_change(institution))
                if round_ % 4 == 0:
                    samples.setdefault(("100", institution), []).append(
                        hundred_changes(institution)
                    )
        results = {
            i: (statistics.median(samples[("none", i)]), statistics.median(samples[("100", i)]))
            for i in sizes
        }
    finally:
        for client in clients.values():
            client.close()
        process.terminate()
        process.wait(30)
    (small_none, small_100), (large_none, large_100) = (
        results["uk.ac.small"],
        results["uk.ac.large"],
    )
    print(f"Sync cost against catalogue size ({args.large:,} vs {args.small:,} records), medians")
    line(f"no-change sync, {args.small:,} records (anchor)", f"{small_none * 1000:7.2f} ms")
    line(
        f"no-change sync, {args.large:,} records",
        f"{large_none * 1000:7.2f} ms  = {large_none / small_none:.2f}x the anchor",
    )
    line(
        f"100-change sync (edit + sync), {args.small:,} records (anchor)",
        f"{small_100 * 1000:7.2f} ms",
    )
    line(
        f"100-change sync (edit + sync), {args.large:,} records",
        f"{large_100 * 1000:7.2f} ms  = {large_100 / small_100:.2f}x the anchor",
    )


if __name__ == "__main__":
    main()
