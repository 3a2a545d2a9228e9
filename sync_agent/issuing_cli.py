"""The agent's commands for learners' credentials: issue, issue-batch, revoke, issued,
publish-status (sync_agent/issuing.py does the work)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from registry.v1 import records_pb2 as rec
from registry_core import credentials as vc
from registry_core.errors import InvalidRecord
from registry_core.expressions import ExpressionError, parse_grade
from registry_core.records import parse_date
from registry_core.wording import counted
from sync_agent import issuing
from sync_agent.client import Registry, RegistryClient
from sync_agent.config import AgentConfig
from sync_agent.files import write_atomically
from sync_agent.store import AgentStore

# A credential verifies only once the registry holds the status list it names.
CHECKABLE = (
    "The registry verifies a credential once this institution's status list is "
    "published: run `sync-agent sync` (or publish-status)."
)
COMMANDS = ("issue", "issue-batch", "revoke", "issued", "publish-status")


def add_commands(commands: Any) -> None:
    issue = commands.add_parser(
        "issue", help="issue a learner's achievement as a signed Open Badges 3.0 credential"
    )
    issue.add_argument("key", help="the micro-credential, module or qualification")
    issue.add_argument(
        "--student-id", required=True, help="the learner's student number (written only hashed)"
    )
    issue.add_argument("--award-date", required=True, help="YYYY-MM-DD")
    issue.add_argument("--name", default="", help="the learner's name (optional)")
    issue.add_argument("--email", default="", help="the learner's e-mail (written hashed)")
    issue.add_argument("--grade", default="", help="SCHEME:VALUE, e.g. UK_LETTER:B")
    issue.add_argument(
        "--identity-verified",
        action="store_true",
        help="the assessment verified the learner's identity",
    )
    issue.add_argument("--valid-until", default="", help="YYYY-MM-DD (optional)")
    issue.add_argument("--out", type=Path, help="write the credential here (default: print)")
    batch = commands.add_parser(
        "issue-batch",
        help="issue credentials for every row of a student-records export (CSV)",
        description="Columns (a header line first): "
        + ", ".join(issuing.BATCH_COLUMNS)
        + " (required); "
        + ", ".join(issuing.OPTIONAL_COLUMNS)
        + " (optional; grade_scheme "
        "and grade are two columns, such as UK_LETTER and B; identity_verified is yes or "
        "no). Every row is checked before any credential is issued.",
    )
    batch.add_argument("file", type=Path)
    batch.add_argument(
        "--out-dir", type=Path, required=True, help="folder for the credentials, one JSON file each"
    )
    revoke = commands.add_parser(
        "revoke",
        help="revoke an issued credential (published with the status list on the next sync)",
    )
    revoke.add_argument("credential_id", help="its id, urn:uuid:…")
    revoke.add_argument("--reason", required=True)
    commands.add_parser("issued", help="the credentials issued here, and which are revoked")
    commands.add_parser("publish-status", help="publish the status list to the registry now")


def _grade(text: str) -> rec.Grade:
    """--grade SCHEME:VALUE (UK_LETTER:B), read as the forms read 'UK_LETTER B'."""
    try:
        return parse_grade(text.replace(":", " ", 1)) or rec.Grade()
    except ExpressionError:
        raise InvalidRecord(
            "--grade", "grade", f"'{text}' is not SCHEME:VALUE, e.g. UK_LETTER:B"
        ) from None


def _date(option: str, text: str) -> dt.date:
    try:
        return parse_date(text)
    except ValueError as error:
        raise InvalidRecord(option, option.lstrip("-"), str(error)) from None


def publish_status(cfg: AgentConfig, store: AgentStore, client: Registry) -> str:
    """Publish the status list when the registry's is behind; what happened, in words
    (nothing when nothing was due)."""
    if not issuing.status_list_due(store):
        return ""
    revoked = 0
    for credential in issuing.status_lists(cfg, store):
        answer = client.publish_status_list(json.dumps(credential))
        revoked += answer.revoked
    store.record_status_published(revoked, answer.valid_from)
    return f"status list published ({revoked} revoked, valid from {answer.valid_from})"


def run(args: argparse.Namespace, cfg: AgentConfig, store: AgentStore) -> int:
    if args.command == "issue":
        credential = issuing.issue(
            cfg,
            store,
            args.key,
            vc.Learner(args.student_id, args.name, args.email),
            vc.Award(
                _date("--award-date", args.award_date), _grade(args.grade), args.identity_verified
            ),
            valid_until=_date("--valid-until", args.valid_until) if args.valid_until else None,
        )
        text = json.dumps(credential, indent=2, ensure_ascii=False) + "\n"
        if args.out:
            write_atomically(args.out, text.encode("utf-8"))
            print(f"issued {credential['id']} ({args.key}) to {args.out}")
        else:
            sys.stdout.write(text)
        print(CHECKABLE, file=sys.stderr if not args.out else sys.stdout)
    elif args.command == "issue-batch":
        rows = list(issuing.read_batch(args.file))  # every row checked before any is issued
        for row in rows:
            try:
                issuing.check_issuable(store, row.key, row.award, row.valid_until)
            except InvalidRecord as error:
                raise InvalidRecord(
                    f"{args.file.name} line {row.line}",
                    error.field,
                    f"{error.record}: {error.problem}; nothing was issued",
                ) from None
        args.out_dir.mkdir(parents=True, exist_ok=True)
        for row in rows:
            credential = issuing.issue(
                cfg, store, row.key, row.learner, row.award, valid_until=row.valid_until
            )
            path = args.out_dir / f"{credential['id'].removeprefix('urn:uuid:')}.json"
            write_atomically(
                path, (json.dumps(credential, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
            )
            print(f"line {row.line}: {row.key} for {row.learner.student_id} -> {path}")
        print(f"issued {counted(len(rows), 'credential')}. {CHECKABLE}")
    elif args.command == "revoke":
        if not store.revoke_issued(args.credential_id, args.reason):
            revoked = [r for r in store.issued() if r[0] == args.credential_id]
            said = (
                f"was revoked already, on {revoked[0][4]}"
                if revoked
                else "was not issued here (see `sync-agent issued`)"
            )
            print(f"sync-agent: credential {args.credential_id} {said}", file=sys.stderr)
            return 1
        print(
            f"revoked {args.credential_id}; the registry learns it on the next sync or "
            "publish-status"
        )
    elif args.command == "issued":
        for credential_id, key, index, issued_at, revoked_at in store.issued():
            state = f"revoked {revoked_at}" if revoked_at else "valid"
            print(f"{credential_id}\t{key}\tentry {index}\tissued {issued_at}\t{state}")
    elif args.command == "publish-status":
        with RegistryClient(cfg.registry, cfg.tls) as client:
            print(publish_status(cfg, store, client) or "status list: up to date")
    return 0
