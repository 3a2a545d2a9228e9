"""`registry-demo`: start a registry on SQLite, three institutions' sync agents with their
catalogues, publish, then ask the registry, as a partner provider would, what one learner's
micro-credentials count for at each institution; then the learner presents credentials two
institutions issued (signed Open Badges 3.0), one of them altered.

Every step runs the real commands (registry-server, sync-agent, the PKI script) as separate
processes; every connection is mutual TLS with certificates from the demo network's own CA.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from grpc_health.v1 import health_pb2, health_pb2_grpc

from partner import answers
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from sync_agent import config as agent_config
from sync_agent.client import ClientTLS, RegistryClient, open_channel


@dataclass(frozen=True)
class Member:
    institution_id: str
    name: str
    catalogue: tuple[str, ...]


MEMBERS = (
    Member("uk.ac.forth", "University of the Forth (Scotland)", ("uk.ac.forth.json",)),
    Member("uk.ac.taff", "Taff University (Wales)", ("uk.ac.taff.json",)),
    Member(
        "uk.ac.lagan",
        "Lagan Valley College (Northern Ireland)",
        ("uk.ac.lagan-micro-credentials.csv", "uk.ac.lagan-catalogue.json"),
    ),
)

# One learner's record, as a partner's admissions system would send it.
LEARNER = (
    eq.Holding(
        credential=rec.CredentialRef(institution_id="uk.ac.forth", key="FOR-DE01"),
        award_date="2025-06-20",
        grade=rec.Grade(scheme="UK_LETTER", value="A"),
        identity_verified=True,
    ),
    eq.Holding(
        credential=rec.CredentialRef(institution_id="uk.ac.forth", key="FOR-PY01"),
        award_date="2024-12-13",
        grade=rec.Grade(scheme="UK_LETTER", value="B"),
    ),
    eq.Holding(
        credential=rec.CredentialRef(institution_id="uk.ac.taff", key="TAF-ML01"),
        award_date="2025-03-28",
        grade=rec.Grade(scheme="PERCENTAGE", value="64"),
        identity_verified=True,
    ),
    eq.Holding(
        credential=rec.CredentialRef(institution_id="uk.ac.lagan", key="LAG-DA01"),
        award_date="2025-01-31",
        grade=rec.Grade(scheme="PASS_FAIL", value="PASS"),
    ),
    eq.Holding(
        credential=rec.CredentialRef(institution_id="uk.ac.lagan", key="LAG-CY01"),
        award_date="2022-06-30",
        grade=rec.Grade(scheme="PASS_FAIL", value="PASS"),
        identity_verified=False,
    ),
    eq.Holding(
        credential=rec.CredentialRef(institution_id="uk.ac.taff", key="TAF-GR01"),
        award_date="2025-05-30",
    ),
)


def run(*args: str) -> str:
    """Run one of the project's commands; stop the demo with its message if it fails."""
    done = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"demo: `{' '.join(args)}` failed:\n{done.stderr.strip()}")
    return done.stdout.strip()


def wait_for_port(path: Path, process: subprocess.Popen[bytes], seconds: float = 30) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return int(path.read_text())
        if process.poll() is not None:
            raise SystemExit("demo: the registry stopped during start-up; see its log above")
        time.sleep(0.05)
    raise SystemExit(f"demo: the registry did not start listening within {seconds:.0f} s")


def ask_partner_question(address: str, as_of: str, tls: ClientTLS) -> str:
    lines = ["", f"A learner holds (evaluated on {as_of}):"]
    for h in LEARNER:
        grade = f"{h.grade.value} ({h.grade.scheme})" if h.HasField("grade") else "ungraded"
        lines.append(
            f"  {h.credential.institution_id}/{h.credential.key}, awarded "
            f"{h.award_date}, grade {grade}"
            + (", identity-verified" if h.identity_verified else "")
        )
    with RegistryClient(address, tls) as client:
        for member in MEMBERS:
            answer = client.resolve_transfer(
                eq.ResolveTransferRequest(
                    holdings=LEARNER, target_institution_id=member.institution_id, as_of=as_of
                )
            )
            lines += ["", f"What it counts for at {member.name} [{member.institution_id}]:"]
            lines += answers.transfer_lines(answer)
        pathway = client.equivalence.EvaluatePathway(
            eq.EvaluatePathwayRequest(
                holdings=LEARNER,
                as_of=as_of,
                qualification=rec.CredentialRef(institution_id="uk.ac.forth", key="F1DS-MSC"),
            ),
            timeout=30,
        )
    lines += ["", "Toward the University of the Forth's MSc Data Science (uk.ac.forth/F1DS-MSC):"]
    lines += answers.pathway_lines(pathway, "the Forth", details=False)  # told above
    return "\n".join(lines)


# Credentials two institutions issue to the learner (key, institution, the sync-agent issue
# options); the learner then presents them, and alters a copy of the second.
ISSUED = (
    (
        "FOR-DE01",
        "uk.ac.forth",
        ("--award-date", "2025-06-20", "--grade", "UK_LETTER:A", "--identity-verified"),
    ),
    (
        "TAF-ML01",
        "uk.ac.taff",
        ("--award-date", "2025-03-28", "--grade", "PERCENTAGE:64", "--identity-verified"),
    ),
)


def issue_learner_credentials(work: Path) -> list[str]:
    """Each institution's agent issues its credential to the learner and publishes its
    status list; the credentials as the learner received them (JSON)."""
    issued = []
    for key, institution, options in ISSUED:
        home, path = work / institution, work / f"learner-{key}.json"
        run(
            "sync_agent.cli",
            "--home",
            str(home),
            "issue",
            key,
            "--student-id",
            "S0001",
            "--out",
            str(path),
            *options,
        )
        run("sync_agent.cli", "--home", str(home), "sync")
        issued.append(path.read_text("utf-8"))
    return issued


def present_credentials(address: str, as_of: str, tls: ClientTLS, issued: list[str]) -> str:
    forged = json.loads(issued[1])
    forged["credentialSubject"]["result"][0]["value"] = "84"  # 64 was not good enough
    holdings = [
        eq.Holding(verifiable_credential=issued[0]),
        eq.Holding(verifiable_credential=json.dumps(forged)),
        LEARNER[1],
    ]
    with RegistryClient(address, tls) as client:
        answer = client.resolve_transfer(
            eq.ResolveTransferRequest(
                holdings=holdings, target_institution_id="uk.ac.taff", as_of=as_of
            )
        )
    lines = [
        "",
        "The learner presents the credentials the Forth and Taff issued (signed Open Badges 3.0),",
        "with a copy of the second altered to a better grade, and states one holding:",
    ]
    lines += answers.holding_lines(answer.holdings_checked)
    lines += ["", "What they count for at Taff University (Wales) [uk.ac.taff]:"]
    lines += answers.transfer_lines(answer)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="registry-demo", description=__doc__)
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(".demo"),
        help="where the registry and agents keep their files (recreated)",
    )
    parser.add_argument(
        "--as-of", default="2026-01-15", help="evaluation date, fixed so the answer is reproducible"
    )
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="leave the registry running after the answer (Ctrl-C stops it)",
    )
    args = parser.parse_args(argv)
    # A SIGTERM (a service manager, `kill`) ends the demo as Ctrl-C does, through the
    # `finally` below that stops the registry; Python's default would leave it running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    work = args.workdir.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    database = f"sqlite:///{work / 'registry.db'}"
    data = resources.files("demo_network") / "data"

    print(f"Demonstration network in {work}")
    pki = work / "pki"
    run("registry_server.pki", "--dir", str(pki), "ca", "--name", "Demo Network CA")
    run(
        "registry_server.pki",
        "--dir",
        str(pki),
        "server",
        "--host",
        "127.0.0.1",
        "--host",
        "localhost",
    )
    run("registry_server.pki", "--dir", str(pki), "partner", "demo-admissions")
    print(f"  network CA and certificates in {pki}")
    run("registry_server.cli", "--database-url", database, "migrate")
    for member in MEMBERS:
        home = work / member.institution_id
        run(
            "sync_agent.cli",
            "--home",
            str(home),
            "init",
            "--institution-id",
            member.institution_id,
            "--name",
            member.name,
            "--country",
            "GB",
        )
        run("registry_server.pki", "--dir", str(pki), "institution", member.institution_id)
        stem = pki / f"institution-{member.institution_id}"
        run(
            "sync_agent.cli",
            "--home",
            str(home),
            "tls",
            "--ca",
            str(pki / "ca.pem"),
            "--certificate",
            f"{stem}.pem",
            "--private-key",
            f"{stem}-key.pem",
        )
        print(
            " ",
            run(
                "registry_server.cli",
                "--database-url",
                database,
                "institutions",
                "add",
                "--id",
                member.institution_id,
                "--name",
                member.name,
                "--country",
                "GB",
                "--public-key",
                str(home / "signing-key.pub"),
            ),
        )

    port_file = work / "registry.port"
    log = (work / "registry.log").open("wb")
    registry = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "registry_server.cli",
            "--database-url",
            database,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--port-file",
            str(port_file),
            "--tls-cert",
            str(pki / "registry.pem"),
            "--tls-key",
            str(pki / "registry-key.pem"),
            "--client-ca",
            str(pki / "ca.pem"),
        ],
        # No load balancer to drain for: stop at once (with TLS the default is 5 s).
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "REGISTRY_DRAIN_SECONDS": "0"},
    )
    try:
        address = f"127.0.0.1:{wait_for_port(port_file, registry)}"
        partner = ClientTLS.from_files(
            pki / "ca.pem",
            pki / "partner-demo-admissions.pem",
            pki / "partner-demo-admissions-key.pem",
        )
        with open_channel(address, partner) as channel:
            # The health stubs' types name no methods on HealthStub; it has Check.
            health: Any = health_pb2_grpc.HealthStub(channel)
            status = health.Check(health_pb2.HealthCheckRequest(), timeout=10).status
        print(
            f"Registry at {address} (mutual TLS): health "
            f"{health_pb2.HealthCheckResponse.ServingStatus.Name(status)}"
        )
        for member in MEMBERS:
            home = work / member.institution_id
            agent_config.set_registry(home, address)  # where this run's registry listens
            env_home = ["--home", str(home)]
            for name in member.catalogue:
                with resources.as_file(data / name) as path:
                    print(
                        " ",
                        member.institution_id,
                        run("sync_agent.cli", *env_home, "import", str(path)),
                    )
            print(" ", member.institution_id, run("sync_agent.cli", *env_home, "sync"))
        print(ask_partner_question(address, args.as_of, partner))
        print(present_credentials(address, args.as_of, partner, issue_learner_credentials(work)))
        if args.keep_running:
            print(f"\nThe registry keeps running at {address}; Ctrl-C stops it.")
            registry.wait()
    finally:
        if registry.poll() is None:
            registry.send_signal(signal.SIGTERM)
            registry.wait(timeout=15)
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
