"""`sync-agent`: an institution's catalogue, signed and published to the registry."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import grpc
from google.protobuf import json_format

from registry.v1 import bilateral_pb2 as bi
from registry.v1 import records_pb2 as rec
from registry_core import logs
from registry_core.errors import InvalidRecord
from registry_core.expressions import ExpressionError, parse_credit, parse_level
from registry_core.logs import request_id
from registry_core.records import COUNTRY, INSTITUTION_ID, validate_record
from registry_core.standards import ctdl, elm, ob3
from registry_core.wording import counted
from sync_agent import bilateral, issuing_cli
from sync_agent import config as agent_config
from sync_agent.client import RegistryClient
from sync_agent.files import write_atomically
from sync_agent.importer import CatalogueError, load_json, read_catalogue, read_text
from sync_agent.reachability import explain
from sync_agent.store import AgentStore
from sync_agent.sync import BATCH_SIZE, RegistryUnreachable, SyncError, SyncLock, sync

T = TypeVar("T")

# sysexits.h's EX_TEMPFAIL: try again later. A timer's unit (or cron) tells this apart from
# a refusal or a wrong setting (1) and a mistyped command (2).
EXIT_REGISTRY_UNREACHABLE = 75

KINDS = {
    "micro-credential": rec.RECORD_KIND_MICRO_CREDENTIAL,
    "learning-unit": rec.RECORD_KIND_LEARNING_UNIT,
    "agreement": rec.RECORD_KIND_AGREEMENT,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sync-agent", description=__doc__)
    parser.add_argument(
        "--home",
        type=Path,
        default=agent_config.default_home(),
        help="the agent's folder (env SYNC_AGENT_HOME; default ./agent)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="create the store and an Ed25519 key pair")
    init.add_argument("--institution-id", required=True, help="registry id, e.g. uk.ac.hw")
    init.add_argument("--name", required=True)
    init.add_argument("--country", required=True, help="ISO 3166-1 alpha-2, e.g. GB")
    init.add_argument(
        "--registry",
        default=agent_config.DEFAULT_REGISTRY,
        help="registry host:port (default %(default)s)",
    )
    imp = commands.add_parser("import", help="import a CSV or JSON catalogue export")
    imp.add_argument("file", type=Path)
    run = commands.add_parser("sync", help="publish what changed since the registry's checkpoint")
    run.add_argument(
        "--wait",
        type=float,
        default=600.0,
        help="seconds to wait for another running sync (default %(default)s)",
    )
    run.add_argument(
        "--batch-size",
        type=int,
        default=BATCH_SIZE,
        help="changes per signed batch (default %(default)s)",
    )
    run.add_argument(
        "--retry-minutes",
        metavar="MINUTES",
        help="how long to keep trying an unreachable registry (default: "
        "retry_minutes in agent.toml or SYNC_AGENT_RETRY_MINUTES, else "
        f"{agent_config.DEFAULT_RETRY_MINUTES:g}); then exit status "
        f"{EXIT_REGISTRY_UNREACHABLE}",
    )
    withdraw = commands.add_parser("withdraw", help="withdraw a record (published as a tombstone)")
    withdraw.add_argument("kind", choices=sorted(KINDS))
    withdraw.add_argument("key")
    elm = commands.add_parser(
        "import-elm",
        help="import a micro-credential from an ELM v3 "
        "credential (unsigned, signed or wrapped) or learning opportunity",
    )
    elm.add_argument("file", type=Path)
    elm.add_argument("--key", required=True, help="the micro-credential's key in this store")
    elm.add_argument(
        "--quality-assurance",
        default="",
        help="type of quality assurance, when the credential carries none",
    )
    elm.add_argument(
        "--credit",
        default="",
        metavar="'VALUE SYSTEM'",
        help="the credit, when the source states none, e.g. '1 ECTS'",
    )
    elm.add_argument(
        "--level",
        default="",
        metavar="'FRAMEWORK LEVEL'",
        help="the level, when the source states none, e.g. 'EQF 5' or 'SCQF 7'",
    )
    badge = commands.add_parser(
        "import-badge",
        help="import micro-credentials from an Open Badges 3.0 Achievement or "
        "OpenBadgeCredential, or a CLR 2.0 ClrCredential (every achievement in it, or the one "
        "--achievement names)",
    )
    badge.add_argument("file", type=Path)
    badge.add_argument(
        "--key",
        default="",
        help="the record's key (one achievement only; "
        "default: the key in an id this registry made, else its humanCode)",
    )
    badge.add_argument("--achievement", default="", help="import only the achievement with this id")
    badge.add_argument(
        "--base-url",
        default="https://registry.example.org",
        help="where this registry's achievement ids point (default %(default)s)",
    )
    stated = badge.add_argument_group(
        "what the badge does not carry and a micro-credential needs (the badge's own value wins)"
    )
    stated.add_argument("--credit", default="", help="credit, e.g. '5 ECTS'")
    stated.add_argument("--level", default="", help="level, e.g. 'EQF 6' or 'SCQF 11'")
    stated.add_argument("--country", default="", help="ISO 3166-1 alpha-2, e.g. US")
    stated.add_argument("--workload-hours", type=float, default=0.0)
    stated.add_argument("--assessment-type", default="")
    stated.add_argument("--participation-form", default="", choices=["online", "onsite", "blended"])
    stated.add_argument("--quality-assurance", default="")
    stated.add_argument("--awarding-body", default="")
    export = commands.add_parser("export", help="print a record in a standard's JSON")
    export.add_argument(
        "format",
        choices=["elm", "ob3", "ctdl"],
        help="elm, ob3 (micro-credentials) or ctdl (agreements)",
    )
    export.add_argument("key")
    export.add_argument(
        "--base-url",
        default="https://registry.example.org",
        help="where OB3 achievement ids, ELM learning-opportunity ids and "
        "CTDL web pages and owners point "
        "(default %(default)s)",
    )
    bilateral_cmd = commands.add_parser("bilateral", help="agreements both institutions sign")
    steps = bilateral_cmd.add_subparsers(dest="action", required=True)
    propose = steps.add_parser("propose", help="propose terms (JSON of one agreement)")
    propose.add_argument("file", type=Path)
    propose.add_argument("--partner", required=True, help="the other institution's id")
    propose.add_argument("--id", default="", help="an existing agreement's id (to amend it)")
    propose.add_argument("--version", type=int, default=1, help="the new version (amendments)")
    for name in ("countersign", "reject", "withdraw", "suspend", "resume", "terminate"):
        step = steps.add_parser(name, help=f"{name} a version")
        step.add_argument("id", help="the agreement's id, e.g. uk.ac.taff/ART-1")
        step.add_argument("--version", type=int, required=True)
        step.add_argument(
            "--reason", default="", help="why (required except to countersign and resume)"
        )
    steps.add_parser("list", help="every agreement version known here, and what awaits you")
    issuing_cli.add_commands(commands)
    commands.add_parser("status", help="the local change log and the last sync")
    listing = commands.add_parser(
        "list", help="the records in this agent's store: kind, key, status and title"
    )
    listing.add_argument("kind", nargs="?", choices=sorted(KINDS), help="only this kind")
    tls = commands.add_parser("tls", help="use mutual TLS with these PEM files")
    tls.add_argument("--ca", type=Path, required=True, help="the network's CA certificate")
    tls.add_argument(
        "--certificate", type=Path, required=True, help="this institution's client certificate"
    )
    tls.add_argument("--private-key", type=Path, required=True, help="its private key")
    args = parser.parse_args(argv)

    try:
        if args.command == "init":
            if not INSTITUTION_ID.match(args.institution_id):
                raise agent_config.ConfigError(
                    f"--institution-id '{args.institution_id}' is not a registry id; use "
                    "lower-case reverse-domain form such as 'uk.ac.hw'"
                )
            if not COUNTRY.match(args.country):
                raise agent_config.ConfigError(
                    f"--country '{args.country}' is not an ISO 3166-1 alpha-2 code such as 'GB'"
                )
            cfg, signer = agent_config.init_home(
                args.home, args.institution_id, args.name, args.country, args.registry
            )
            AgentStore(cfg.store_path, cfg.institution_id).close()
            print(f"initialised {cfg.institution_id} in {cfg.home}; signing key {signer.key_id}")
            print(f"give {cfg.home / agent_config.PUBLIC_KEY} to the network operator to enrol")
            return 0
        if args.command == "tls":  # before load: it mends a [tls] section that fails to load
            agent_config.set_tls(
                args.home, args.ca.resolve(), args.certificate.resolve(), args.private_key.resolve()
            )
            print(f"{args.home / agent_config.CONFIG}: mutual TLS with {args.certificate}")
            return 0
        cfg = agent_config.load(args.home)
        store = AgentStore(cfg.store_path, cfg.institution_id)
        try:
            return _run(args, cfg, store)
        finally:
            store.close()
    except RegistryUnreachable as error:
        print(f"sync-agent: {error}", file=sys.stderr)
        return EXIT_REGISTRY_UNREACHABLE
    except (
        agent_config.ConfigError,
        CatalogueError,
        SyncError,
        bilateral.BilateralError,
        InvalidRecord,
    ) as error:
        print(f"sync-agent: {error}", file=sys.stderr)
        return 1
    except grpc.RpcError as error:
        print(f"sync-agent: {explain(error)}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Whoever read the output stopped early (`sync-agent export ... | head`): end
        # quietly, as other command-line tools do; stdout goes nowhere so that Python's own
        # flush at exit does not raise again (the Python docs' recipe, "signal" module).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _bilateral(args: argparse.Namespace, cfg: agent_config.AgentConfig, store: AgentStore) -> None:
    if args.action == "list":
        waiting = {(s.agreement_id, s.version) for s in bilateral.awaiting_decision(store)}
        for step, state in store.bilateral_latest():
            mark = (
                "  <- awaits your decision" if (step.agreement_id, step.version) in waiting else ""
            )
            print(
                f"{step.agreement_id} v{step.version}\t"
                f"{bi.BilateralState.Name(state).removeprefix('BILATERAL_STATE_').lower()}\t"
                f"last step by {step.actor}{mark}"
            )
        return
    with RegistryClient(cfg.registry, cfg.tls) as client:
        if args.action == "propose":
            document = load_json(args.file, read_text(args.file))
            if not isinstance(document, dict):
                raise CatalogueError(
                    args.file,
                    0,
                    "(file)",
                    "not an agreement in JSON (an object with the agreement's fields)",
                )
            try:
                terms = json_format.ParseDict(document, rec.RecognitionAgreement())
            except json_format.ParseError as exc:
                raise CatalogueError(
                    args.file, 0, "(file)", f"not an agreement in JSON ({exc})"
                ) from None
            terms.institution_id = terms.institution_id or cfg.institution_id
            answer = bilateral.propose(
                client, cfg.signer(), cfg.institution_id, terms, args.partner, args.id, args.version
            )
        else:
            answer = bilateral.act(
                client, cfg.signer(), store, args.action, args.id, args.version, args.reason
            )
    state_name = bi.BilateralState.Name(answer.agreement.state).removeprefix("BILATERAL_STATE_")
    print(
        f"{answer.agreement.agreement_id} version {answer.agreement.version} is now "
        f"{state_name.lower()}"
    )


def _export(store: AgentStore, args: argparse.Namespace) -> dict[str, object]:
    if args.format == "ctdl":
        agreement = store.get(rec.RECORD_KIND_AGREEMENT, args.key)
        if not isinstance(agreement, rec.RecognitionAgreement):
            raise SyncError(f"no agreement '{args.key}' in the store")
        units = {
            u.key: u
            for u in store.records(rec.RECORD_KIND_LEARNING_UNIT)
            if isinstance(u, rec.LearningUnit)
        }
        # The credit of the source credentials this store holds, so that the transfer value
        # is what the agreement grants (reduced to its sources'); others set no bound.
        sources = {
            (r.institution_id, r.key): r.credit
            for kind in (rec.RECORD_KIND_MICRO_CREDENTIAL, rec.RECORD_KIND_LEARNING_UNIT)
            for r in store.records(kind)
            if isinstance(r, (rec.MicroCredential, rec.LearningUnit))
        }
        return ctdl.agreement_to_ctdl(agreement, units, base_url=args.base_url, sources=sources)
    mc = store.get(rec.RECORD_KIND_MICRO_CREDENTIAL, args.key)
    if not isinstance(mc, rec.MicroCredential):
        raise SyncError(f"no micro-credential '{args.key}' in the store")
    if args.format == "elm":
        return elm.micro_credential_to_elm(mc, args.base_url)
    return ob3.micro_credential_to_ob3(mc, args.base_url)


def _stated(args: argparse.Namespace) -> tuple[rec.Credit | None, rec.Level | None]:
    """--credit '5 ECTS' and --level 'EQF 6' (or EQF:6), as the registrar states what an
    imported file does not carry; the file's own value wins."""

    def parsed(option: str, parse: Callable[[str], T | None], text: str) -> T | None:
        try:
            return parse(text)
        except ExpressionError as error:
            raise CatalogueError(args.file, 0, option, str(error)) from None

    return (
        parsed("--credit", parse_credit, args.credit),
        parsed("--level", parse_level, args.level.replace(":", " ", 1)),
    )


def _supplement(args: argparse.Namespace) -> ob3.Supplement:
    """The registrar's statements for what a badge does not carry, checked as a record's."""
    credit, level = _stated(args)
    forms = {
        "online": rec.PARTICIPATION_FORM_ONLINE,
        "onsite": rec.PARTICIPATION_FORM_ONSITE,
        "blended": rec.PARTICIPATION_FORM_BLENDED,
    }
    return ob3.Supplement(
        credit=credit,
        level=level,
        country=args.country,
        workload_hours=args.workload_hours,
        assessment_type=args.assessment_type,
        participation_form=forms.get(args.participation_form, rec.PARTICIPATION_FORM_UNSPECIFIED),
        quality_assurance=args.quality_assurance,
        awarding_body=args.awarding_body,
    )


def _import_badge(
    args: argparse.Namespace, cfg: agent_config.AgentConfig, store: AgentStore
) -> None:
    document = load_json(args.file, read_text(args.file))
    try:
        found = ob3.micro_credentials_from_ob3(
            document,
            cfg.institution_id,
            key=args.key,
            achievement=args.achievement,
            base_url=args.base_url,
            supplement=_supplement(args),
            name=str(args.file),
        )
        for one in found:
            validate_record(one.record)
    except InvalidRecord as error:
        raise CatalogueError(args.file, 0, error.field, error.problem) from None
    for one in found:
        for warning in one.warnings:
            print(f"warning: {args.file}: {warning}", file=sys.stderr)
    changed = store.put_records([one.record for one in found])
    for one in found:
        print(
            f"imported micro-credential {one.record.key} from {args.file} "
            f"(achievement {one.achievement_id})"
        )
    print(f"{counted(len(found), 'micro-credential')}: {changed} new or changed")


LAST_SYNC = "last-sync.json"


def write_last_sync(home: Path, store: AgentStore) -> None:
    """last-sync.json beside the store: when the last sync ran, whether it succeeded, and
    what happened, for the timer's alerting (for example a check that success_at is recent)."""
    state = store.sync_state()
    record = {
        "attempt_at": state.last_attempt_at,
        "success_at": state.last_success_at,
        "succeeded": state.last_attempt_at == state.last_success_at,
        "outcome": state.last_outcome,
        "acknowledged_seq": state.acked_seq,
        "request_id": request_id.get(),
    }
    write_atomically(home / LAST_SYNC, (json.dumps(record, indent=2) + "\n").encode("utf-8"))


def _run(args: argparse.Namespace, cfg: agent_config.AgentConfig, store: AgentStore) -> int:
    if args.command == "import":
        records = read_catalogue(
            args.file, cfg.institution_id, held_units=store.records(rec.RECORD_KIND_LEARNING_UNIT)
        )
        changed = store.put_records(records)
        print(
            f"imported {counted(len(records), 'record')} from {args.file}: {changed} new or "
            f"changed, {len(records) - changed} unchanged"
        )
    elif args.command == "sync":
        if not 1 <= args.batch_size <= 5000:
            raise SyncError(f"--batch-size {args.batch_size}: give 1 to 5000 changes per batch")
        retry_minutes = (
            cfg.retry_minutes
            if args.retry_minutes is None
            else agent_config.retry_minutes_from(args.retry_minutes, "--retry-minutes")
        )
        logs.configure(json_lines=True)
        try:
            with (
                SyncLock(cfg.home / "sync.lock", args.wait),
                RegistryClient(cfg.registry, cfg.tls) as client,
            ):
                result = sync(
                    store,
                    client,
                    cfg.signer(),
                    batch_size=args.batch_size,
                    retry_minutes=retry_minutes,
                )
                status = issuing_cli.publish_status(cfg, store, client)
        finally:
            write_last_sync(cfg.home, store)
        print(
            store.sync_state().last_outcome
            + (f" (log index {result.log_index})" if result.batches else "")
        )
        if status:
            print(status)
    elif args.command == "import-elm":
        text = read_text(args.file)
        # A JAdES/JWS compact serialisation (header.payload.signature) is not JSON.
        document = (
            text.strip() if elm.COMPACT_JWS.match(text.strip()) else load_json(args.file, text)
        )
        try:
            record, warnings = elm.micro_credential_from_elm(
                document,
                cfg.institution_id,
                args.key,
                quality_assurance=args.quality_assurance,
                credit=_stated(args)[0],
                level=_stated(args)[1],
            )
            validate_record(record)
        except InvalidRecord as error:
            raise CatalogueError(args.file, 0, error.field, error.problem) from None
        for warning in warnings:
            print(f"warning: {args.file}: {warning}", file=sys.stderr)
        changed = store.put_records([record])
        print(
            f"imported micro-credential {args.key} from {args.file}"
            + ("" if changed else " (unchanged)")
        )
    elif args.command in issuing_cli.COMMANDS:
        return issuing_cli.run(args, cfg, store)
    elif args.command == "import-badge":
        _import_badge(args, cfg, store)
    elif args.command == "bilateral":
        _bilateral(args, cfg, store)
    elif args.command == "export":
        print(json.dumps(_export(store, args), indent=2, ensure_ascii=False))
    elif args.command == "withdraw":
        if not store.withdraw(KINDS[args.kind], args.key):
            print(f"sync-agent: no active {args.kind} '{args.key}' in the store", file=sys.stderr)
            return 1
        print(f"withdrew {args.kind} {args.key}; it is published as withdrawn on the next sync")
    elif args.command == "list":
        for name, kind in sorted(KINDS.items()):
            if args.kind in (None, name):
                for held in store.records(kind):
                    shown = (
                        rec.RecordStatus.Name(held.status).removeprefix("RECORD_STATUS_").lower()
                    )
                    print(f"{name}\t{held.key}\t{shown}\t{held.title}")
    elif args.command == "status":
        state = store.sync_state()
        print(f"institution   {cfg.institution_id}\nregistry      {cfg.registry}")
        print(f"change log    up to seq {store.last_seq()}")
        print(f"acknowledged  up to seq {state.acked_seq} (log index {state.log_index})")
        print(f"last sync     {state.last_attempt_at or 'never'}: {state.last_outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
