"""`registry-server`: run the registry and administer its directory."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, OperationalError

from registry.v1 import directory_pb2 as directory
from registry_core.errors import RegistryError
from registry_server import directory as directory_store
from registry_server import server
from registry_server.db import make_engine, upgrade

DEFAULT_DATABASE = "sqlite:///registry.db"
log = logging.getLogger("registry_server")


def read_public_key(path: Path) -> bytes:
    """Raw Ed25519 public key from a PEM file (as `sync-agent init` writes it)."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"--public-key {path}: cannot read a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SystemExit(f"--public-key {path}: not an Ed25519 key; use the agent's "
                         "signing-key.pub")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def open_database(url: str) -> Engine:
    """An engine on url with the schema at the newest migration, or a clear exit."""
    try:
        engine = make_engine(url)
        upgrade(engine)
    except ArgumentError:
        raise SystemExit(f"--database-url '{url}' is not a database URL; use "
                         "sqlite:///path.db or postgresql+psycopg://user@host/db") from None
    except OperationalError as exc:
        raise SystemExit(f"--database-url: cannot open the database ({exc.orig})") from None
    return engine


async def serve(engine: Engine, listen: str, port_file: Path | None) -> None:
    grpc_server, port = await server.build(engine, listen)
    host = listen.rsplit(":", 1)[0]
    log.info("registry listening on %s:%d", host, port)
    if port_file:
        tmp = port_file.with_suffix(".tmp")
        tmp.write_text(str(port))
        os.replace(tmp, port_file)  # readers never see a half-written file
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping: finishing calls in flight")
    await grpc_server.stop(grace=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="registry-server", description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("REGISTRY_DATABASE_URL",
                                                                 DEFAULT_DATABASE),
                        help="SQLAlchemy URL (env REGISTRY_DATABASE_URL; default %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="run the gRPC registry")
    serve_cmd.add_argument("--listen", default=os.environ.get("REGISTRY_LISTEN",
                                                              "127.0.0.1:50051"),
                           help="host:port (env REGISTRY_LISTEN; port 0 picks a free one)")
    serve_cmd.add_argument("--port-file", type=Path,
                           help="write the bound port here once listening")

    commands.add_parser("migrate", help="create or upgrade the schema, then exit")

    institutions = commands.add_parser("institutions", help="the network's directory")
    inst_cmds = institutions.add_subparsers(dest="action", required=True)
    add = inst_cmds.add_parser("add", help="enrol an institution with its signing key")
    add.add_argument("--id", required=True, dest="institution_id", help="e.g. uk.ac.hw")
    add.add_argument("--name", required=True)
    add.add_argument("--country", required=True, help="ISO 3166-1 alpha-2, e.g. GB")
    add.add_argument("--public-key", required=True, type=Path,
                     help="the agent's signing-key.pub (PEM)")
    inst_cmds.add_parser("list", help="list institutions and their keys")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    engine = open_database(args.database_url)
    try:
        if args.command == "serve":
            asyncio.run(serve(engine, args.listen, args.port_file))
        elif args.command == "institutions" and args.action == "add":
            found = directory_store.enrol(engine, args.institution_id, args.name, args.country,
                                          read_public_key(args.public_key))
            print(f"enrolled {found.institution_id} ({found.name}) with key {found.keys[0].key_id}")
        elif args.command == "institutions" and args.action == "list":
            after = ""
            while True:
                page, after = directory_store.list_institutions(engine, after=after)
                for inst in page:
                    status = directory.InstitutionStatus.Name(inst.status).split("_")[-1].lower()
                    keys = ", ".join(k.key_id for k in inst.keys)
                    print(f"{inst.institution_id}\t{status}\t{inst.name}\t{keys}")
                if not after:
                    break
    except RegistryError as error:
        print(f"registry-server: {error}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
