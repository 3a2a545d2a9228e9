"""`registry-query`: a partner's questions to the registry, without writing code.

    registry-query [connection] [--json] resolve TARGET HOLDING...
    registry-query [connection] [--json] pathway INSTITUTION/QUALIFICATION HOLDING...
    registry-query [connection] [--json] equivalents PROVIDER/KEY [--target INSTITUTION]
    registry-query [connection] [--json] sources INSTITUTION/UNIT [--from PROVIDER]
    registry-query [connection] [--json] conflicts INSTITUTION
    registry-query [connection] [--json] proof INSTITUTION KIND KEY

A holding is `provider/key[:grade][@award-date]` (`uk.ac.forth/FOR-PY01:B@2025-06-30`; a
grade in another scheme as `:PERCENTAGE=65`); several are separate arguments or separated by
commas. The connection is mutual TLS with the partner's certificate from the network's CA
(--ca, --cert, --key, or REGISTRY_QUERY_CA, _CERT, _KEY), to --registry (or
REGISTRY_QUERY_ADDRESS); with no certificate, plaintext to a development registry. --json
prints the registry's answer as the API's JSON (proto3 JSON mapping) instead of words.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from partner import answers
from registry.v1 import audit_pb2 as audit
from registry.v1 import audit_pb2_grpc
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_core.envelope import verify
from registry_core.errors import RegistryError
from registry_core.expressions import ExpressionError, parse_holdings, parse_reference
from registry_core.records import record_of
from sync_agent.client import CALL_TIMEOUT_SECONDS, ClientTLS, RegistryClient
from sync_agent.reachability import TLSSettings, why_unreachable

DEFAULT_ADDRESS = "127.0.0.1:50051"
KINDS = {
    "micro-credential": rec.RECORD_KIND_MICRO_CREDENTIAL,
    "learning-unit": rec.RECORD_KIND_LEARNING_UNIT,
    "agreement": rec.RECORD_KIND_AGREEMENT,
}
PAGE = 1000


class QueryError(Exception):
    """A question that cannot be asked as written; the message says what to change."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="registry-query",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--registry",
        default=os.environ.get("REGISTRY_QUERY_ADDRESS", DEFAULT_ADDRESS),
        help="the registry's host:port (env REGISTRY_QUERY_ADDRESS; default %(default)s)",
    )
    for name, what in (
        ("ca", "the network CA's certificate"),
        ("cert", "your (the partner's) certificate"),
        ("key", "its private key"),
    ):
        parser.add_argument(
            f"--{name}",
            type=Path,
            dest=f"tls_{name}",
            metavar="FILE",
            default=os.environ.get(f"REGISTRY_QUERY_{name.upper()}"),
            help=f"PEM file: {what} (env REGISTRY_QUERY_{name.upper()})",
        )
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    # --json also after the question's name ("resolve … --json"): SUPPRESS leaves the value
    # given before it alone when it is not repeated.
    json_after = argparse.ArgumentParser(add_help=False)
    json_after.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the answer as JSON"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add_parser = commands.add_parser
    commands.add_parser = (  # type: ignore[method-assign]
        lambda name, **kw: add_parser(name, parents=[json_after], **kw)
    )
    resolve = commands.add_parser("resolve", help="what the holdings count for at TARGET")
    resolve.add_argument("target", help="the institution where credit is sought")
    resolve.add_argument("holdings", nargs="*", help="provider/key[:grade][@award-date]")
    pathway = commands.add_parser("pathway", help="how far the holdings go toward a qualification")
    pathway.add_argument("qualification", help="institution/qualification key")
    pathway.add_argument("holdings", nargs="*", help="provider/key[:grade][@award-date]")
    pathway.add_argument(
        "--prior-learning",
        type=Path,
        metavar="FILE",
        help="a JSON list of the institution's assessments of the learner's "
        "experiential learning (PriorLearningAssessment); only the "
        "qualification's institution may send them",
    )
    for command in (resolve, pathway):
        command.add_argument(
            "--depth",
            type=int,
            default=1,
            help="longest chain of agreements to follow (default 1: direct)",
        )
        command.add_argument(
            "--as-of",
            default="",
            metavar="YYYY-MM-DD",
            help="the date to evaluate at (default today)",
        )
        command.add_argument(
            "--not-verified",
            action="store_true",
            help="the holdings' assessments were not identity-verified",
        )
        command.add_argument(
            "--credential",
            type=Path,
            action="append",
            default=[],
            metavar="FILE",
            help="a learner's credential (Open Badges 3.0 "
            "JSON) to present; the registry verifies it (repeatable)",
        )
    resolve.add_argument(
        "--programme", default="", help="the learner's intended programme at TARGET"
    )
    equivalents = commands.add_parser("equivalents", help="where a credential counts")
    equivalents.add_argument("credential", help="provider/key")
    equivalents.add_argument("--target", default="", help="only agreements of this institution")
    sources = commands.add_parser("sources", help="what counts into a module")
    sources.add_argument("unit", help="institution/unit key")
    sources.add_argument(
        "--from",
        dest="source_institution",
        default="",
        help="only agreements naming a credential of this provider",
    )
    conflicts = commands.add_parser("conflicts", help="a publisher's agreements that disagree")
    conflicts.add_argument("institution")
    proof = commands.add_parser(
        "proof", help="check a record against what its publisher signed, with the directory's keys"
    )
    proof.add_argument("institution")
    proof.add_argument("kind", choices=sorted(KINDS))
    proof.add_argument("key")
    return parser


def _tls(args: argparse.Namespace) -> ClientTLS | None:
    given = [args.tls_ca, args.tls_cert, args.tls_key]
    if not any(given):
        return None
    if not all(given):
        raise QueryError(
            "give --ca, --cert and --key together (mutual TLS), or none of them "
            "for a development registry"
        )
    try:
        return ClientTLS.from_files(args.tls_ca, args.tls_cert, args.tls_key)
    except OSError as exc:
        raise QueryError(f"cannot read {exc.filename}: {exc.strerror}") from None


def _holdings(args: argparse.Namespace) -> list[eq.Holding]:
    """The holdings stated on the command line, then the credentials presented."""
    try:
        stated = (
            parse_holdings(
                ", ".join(args.holdings),
                dt.datetime.now(dt.UTC).date(),
                identity_verified=not args.not_verified,
            )
            if args.holdings
            else []
        )
    except ExpressionError as exc:
        raise QueryError(f"holdings: {exc}") from None
    presented = []
    for path in args.credential:
        try:
            presented.append(eq.Holding(verifiable_credential=path.read_text("utf-8")))
        except OSError as exc:
            raise QueryError(f"--credential: cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise QueryError(
                f"--credential: {path} is not text; give the credential's JSON "
                "(not a baked badge image)"
            ) from None
    if args.command == "resolve" and not stated and not presented:
        raise QueryError("give at least one holding or --credential")
    return stated + presented


def _reference(text: str, what: str) -> rec.CredentialRef:
    try:
        return parse_reference(text)
    except ExpressionError as exc:
        raise QueryError(f"{what}: {exc}") from None


def _prior_learning(path: Path | None) -> list[eq.PriorLearningAssessment]:
    if path is None:
        return []
    try:
        items = json.loads(path.read_text("utf-8"))
        if not isinstance(items, list):
            raise ValueError("the file must hold a JSON list of assessments")
        return [json_format.ParseDict(item, eq.PriorLearningAssessment()) for item in items]
    except (OSError, ValueError, json_format.ParseError) as exc:
        raise QueryError(f"--prior-learning {path}: {exc}") from None


def _pages(call: Callable[[str], Any]) -> list[Any]:
    """Every item of a paged list answer (call takes a page token, answers a page)."""
    found: list[Any] = []
    token = ""
    while True:
        page = call(token)
        found += page.equivalences
        token = page.next_page_token
        if not token:
            return found


def _taken(checks: Sequence[eq.HoldingCheck]) -> list[str]:
    """How the holdings were taken, said only when a credential was presented."""
    if all(c.evidence == eq.HOLDING_EVIDENCE_SELF_ASSERTED for c in checks):
        return []
    return ["How the holdings were taken:", *answers.holding_lines(checks), ""]


def ask(args: argparse.Namespace, client: RegistryClient) -> tuple[Message, list[str]]:
    """The registry's answer to the question args asks, and the answer in words."""
    stub, timeout = client.equivalence, CALL_TIMEOUT_SECONDS
    if args.command == "resolve":
        resolved: eq.ResolveTransferResponse = stub.ResolveTransfer(
            eq.ResolveTransferRequest(
                holdings=_holdings(args),
                target_institution_id=args.target,
                max_depth=args.depth,
                as_of=args.as_of,
                programme=args.programme,
                page_size=PAGE,
            ),
            timeout=timeout,
        )
        return resolved, [
            *_taken(resolved.holdings_checked),
            f"What the holdings count for at {args.target}:",
            *answers.transfer_lines(resolved),
        ]
    if args.command == "pathway":
        qualification = _reference(args.qualification, "qualification")
        progress: eq.EvaluatePathwayResponse = stub.EvaluatePathway(
            eq.EvaluatePathwayRequest(
                holdings=_holdings(args),
                qualification=qualification,
                max_depth=args.depth,
                as_of=args.as_of,
                prior_learning=_prior_learning(args.prior_learning),
            ),
            timeout=timeout,
        )
        return progress, [
            *_taken(progress.holdings_checked),
            f"Toward {args.qualification}:",
            *answers.pathway_lines(progress, qualification.institution_id),
        ]
    if args.command == "equivalents":
        credential = _reference(args.credential, "credential")
        found = _pages(
            lambda token: stub.ListEquivalents(
                eq.ListEquivalentsRequest(
                    credential=credential,
                    target_institution_id=args.target,
                    page_size=PAGE,
                    page_token=token,
                ),
                timeout=timeout,
            )
        )
        return (
            eq.ListEquivalentsResponse(equivalences=found),
            [f"Where {args.credential} counts:"]
            + (
                [line for e in found for line in answers.agreement_lines(e.agreement)]
                or ["  no agreement names it"]
            ),
        )
    if args.command == "sources":
        unit = _reference(args.unit, "unit")
        found = _pages(
            lambda token: stub.ListSources(
                eq.ListSourcesRequest(
                    unit=unit,
                    source_institution_id=args.source_institution,
                    page_size=PAGE,
                    page_token=token,
                ),
                timeout=timeout,
            )
        )
        return (
            eq.ListSourcesResponse(equivalences=found),
            [f"What counts into {args.unit}:"]
            + (
                [line for e in found for line in answers.agreement_lines(e.agreement)]
                or ["  no agreement grants it"]
            ),
        )
    if args.command == "conflicts":
        listed = eq.ListConflictsResponse(conflicts=client.conflicts(args.institution))
        return listed, [f"Agreements of {args.institution} that disagree:"] + (
            [line for c in listed.conflicts for line in answers.conflict_lines(c)] or ["  none"]
        )
    return _proof(args, client)


def _proof(args: argparse.Namespace, client: RegistryClient) -> tuple[Message, list[str]]:
    """The record as its publisher signed it, checked here with the directory's keys (not
    taken from the registry's word)."""
    found: audit.GetRecordProofResponse = audit_pb2_grpc.AuditServiceStub(
        client.channel
    ).GetRecordProof(
        audit.GetRecordProofRequest(
            institution_id=args.institution, kind=KINDS[args.kind], key=args.key
        ),
        timeout=CALL_TIMEOUT_SECONDS,
    )
    keys = {
        k.key_id: k.public_key
        for i in client.institutions()
        if i.institution_id == args.institution
        for k in i.keys
    }
    proof = found.proof
    try:
        key_id = verify(proof.envelope, keys)
    except RegistryError as exc:
        raise QueryError(f"the proof does not check out: {exc}") from None
    batch = pub.Batch.FromString(proof.envelope.payload)
    if batch.institution_id != args.institution or not (
        batch.first_seq <= proof.seq <= batch.last_seq
    ):
        raise QueryError(
            "the proof does not check out: the batch is not the institution's "
            "or does not hold the record's change"
        )
    record = cast(Message, record_of(batch.changes[proof.seq - batch.first_seq]))
    return found, [
        f"{args.kind} {args.institution}/{args.key}: signed by {args.institution} "
        f"(key {key_id[:16]}…) in its batch of seq {batch.first_seq}-"
        f"{batch.last_seq}, change {proof.seq}; registry log index "
        f"{proof.receipt.log_index}",
        *("  " + line for line in json_format.MessageToJson(record, indent=2).splitlines()),
    ]


# Where a partner sets its TLS files, for the words of a failed connection.
PARTNER_TLS = TLSSettings(
    caller="registry-query",
    ca="--ca (or REGISTRY_QUERY_CA)",
    pair="--cert and --key (or REGISTRY_QUERY_CERT and REGISTRY_QUERY_KEY)",
    enable="give --ca, --cert and --key: the network's CA and your certificate from its operator",
)


def _explain(error: grpc.RpcError, address: str, uses_tls: bool) -> str:
    """A refused or failed call in words: for an unreachable registry, the address dialled,
    where it came from and what failed; for a refusal, the fields it names."""
    code = error.code()
    if code == grpc.StatusCode.UNAVAILABLE:
        source = (
            "REGISTRY_QUERY_ADDRESS"
            if os.environ.get("REGISTRY_QUERY_ADDRESS") == address
            else "--registry"
        )
        return (
            f"the registry at {address} (from {source}) is unreachable: "
            f"{why_unreachable(error.details() or '', address, uses_tls, PARTNER_TLS)}"
        )
    said = f"the registry refused the question ({code.name}): {error.details()}"
    status = rpc_status.from_call(cast(grpc.Call, error))
    for detail in status.details if status is not None else ():
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            said += "".join(f"\n  field {v.field}: {v.description}" for v in bad.field_violations)
    return said


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        tls = _tls(args)
        with RegistryClient(args.registry, tls) as client:
            answer, lines = ask(args, client)
    except QueryError as exc:
        print(f"registry-query: {exc}", file=sys.stderr)
        return 2
    except grpc.RpcError as error:
        print(f"registry-query: {_explain(error, args.registry, tls is not None)}", file=sys.stderr)
        return 1
    try:
        print(json_format.MessageToJson(answer, indent=2) if args.json else "\n".join(lines))
    except BrokenPipeError:  # the reader stopped early (`| head`): end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
