"""Ingest on PostgreSQL: the registry's store write and its whole in-process publish, against
a raw COPY of the same rows into a table shaped like published_record (the anchor).

    python -m bench.ingest_postgres [--records 100000] [--url postgresql+psycopg://…/test]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import uuid
from collections.abc import Sequence

import psycopg
from sqlalchemy import create_engine, text

from bench.common import credential, line, timed
from bench.ingest import BATCH, signed_batches, store_write
from registry.v1 import records_pb2 as rec
from registry_core.envelope import Ed25519Signer
from registry_server import directory, publication
from registry_server.db import make_engine, upgrade

DEFAULT_URL = os.environ.get(
    "CREDIT_REGISTRY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def raw_copy(dsn: str, schema: str, rows: Sequence[tuple[object, ...]]) -> float:
    with psycopg.connect(dsn, options=f"-csearch_path={schema}") as conn:
        conn.execute(
            "CREATE TABLE raw (institution_id varchar(128), kind int, key varchar(128), "
            "version bigint, status int, seq bigint, log_index bigint, payload bytea, "
            "updated_at timestamptz, PRIMARY KEY (institution_id, kind, key))"
        )
        conn.commit()
        start = dt.datetime.now()
        with conn.cursor() as cursor:
            for i in range(0, len(rows), BATCH):
                with cursor.copy("COPY raw FROM STDIN") as copy:
                    for row in rows[i : i + BATCH]:
                        copy.write_row(row)
                conn.commit()
        return (dt.datetime.now() - start).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--url", default=DEFAULT_URL)
    args = parser.parse_args()
    n = args.records
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.url)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        records = [credential("uk.ac.forth", i) for i in range(n)]
        now = dt.datetime.now(dt.UTC)
        rows = [
            (
                r.institution_id,
                rec.RECORD_KIND_MICRO_CREDENTIAL,
                r.key,
                1,
                r.status,
                i + 1,
                1,
                r.SerializeToString(deterministic=True),
                now,
            )
            for i, r in enumerate(records)
        ]
        dsn = args.url.replace("postgresql+psycopg://", "postgresql://")
        raw = raw_copy(dsn, schema, rows)

        engine = make_engine(args.url, connect_args={"options": f"-csearch_path={schema}"})
        upgrade(engine)
        signer = Ed25519Signer.generate()
        directory.enrol(engine, "uk.ac.forth", "Forth", "GB", signer.public_key)
        envelopes = signed_batches("uk.ac.forth", records, signer)
        half = len(envelopes) // 2

        store = store_write(engine, envelopes[:half])  # first half: the store write alone
        published = timed(lambda: [publication.publish(engine, e) for e in envelopes[half:]])
        engine.dispose()
    finally:
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    counted = half * BATCH
    print(f"Ingest on PostgreSQL, {n:,} micro-credentials, batches of {BATCH}")
    line("anchor: raw COPY of the same rows", f"{n / raw:>10,.0f} records/s")
    line(
        "store write of accepted batches (COPY + upsert, index, log, commit)",
        f"{counted / store:>10,.0f} records/s  = {(counted / store) / (n / raw):.2f}x the anchor",
    )
    line(
        "publish in process (verify, validate, store, log)",
        f"{(n - counted) / published:>10,.0f} records/s  = "
        f"{((n - counted) / published) / (n / raw):.2f}x the anchor",
    )


if __name__ == "__main__":
    main()
