"""Resolution on PostgreSQL, the production backend: bench.resolve's three measurements on
the same synthetic networks, each stored in a PostgreSQL database of its own.

1. ResolveTransfer throughput over gRPC at 16 calls in flight against the bare grpc.aio
   echo server (anchor), alternating rounds (goal: at least 0.5x).
2. The database part of a depth-3 transitive look-up against a raw PostgreSQL recursive
   CTE on psycopg's own connection (goal: at most 3x).
3. Latency growth from the small network to the large one on equal answers (goal: at most
   1.5x).

The server is the one the tests use (CREDIT_REGISTRY_TEST_PG_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/test): the benchmark creates a database for
each network beside it (bench_resolve_small, bench_resolve_large), loads them, and drops
them at the end unless --keep is given (a kept database is used again by the next run
with --reuse, which skips the load: 96 s for 1M agreements on 2 cores).

    python -m bench.resolve_postgres [--small 10000] [--large 1000000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from bench.ingest_postgres import DEFAULT_URL
from bench.resolve import depth3, latency_growth, load, network, throughput


def database_url(server: str, name: str) -> str:
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--url", default=DEFAULT_URL, help="any database on the server")
    parser.add_argument("--keep", action="store_true", help="keep the loaded databases")
    parser.add_argument("--reuse", action="store_true", help="use kept databases as they are")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-resolve-pg-"))
    small, large = network(args.small), network(args.large)
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    urls = {}
    try:
        for name, shape in (("small", small), ("large", large)):
            database = f"bench_resolve_{name}"
            urls[name] = database_url(args.url, database)
            if args.reuse:
                continue
            with admin.connect() as c:
                c.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                c.execute(text(f"CREATE DATABASE {database}"))
            started = time.perf_counter()
            load(urls[name], shape)
            with create_engine(urls[name], isolation_level="AUTOCOMMIT").connect() as c:
                c.execute(text("VACUUM ANALYZE"))  # as autovacuum would, before the questions
            print(
                f"(loaded the {name} network, {shape.agreements:,} agreements, into "
                f"PostgreSQL in {time.perf_counter() - started:.0f} s)"
            )
        throughput(work, urls["large"], large, args.seconds)
        depth3(urls["large"], large)
        latency_growth(urls, small, large)
    finally:
        if not args.keep:
            with admin.connect() as c:
                for name in urls:
                    c.execute(text(f"DROP DATABASE IF EXISTS bench_resolve_{name} WITH (FORCE)"))
        admin.dispose()


if __name__ == "__main__":
    main()
