"""Every numeric request field and page token a client can send, at its extremes: a token
that is digits to str.isdigit() but not to int(), 30 and 5,000 digits, and integers at and
beyond 2^63. Each gets INVALID_ARGUMENT naming the field, never INTERNAL or UNKNOWN, and no
text of an exception of ours (OverflowError, ValueError) reaches the client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from registry.v1 import audit_pb2 as audit
from registry.v1 import (
    audit_pb2_grpc,
    bilateral_pb2_grpc,
    directory_pb2,
    directory_pb2_grpc,
    equivalence_pb2_grpc,
    publication_pb2_grpc,
)
from registry.v1 import bilateral_pb2 as bi
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_server import audit as audit_store
from tests.conftest import Network, RunningRegistry
from tests.factories import batch, holding, micro_credential, signed

TOKENS = {
    "superscript two": "²",
    "Arabic-Indic digits": "\u0663\u0664",
    "30 digits": "9" * 30,
    "5,000 digits": "9" * 5000,
    "2^63": str(2**63),
    "negative": "-1",
}
HUGE = 2**64 - 1
ATTEMPT = Callable[[grpc.Channel, Network], object]


def _equivalents(token: str) -> ATTEMPT:
    return lambda ch, _n: equivalence_pb2_grpc.EquivalenceServiceStub(ch).ListEquivalents(
        eq.ListEquivalentsRequest(
            credential=rec.CredentialRef(institution_id="uk.ac.forth", key="MC1"), page_token=token
        ),
        timeout=10,
    )


def _sources(token: str) -> ATTEMPT:
    return lambda ch, _n: equivalence_pb2_grpc.EquivalenceServiceStub(ch).ListSources(
        eq.ListSourcesRequest(
            unit=rec.CredentialRef(institution_id="uk.ac.forth", key="MC1"), page_token=token
        ),
        timeout=10,
    )


def _resolve(token: str) -> ATTEMPT:
    return lambda ch, _n: equivalence_pb2_grpc.EquivalenceServiceStub(ch).ResolveTransfer(
        eq.ResolveTransferRequest(
            holdings=[holding("uk.ac.taff", "X")],
            target_institution_id="uk.ac.forth",
            page_token=token,
        ),
        timeout=10,
    )


def _conflicts(token: str) -> ATTEMPT:
    return lambda ch, _n: equivalence_pb2_grpc.EquivalenceServiceStub(ch).ListConflicts(
        eq.ListConflictsRequest(institution_id="uk.ac.forth", page_token=token), timeout=10
    )


def _institutions(token: str) -> ATTEMPT:
    return lambda ch, _n: directory_pb2_grpc.DirectoryServiceStub(ch).ListInstitutions(
        directory_pb2.ListInstitutionsRequest(page_token=token), timeout=10
    )


def _publish(first_seq: int) -> ATTEMPT:
    def attempt(ch: grpc.Channel, network: Network) -> object:
        b = batch("uk.ac.forth", [micro_credential(key="MC9")])
        b.first_seq = b.last_seq = b.changes[0].seq = first_seq
        return publication_pb2_grpc.PublicationServiceStub(ch).Publish(
            pub.PublishRequest(envelope=signed(b, network.signers["uk.ac.forth"])), timeout=10
        )

    return attempt


def _change_seq(ch: grpc.Channel, network: Network) -> object:
    b = batch("uk.ac.forth", [micro_credential(key="MC9")])
    b.changes[0].seq = HUGE
    return publication_pb2_grpc.PublicationServiceStub(ch).Publish(
        pub.PublishRequest(envelope=signed(b, network.signers["uk.ac.forth"])), timeout=10
    )


CASES: dict[str, tuple[ATTEMPT, str]] = {
    **{
        f"ListEquivalents page_token {k}": (_equivalents(v), "page_token")
        for k, v in TOKENS.items()
    },
    **{f"ListSources page_token {k}": (_sources(v), "page_token") for k, v in TOKENS.items()},
    **{f"ResolveTransfer page_token {k}": (_resolve(v), "page_token") for k, v in TOKENS.items()},
    **{f"ListConflicts page_token {k}": (_conflicts(v), "page_token") for k, v in TOKENS.items()},
    # An institution id is the directory's token: anything that is not one is refused.
    **{
        f"ListInstitutions page_token {k}": (_institutions(v), "page_token")
        for k, v in {"5,000 characters": "a" * 5000, "not an id": "Z Z", "NUL": "\0"}.items()
    },
    "ListLogEntries from_index 2^64-1": (
        lambda ch, _n: audit_pb2_grpc.AuditServiceStub(ch).ListLogEntries(
            audit.ListLogEntriesRequest(from_index=HUGE), timeout=10
        ),
        "from_index",
    ),
    "ListLogEntries from_index 2^63": (
        lambda ch, _n: audit_pb2_grpc.AuditServiceStub(ch).ListLogEntries(
            audit.ListLogEntriesRequest(from_index=2**63), timeout=10
        ),
        "from_index",
    ),
    "ListBilateralEvents after_event_id 2^64-1": (
        lambda ch, _n: bilateral_pb2_grpc.BilateralServiceStub(ch).ListBilateralEvents(
            bi.ListBilateralEventsRequest(institution_id="uk.ac.forth", after_event_id=HUGE),
            timeout=10,
        ),
        "after_event_id",
    ),
    "Publish first_seq 2^64-1": (_publish(HUGE), "first_seq"),
    "Publish first_seq 2^63": (_publish(2**63), "first_seq"),
    "Publish change seq 2^64-1": (_change_seq, "seq"),
}


@pytest.fixture
def chan(registry: RunningRegistry) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(registry.address) as ch:
        yield ch


@pytest.mark.parametrize("name", sorted(CASES))
def test_numeric_request_field_out_of_range_is_invalid_argument_naming_the_field(
    name: str, chan: grpc.Channel, network: Network
) -> None:
    attempt, field = CASES[name]
    with pytest.raises(grpc.RpcError) as caught:
        attempt(chan, network)
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())
    details = error.details() or ""
    assert field in details
    for leak in (
        "OverflowError",
        "too large to convert",
        "Traceback",
        "invalid literal",
        "Exception",
    ):
        assert leak not in details
    status = rpc_status.from_call(error)
    assert status is not None, "no rich details"
    request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(request)
    assert request.field_violations[0].field.endswith(field)


def test_a_bug_reaches_the_client_as_internal_without_its_exception_text(
    chan: grpc.Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> object:
        raise OverflowError("secret internal detail")

    monkeypatch.setattr(audit_store, "list_log", broken)
    with pytest.raises(grpc.RpcError) as caught:
        audit_pb2_grpc.AuditServiceStub(chan).ListLogEntries(
            audit.ListLogEntriesRequest(), timeout=10
        )
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.INTERNAL
    assert "secret internal detail" not in (error.details() or "")
    assert "OverflowError" not in (error.details() or "")
    assert "registry's log" in (error.details() or "")
