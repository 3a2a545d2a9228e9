"""`registry-server`: run the registry and administer its directory."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from prometheus_client import start_http_server
from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, OperationalError

from registry.v1 import directory_pb2 as directory
from registry_core import logs
from registry_core.errors import RegistryError
from registry_core.wording import counted
from registry_server import audit, config, health_check, revocation, server
from registry_server import directory as directory_store
from registry_server.applying import ApplyWorker
from registry_server.db import WalCheckpoints, checkpoints_in_background, make_engine, upgrade
from registry_server.health import Health, database_probe
from registry_server.observability import Metrics, access_log
from registry_server.pki import serial_text
from registry_server.queries import QueryWorkers
from registry_server.record_checks import RecordChecks
from registry_server.tls import ServerCertificates, TLSFiles, TLSMaterialError

DEFAULT_DATABASE = "sqlite:///registry.db"
STATUS_ACTIONS = {
    "suspend": directory.INSTITUTION_STATUS_SUSPENDED,
    "reinstate": directory.INSTITUTION_STATUS_ACTIVE,
    "remove": directory.INSTITUTION_STATUS_REMOVED,
}
log = logging.getLogger("registry_server")


def read_public_key(path: Path) -> bytes:
    """Raw Ed25519 public key from a PEM file (as `sync-agent init` writes it)."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"--public-key {path}: cannot read a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SystemExit(
            f"--public-key {path}: not an Ed25519 key; use the agent's signing-key.pub"
        )
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def open_database(url: str, serving: bool = False) -> Engine:
    """An engine on url with the schema at the newest migration, or a clear exit. A serving
    registry on SQLite checkpoints its log in a thread of its own (db.WalCheckpoints)."""
    try:
        engine = make_engine(url, checkpoints_elsewhere=serving and checkpoints_in_background(url))
        upgrade(engine)
    except ArgumentError:
        raise SystemExit(
            f"--database-url '{config.printable_url(url)}' is not a database "
            "URL; use sqlite:///path.db or postgresql+psycopg://user@host/db"
        ) from None
    except OperationalError as exc:
        raise SystemExit(f"--database-url: cannot open the database ({exc.orig})") from None
    return engine


# How long a thread of the registry's process (a publication's transaction) may hold Python's
# lock while the event loop waits for it: Python's default, 5 ms, is paid at every step of
# every other call. Measured with 20 agents publishing and partners asking at once, on 2
# cores: a cheap question's p99 15.5-21.9 ms at 1 ms, 18.8-25.9 ms at 5 ms; ingest alike.
SWITCH_SECONDS = 0.001


async def serve(engine: Engine, settings: config.RegistryConfig, port_file: Path | None) -> None:
    sys.setswitchinterval(SWITCH_SECONDS)
    threads = config.database_threads(settings)
    if threads:
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(threads, thread_name_prefix="registry-db")
        )
    tls = None
    if settings.tls_cert and settings.tls_key and settings.client_ca:
        try:
            tls = ServerCertificates.from_files(
                TLSFiles(settings.tls_cert, settings.tls_key, settings.client_ca)
            )
        except TLSMaterialError as error:
            raise SystemExit(f"registry-server: {error}") from None
        log.info("TLS: %s (SIGHUP reads the files again)", tls.current.describe())
    else:
        log.warning(
            "serving plaintext without client certificates: for one machine only; "
            "set tls_cert, tls_key and client_ca for a network"
        )
    listen = settings.listen
    metrics = Metrics(engine)
    if settings.metrics_listen:
        host, _, metrics_port = settings.metrics_listen.rpartition(":")
        try:
            http, _ = start_http_server(int(metrics_port), host, registry=metrics.registry)
        except OSError as exc:
            raise SystemExit(
                f"registry-server: cannot serve metrics on "
                f"{settings.metrics_listen}: {exc.strerror or exc}; stop the "
                "other process or choose another metrics_listen port"
            ) from None
        log.info("metrics on http://%s:%d/metrics", host, http.server_port)
    checkpoints = (
        WalCheckpoints(engine).start() if checkpoints_in_background(settings.database_url) else None
    )
    record_checks = await RecordChecks.start(config.record_check_workers(settings))
    query_workers = await QueryWorkers.for_database(
        config.query_worker_count(settings), settings.database_url
    )
    apply_worker = await ApplyWorker.for_database(
        settings.apply_worker and record_checks.enabled,
        settings.database_url,
        config.volume_rule(settings),
    )
    health = Health(database_probe(engine), server.SERVICE_NAMES)
    try:
        grpc_server, port = await server.build(
            engine,
            listen,
            tls,
            metrics,
            database_on_loop=threads == 0,
            record_checks=record_checks,
            query_workers=query_workers,
            volume=config.volume_rule(settings),
            health_status=health,
            apply_worker=apply_worker,
        )
    except server.CannotListen as exc:
        await health.stop()
        await record_checks.close()
        await query_workers.close()
        await apply_worker.close()
        if checkpoints is not None:
            checkpoints.stop()
        raise SystemExit(f"registry-server: {exc}") from None
    host = listen.rsplit(":", 1)[0]
    log.info(
        "registry listening on %s:%d (event loop: %s)",
        host,
        port,
        type(asyncio.get_running_loop()).__module__.split(".")[0],
    )
    if port_file:
        tmp = port_file.with_suffix(".tmp")
        tmp.write_text(str(port))
        os.replace(tmp, port_file)  # readers never see a half-written file
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if tls is not None:  # renewed certificates, without a restart
        loop.add_signal_handler(signal.SIGHUP, tls.reload)
    await stop.wait()
    await health.drain()
    drain = config.drain_seconds(settings)
    if drain:
        # Calls are still answered, but health says NOT_SERVING, so load balancers and
        # probes send new calls elsewhere before the port closes. A second signal (an
        # impatient operator) cuts it short.
        log.info(
            "stopping: health is NOT_SERVING; draining for %g s (signal again to stop now)", drain
        )
        stop.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), drain)
    log.info("stopping: finishing calls in flight")
    await grpc_server.stop(grace=5)
    await record_checks.close()
    await query_workers.close()
    await apply_worker.close()
    if checkpoints is not None:
        checkpoints.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="registry-server", description=__doc__)
    parser.add_argument(
        "--config",
        type=Path,
        default=os.environ.get("REGISTRY_CONFIG"),
        help="TOML settings file (env REGISTRY_CONFIG); see deploy/config",
    )
    parser.add_argument(
        "--database-url",
        help=f"SQLAlchemy URL (env REGISTRY_DATABASE_URL; default {DEFAULT_DATABASE})",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="run the gRPC registry")
    serve_cmd.add_argument(
        "--listen",
        help="host:port (env REGISTRY_LISTEN; default 127.0.0.1:50051; port 0 picks a free one)",
    )
    serve_cmd.add_argument(
        "--port-file", type=Path, help="write the bound port here once listening"
    )
    for flag, env, what in (
        ("--tls-cert", "REGISTRY_TLS_CERT", "the registry's certificate"),
        ("--tls-key", "REGISTRY_TLS_KEY", "its private key"),
        ("--client-ca", "REGISTRY_CLIENT_CA", "the network CA for clients"),
    ):
        serve_cmd.add_argument(
            flag, type=Path, help=f"{what} (PEM; env {env}); all three enable mutual TLS"
        )

    commands.add_parser("migrate", help="create or upgrade the schema, then exit")

    health = commands.add_parser(
        "health",
        help="ask the running registry over gRPC health whether it serves "
        "(exit 0) or not (exit 1): a container's health check",
    )
    health.add_argument(
        "--address",
        help="host:port (default: the listen setting, on loopback when it is every interface)",
    )
    health.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")

    institutions = commands.add_parser("institutions", help="the network's directory")
    inst_cmds = institutions.add_subparsers(dest="action", required=True)
    add = inst_cmds.add_parser("add", help="enrol an institution with its signing key")
    add.add_argument("--id", required=True, dest="institution_id", help="e.g. uk.ac.hw")
    add.add_argument("--name", required=True)
    add.add_argument("--country", required=True, help="ISO 3166-1 alpha-2, e.g. GB")
    add.add_argument(
        "--public-key", required=True, type=Path, help="the agent's signing-key.pub (PEM)"
    )
    inst_cmds.add_parser("list", help="list institutions and their keys")
    for action, help_text in (
        ("suspend", "stop an institution publishing"),
        ("reinstate", "let a suspended institution publish again"),
        ("remove", "remove an institution (its records stay readable)"),
    ):
        cmd = inst_cmds.add_parser(action, help=help_text)
        cmd.add_argument("institution_id")
        cmd.add_argument("--reason", required=True, help="why, for the audit log")

    log_cmd = commands.add_parser("log", help="the append-only log of accepted batches")
    log_cmds = log_cmd.add_subparsers(dest="action", required=True)
    log_cmds.add_parser("verify", help="re-check every entry, signature, chain and record")

    keys = commands.add_parser("keys", help="institutions' signing keys")
    key_cmds = keys.add_subparsers(dest="action", required=True)
    rotate = key_cmds.add_parser("rotate", help="register a new key; the current one retires")
    rotate.add_argument("institution_id")
    rotate.add_argument("--public-key", required=True, type=Path, help="the new signing-key.pub")
    revoke = key_cmds.add_parser("revoke", help="revoke a key: it signs nothing new")
    revoke.add_argument("institution_id")
    revoke.add_argument("--key-id", required=True)
    revoke.add_argument("--reason", required=True, help="why, for the audit log")

    certificates = commands.add_parser(
        "certificates", help="client certificates the registry refuses (deny list)"
    )
    cert_cmds = certificates.add_subparsers(dest="action", required=True)
    revoke_cert = cert_cmds.add_parser(
        "revoke",
        help="refuse a client certificate from now on (every registry on this "
        f"database within {revocation.REFRESH_SECONDS:g} s); final",
    )
    which = revoke_cert.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "serial",
        nargs="?",
        help="as `openssl x509 -noout -serial -in FILE` prints it (serial=3A5F…), 0x… or decimal",
    )
    which.add_argument("--certificate", type=Path, help="or the certificate's PEM file")
    revoke_cert.add_argument("--reason", required=True, help="why, for the record")
    cert_cmds.add_parser("revoked", help="list revoked client certificates")

    args = parser.parse_args(argv)
    try:
        settings = config.load(
            args.config,
            overrides={
                "database_url": args.database_url,
                "listen": getattr(args, "listen", None),
                "tls_cert": getattr(args, "tls_cert", None),
                "tls_key": getattr(args, "tls_key", None),
                "client_ca": getattr(args, "client_ca", None),
            },
        )
    except config.ConfigError as error:
        print(f"registry-server: configuration: {error}", file=sys.stderr)
        return 2
    if args.command == "health":  # asks the registry; never opens (or migrates) its database
        try:
            where = health_check.probe(settings, args.address, args.timeout)
        except health_check.HealthCheckError as error:
            print(f"registry-server health: {error}", file=sys.stderr)
            return 1
        print(f"{where}: SERVING")
        return 0
    json_lines = args.command == "serve" and settings.log_format == "json"
    # Serving in JSON, every line of standard error is JSON: gRPC's C core's too.
    stderr_lines = logs.StderrLines() if json_lines else None
    logs.configure(json_lines, stream=stderr_lines.output if stderr_lines else None)
    if not settings.access_log:
        access_log.setLevel(logging.WARNING)
    try:
        return run(args, settings)
    except SystemExit as stopped:
        if stderr_lines is None or not isinstance(stopped.code, str):
            raise
        log.critical("%s", stopped.code)  # as a JSON line, not Python's plain one
        return 1
    finally:
        if stderr_lines is not None:
            stderr_lines.close()
            # Logging wrote to the pipe's other end, which closes with stderr_lines; a caller
            # in the same process (a test) logs on, to standard error again.
            logs.configure(json_lines)
            stderr_lines.output.close()


def run(args: argparse.Namespace, settings: config.RegistryConfig) -> int:
    """Carry out the parsed command."""
    engine = open_database(settings.database_url, serving=args.command == "serve")
    try:
        if args.command == "serve":
            config.run_serving(serve(engine, settings, args.port_file), settings)
        elif args.command == "migrate":  # open_database has migrated it
            print("the database schema is at the newest migration")
        elif args.command == "institutions" and args.action == "add":
            found = directory_store.enrol(
                engine,
                args.institution_id,
                args.name,
                args.country,
                read_public_key(args.public_key),
            )
            print(f"enrolled {found.institution_id} ({found.name}) with key {found.keys[0].key_id}")
        elif args.command == "institutions" and args.action in STATUS_ACTIONS:
            found = directory_store.set_status(
                engine, args.institution_id, STATUS_ACTIONS[args.action], args.reason
            )
            print(
                f"{found.institution_id} is now "
                f"{directory.InstitutionStatus.Name(found.status).split('_')[-1].lower()}"
            )
        elif args.command == "keys" and args.action == "rotate":
            found = directory_store.rotate_key(
                engine, args.institution_id, read_public_key(args.public_key)
            )
            print(f"{found.institution_id} now signs with key {found.keys[-1].key_id}")
        elif args.command == "keys" and args.action == "revoke":
            directory_store.revoke_key(engine, args.institution_id, args.key_id, args.reason)
            print(f"revoked key {args.key_id} of {args.institution_id}")
        elif args.command == "certificates" and args.action == "revoke":
            serial, subject = (
                revocation.serial_and_subject(args.certificate)
                if args.certificate
                else (revocation.parse_serial(args.serial), "")
            )
            revocation.revoke(engine, serial, args.reason, subject=subject)
            print(
                f"revoked certificate serial={serial_text(serial)} (decimal {serial})"
                f"{' of ' + subject if subject else ''}; every registry on this database "
                f"refuses it within {revocation.REFRESH_SECONDS:g} s"
            )
        elif args.command == "certificates" and args.action == "revoked":
            after = ""
            while True:
                revoked, after = revocation.list_revoked(engine, after=after)
                for row in revoked:
                    print(
                        f"{row.serial}\t{row.revoked_at}\t{row.subject or '-'}\t"
                        f"{row.actor}\t{row.reason}"
                    )
                if not after:
                    break
        elif args.command == "log":
            report = audit.verify_log(engine)
            for problem in report.problems:
                print(f"PROBLEM {problem}")
            print(
                f"{counted(report.entries, 'log entry', 'log entries')} and "
                f"{counted(report.records_checked, 'record')} checked: "
                + ("all verified" if report.ok else counted(len(report.problems), "problem"))
            )
            return 0 if report.ok else 3
        elif args.command == "institutions" and args.action == "list":
            after = ""
            while True:
                page, after = directory_store.list_institutions(engine, after=after)
                for inst in page:
                    status = directory.InstitutionStatus.Name(inst.status).split("_")[-1].lower()
                    key_ids = ", ".join(k.key_id for k in inst.keys)
                    print(f"{inst.institution_id}\t{status}\t{inst.name}\t{key_ids}")
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
