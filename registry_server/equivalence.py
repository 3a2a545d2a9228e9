"""Equivalence queries over the stored records: load the candidates with indexed look-ups,
then let registry_core.resolution decide."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import cast

from sqlalchemy import CompoundSelect, Engine, String, literal, or_, select, union

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.claims import BadClaim, check_holdings, check_prior_learning
from registry_core.conversion import table as conversion_table
from registry_core.credentials import MAX_CREDENTIAL_BYTES
from registry_core.errors import FailedPrecondition, InvalidRecord, NotFound, TooCostly
from registry_core.pathway import find_conflicts, pathway
from registry_core.records import (
    INSTITUTION_ID,
    ISCED,
    granted_unit_keys,
    parse_date,
    source_credentials,
)
from registry_core.resolution import Ref, SourceRecord, resolve
from registry_server import learner_credentials
from registry_server.db import Reads, reading
from registry_server.paging import PAGE_BYTES, M, trimmed
from registry_server.sql import table
from registry_server.tables import AgreementEdge, PublishedRecord, UnitCode

MAX_HOLDINGS = 500
MAX_PRESENTED = learner_credentials.MAX_PRESENTED
MAX_DEPTH = 5
# What one question may read of the network's chains: the edges reached within max_depth
# links. A question reading more holds a query worker for seconds (Python walks every edge
# read), so it is refused as too costly with what to ask instead (fairness). Real networks'
# chains are sparse: on the dense 1,000,000-agreement synthetic network a median depth-3
# question reaches about 300.
MAX_EDGES_READ = 250_000
MAX_PROGRAMME = 200
PAGE_DEFAULT = 100
PAGE_MAX = 1000
MAX_TOKEN_DIGITS = 18  # below 2^63: any offset the database can take
IN_CHUNK = 500


def _bad(field: str, problem: str) -> InvalidRecord:
    return InvalidRecord("request", field, problem)


def page_bounds(page_size: int, page_token: str) -> tuple[int, int]:
    """(offset, size) from a request's paging fields. A token is the offset this registry
    wrote as ASCII digits; anything else (a Unicode digit such as '²', a number too long
    for an offset) is refused by name rather than reaching int() or the database."""
    if page_token and not (
        page_token.isascii() and page_token.isdigit() and len(page_token) <= MAX_TOKEN_DIGITS
    ):
        raise _bad(
            "page_token",
            "is not a token this registry issued; pass next_page_token "
            "from the previous answer, or leave it empty",
        )
    return int(page_token or 0), min(page_size or PAGE_DEFAULT, PAGE_MAX)


def _page(
    entries: Sequence[M],
    offset: int,
    more: bool,
    reserved: int = 0,
) -> tuple[Sequence[M], str]:
    """The leading entries that fit in a page (paging.trimmed; reserved: bytes the answer's
    other fields take), and the token of the next page: more says whether anything follows
    entries."""
    page, follows = trimmed(entries, more, PAGE_BYTES - reserved)
    return page, str(offset + len(page)) if follows else ""


def _as_of(value: str) -> dt.date:
    if not value:
        return dt.datetime.now(dt.UTC).date()
    try:
        return parse_date(value)
    except ValueError as exc:
        raise _bad("as_of", str(exc)) from None


def _check_institution(field: str, value: str) -> None:
    if not INSTITUTION_ID.match(value):
        raise _bad(field, f"'{value[:60]}' is not a registry id such as 'uk.ac.hw'")


# What a held credential can be: a micro-credential, or a module counted as a source.
SOURCE_KINDS: dict[int, type[rec.MicroCredential] | type[rec.LearningUnit]] = {
    rec.RECORD_KIND_MICRO_CREDENTIAL: rec.MicroCredential,
    rec.RECORD_KIND_LEARNING_UNIT: rec.LearningUnit,
}


def _records(
    reads: Reads, wanted: Iterable[tuple[str, int, str]], *, active_only: bool = False
) -> list[tuple[int, int, bytes]]:
    """(kind, status, payload) of the records named by (institution, kind, key), of any
    institutions and kinds, in that order, in one statement per few hundred: a join with the
    wanted rows, each an exact primary-key probe. The status is the row's: a withdrawal
    changes it, not the payload the publisher signed. active_only leaves out records not
    active now."""
    mark = reads.mark
    status = f"AND r.status = {rec.RECORD_STATUS_ACTIVE} " if active_only else ""
    ordered = sorted(set(wanted))
    found: list[tuple[int, int, bytes]] = []
    for start in range(0, len(ordered), IN_CHUNK):
        chunk = ordered[start : start + IN_CHUNK]
        rows = ", ".join(f"({mark}, {mark}, {mark})" for _ in chunk)
        found += [
            (row[0], row[1], bytes(row[2]))
            for row in reads.rows(
                f"WITH wanted(institution_id, kind, key) AS (VALUES {rows}) "
                "SELECT r.kind, r.status, r.payload FROM wanted w JOIN published_record r "
                "ON r.institution_id = w.institution_id AND r.kind = w.kind AND r.key = w.key "
                f"{status}ORDER BY r.institution_id, r.kind, r.key",
                [value for triple in chunk for value in triple],
            )
        ]
    return found


def _source(kind: int, status: int, payload: bytes) -> SourceRecord:
    """A held credential's record as it stands: the row's status, which a withdrawal sets
    without changing the signed payload."""
    record = SOURCE_KINDS[kind].FromString(payload)
    if record.status != status:  # rare: only a withdrawal by tombstone leaves them apart
        record.status = cast(rec.RecordStatus, status)
    return record


def _prefer(found: SourceRecord | None, candidate: SourceRecord) -> SourceRecord:
    """Of two records by a held credential's key (a micro-credential and a module), the one
    resolution judges: an active one before one that is not, then the micro-credential."""
    if found is None:
        return candidate
    rank = [
        (r.status == rec.RECORD_STATUS_ACTIVE, isinstance(r, rec.MicroCredential))
        for r in (found, candidate)
    ]
    return candidate if rank[1] > rank[0] else found


def _agreements(payloads: Iterable[bytes]) -> list[rec.RecognitionAgreement]:
    return [rec.RecognitionAgreement.FromString(p) for p in payloads]


# The edges leaving what the learner holds or reaches in up to depth - 1 links: the
# target's, and the other institutions' active transitive ones (chain links).
_REACHED_EDGES = """
WITH RECURSIVE held(institution_id, key) AS ({held}),
reach(institution_id, key, depth) AS (
    SELECT institution_id, key, 0 FROM held
    UNION
    SELECT e.institution_id, e.grant_unit_key, r.depth + 1
    FROM agreement_edge e JOIN reach r
      ON e.source_institution_id = r.institution_id AND e.source_key = r.key
    WHERE r.depth < {m} AND e.transitive_allowed AND e.status = {m}
      AND e.grant_unit_key <> '' AND e.institution_id <> {m}
)
SELECT DISTINCT e.institution_id, e.agreement_key, e.source_institution_id, e.source_key,
       e.grant_unit_key
FROM reach r JOIN agreement_edge e
  ON e.source_institution_id = r.institution_id AND e.source_key = r.key
WHERE e.institution_id = {m}
   OR (r.depth < {m} AND e.transitive_allowed AND e.status = {m}
       AND e.grant_unit_key <> '')
LIMIT {m}
"""


# A direct question's whole read, in one statement: for each edge from a held credential to
# one of the target's agreements, the agreement, the unit it grants (if active) and the held
# credential's record (a micro-credential or a module by that key) with its status, whatever
# that is: resolution says why a draft, withdrawn or superseded credential earns nothing. An
# agreement naming two held credentials comes twice, and is kept once: no DISTINCT or ORDER
# BY, whose temporary B-trees cost more than the rows they save (written as a UNION of three
# DISTINCT parts, this statement took a query worker three times as long). Against the two
# statements before it, a query worker's CPU a direct question fell by an eighth
# (bench.resolve_cpu).
_DIRECT = """
WITH held(institution_id, key) AS ({held})
SELECT e.agreement_key, a.payload, e.grant_unit_key, u.payload,
       e.source_institution_id, e.source_key, c.status, c.payload, m.status, m.payload
FROM held h JOIN agreement_edge e
  ON e.source_institution_id = h.institution_id AND e.source_key = h.key
 AND e.institution_id = {m}
JOIN published_record a
  ON a.institution_id = e.institution_id AND a.kind = {agreement} AND a.key = e.agreement_key
LEFT JOIN published_record u
  ON u.institution_id = e.institution_id AND u.kind = {unit} AND u.key = e.grant_unit_key
 AND u.status = {active}
LEFT JOIN published_record c ON c.institution_id = e.source_institution_id
 AND c.kind = {credential} AND c.key = e.source_key
LEFT JOIN published_record m ON m.institution_id = e.source_institution_id
 AND m.kind = {unit} AND m.key = e.source_key
"""


# Every page a question may read: the edge index (which covers every column a question
# reads of an edge, so the edge table itself is not read), the records' key index and the
# records (payloads).
_EVERY_PAGE_READ = (
    "SELECT count(*) FROM agreement_edge INDEXED BY ix_agreement_edge_source_publisher",
    "SELECT count(*) FROM published_record INDEXED BY sqlite_autoindex_published_record_1",
    "SELECT max(length(payload)) FROM published_record NOT INDEXED",
)


def warm(engine: Engine) -> bool:
    """On SQLite, reads every page a question may read on this thread's reading connection,
    so that its memory map of the database file holds them before the first question, not
    one page fault at a time during the first thousands: on the 1,000,000-agreement synthetic
    network a question on a fresh connection took ~10 page faults and twice the database time
    of one on a connection that had read its pages. Warming that network takes ~0.2-0.4 s
    when the file is in the OS's cache. Skipped (False) for PostgreSQL, for an in-memory
    database, and when the file is larger than the map, where it would only read what the
    map cannot keep."""
    if engine.dialect.name != "sqlite":
        return False
    with reading(engine) as reads:
        mapped = reads.rows("PRAGMA mmap_size")  # no row: an in-memory database
        size = int(reads.rows("PRAGMA page_count")[0][0]) * int(
            reads.rows("PRAGMA page_size")[0][0]
        )
        if not mapped or size > int(mapped[0][0]):
            return False
        for statement in _EVERY_PAGE_READ:
            reads.rows(statement)
    return True


def _held_values(mark: str, postgresql: bool, count: int) -> str:
    """The VALUES list of a statement's held(institution_id, key) rows, count of them."""
    # PostgreSQL wants the seed rows typed like the recursive rows (varchar); on SQLite a
    # CAST would change the column affinity and stop the index being used.
    seed = (
        f"(CAST({mark} AS VARCHAR), CAST({mark} AS VARCHAR))" if postgresql else f"({mark}, {mark})"
    )
    return "VALUES " + ", ".join(seed for _ in range(count))


@functools.lru_cache(maxsize=2 * MAX_HOLDINGS)
def _direct_sql(mark: str, postgresql: bool, count: int) -> str:
    """_DIRECT for count held credentials, built once per count and dialect."""
    return _DIRECT.format(
        held=_held_values(mark, postgresql, count),
        m=mark,
        agreement=rec.RECORD_KIND_AGREEMENT,
        unit=rec.RECORD_KIND_LEARNING_UNIT,
        credential=rec.RECORD_KIND_MICRO_CREDENTIAL,
        active=rec.RECORD_STATUS_ACTIVE,
    )


def direct_records(
    reads: Reads,
    target: str,
    held: Sequence[Ref],
) -> tuple[list[bytes], dict[str, bytes], dict[Ref, SourceRecord]]:
    """What a direct question reads, in one statement: the payloads of the target's agreements
    that name a held credential, in key order; the payloads of the active units they grant,
    by key (every unit of a series: the edge index has a row for each); and the held
    credentials' records they name, whatever their status (_prefer), by (institution,
    key)."""
    refs = sorted(set(held))
    query = _direct_sql(reads.mark, reads.postgresql, len(refs))
    agreements: dict[str, bytes] = {}
    units: dict[str, bytes] = {}
    sources: dict[Ref, SourceRecord] = {}
    for (
        key,
        agreement,
        unit_key,
        unit,
        institution,
        source_key,
        credential_status,
        credential,
        module_status,
        module,
    ) in reads.rows(query, [v for ref in refs for v in ref] + [target]):
        agreements[key] = agreement
        if unit is not None:
            units[unit_key] = bytes(unit)
        source = (institution, source_key)
        if source in sources:  # parsed once, however many agreements name it
            continue
        for kind, status, payload in (
            (rec.RECORD_KIND_MICRO_CREDENTIAL, credential_status, credential),
            (rec.RECORD_KIND_LEARNING_UNIT, module_status, module),
        ):
            if payload is not None:
                sources[source] = _prefer(
                    sources.get(source), _source(kind, status, bytes(payload))
                )
    return [bytes(agreements[key]) for key in sorted(agreements)], units, sources


def candidate_agreements(reads: Reads, target: str, held: Sequence[Ref], depth: int) -> list[bytes]:
    """Payloads, in (publisher, key) order, of every agreement a resolution may use: the
    target's agreements that name a held credential or a unit reached from one, and the other
    institutions' active transitive agreements on the way to them.

    Direct (depth 1): direct_records. With chains: one recursive statement for the edges
    leaving what is reached in up to depth - 1 links (the UNION and the depth bound make it
    end on cycles), then, walking back from what the target's agreements name, only the
    links on the way there are read. On a dense network much of what is reached leads
    nowhere near the target: at depth 3 on the 1,000,000-agreement synthetic network, a
    median question reaches 301 agreements, of which 99 are on the way."""
    if depth <= 1:  # direct: no recursion to plan for
        return direct_records(reads, target, held)[0]
    refs = sorted(set(held))
    mark = reads.mark
    held_sql = _held_values(mark, reads.postgresql, len(refs))
    params: list[object] = [value for ref in refs for value in ref]
    links, active = depth - 1, rec.RECORD_STATUS_ACTIVE
    params += [links, active, target, target, links, active, MAX_EDGES_READ + 1]
    wanted: set[Ref] = set()  # agreements, by (publisher, key)
    useful: set[Ref] = set()  # what the agreements wanted name
    granting: dict[Ref, list[tuple[Ref, Ref]]] = {}  # unit -> (link, its source), reached
    reached = reads.rows(_REACHED_EDGES.format(held=held_sql, m=mark), params)
    if len(reached) > MAX_EDGES_READ:
        raise TooCostly(
            "agreements read",
            (
                f"request: the chains of up to {depth} links from these {len(refs)} holdings "
                f"reach more than {MAX_EDGES_READ:,} agreements, more than one question may "
                f"read; ask with max_depth {depth - 1}, or about fewer holdings per question"
            ),
        )
    for publisher, key, source_institution, source_key, unit in reached:
        if publisher == target:
            wanted.add((publisher, key))
            useful.add((source_institution, source_key))
        else:
            granting.setdefault((publisher, unit), []).append(
                ((publisher, key), (source_institution, source_key))
            )
    to_visit = list(useful)
    while to_visit:  # back from what the target's agreements name, through the links
        for link, source in granting.get(to_visit.pop(), ()):
            wanted.add(link)
            if source not in useful:
                useful.add(source)
                to_visit.append(source)
    return [
        payload
        for _, _, payload in _records(
            reads, [(publisher, rec.RECORD_KIND_AGREEMENT, key) for publisher, key in wanted]
        )
    ]


def _units_and_sources(
    reads: Reads,
    agreements: Sequence[rec.RecognitionAgreement],
    held: Sequence[Ref],
) -> tuple[dict[Ref, rec.LearningUnit], dict[Ref, SourceRecord]]:
    """In one statement, the active units the agreements grant (each unit of a series) and
    the records of the held credentials they name, whatever their status (a micro-credential
    or a module, by key: for status, level and shelf-life; _prefer picks one), as
    direct_records reads them. A question no agreement answers needs neither."""
    held_named = {
        ref for agreement in agreements for ref in source_credentials(agreement.source)
    }.intersection(held)
    granted = {(a.institution_id, unit) for a in agreements for unit in granted_unit_keys(a.grant)}
    wanted: list[tuple[str, int, str]] = [(i, rec.RECORD_KIND_LEARNING_UNIT, k) for i, k in granted]
    wanted += [(i, kind, k) for i, k in held_named for kind in SOURCE_KINDS]
    units: dict[Ref, rec.LearningUnit] = {}
    sources: dict[Ref, SourceRecord] = {}
    for kind, status, payload in _records(reads, wanted) if wanted else []:
        record = _source(kind, status, payload)
        ref = (record.institution_id, record.key)
        if (
            isinstance(record, rec.LearningUnit)
            and ref in granted
            and status == rec.RECORD_STATUS_ACTIVE
        ):
            units[ref] = record
        if ref in held_named:
            sources[ref] = _prefer(sources.get(ref), record)
    return units, sources


def _candidates(
    reads: Reads,
    target: str,
    held: Sequence[Ref],
    depth: int,
) -> tuple[list[rec.RecognitionAgreement], dict[Ref, rec.LearningUnit], dict[Ref, SourceRecord]]:
    """What resolving the held credentials at target needs: the candidate agreements, the
    active units they grant and the held credentials' records. Direct (depth 1): one
    statement (direct_records)."""
    if depth <= 1:
        payloads, unit_payloads, sources = direct_records(reads, target, held)
        units = {
            (target, key): rec.LearningUnit.FromString(payload)
            for key, payload in unit_payloads.items()
        }
        return _agreements(payloads), units, sources
    agreements = _agreements(candidate_agreements(reads, target, held, depth))
    units, sources = _units_and_sources(reads, agreements, held)
    return agreements, units, sources


def _check_holdings(holdings: Sequence[eq.Holding], programme: str, max_depth: int) -> None:
    """The shape of a question's holdings, programme and depth (what the records say of the
    holdings is checked once they are read: claims.check_holdings)."""
    if len(holdings) > MAX_HOLDINGS:
        raise _bad("holdings", f"has {len(holdings)} entries; send at most {MAX_HOLDINGS}")
    if len(programme) > MAX_PROGRAMME:
        raise _bad(
            "programme",
            f"is {len(programme)} characters long; give the "
            f"programme's code, at most {MAX_PROGRAMME}",
        )
    presented = sum(1 for holding in holdings if holding.verifiable_credential)
    if presented > MAX_PRESENTED:
        raise _bad(
            "holdings",
            f"presents {presented} credentials; present at most {MAX_PRESENTED} in one question",
        )
    for i, holding in enumerate(holdings):
        if holding.verifiable_credential:
            # The credential states what the holding is; learner_credentials checks it and
            # any field given beside it.
            if len(holding.verifiable_credential) > MAX_CREDENTIAL_BYTES:
                raise _bad(
                    f"holdings[{i}].verifiable_credential",
                    "is larger than "
                    f"{MAX_CREDENTIAL_BYTES // 1024} KiB; present it without embedded "
                    "images",
                )
            continue
        # The field's name is only built for an error: this runs for every holding of every
        # question.
        credential = holding.credential
        if not INSTITUTION_ID.match(credential.institution_id):
            _check_institution(
                f"holdings[{i}].credential.institution_id", credential.institution_id
            )
        if not credential.key:
            raise _bad(f"holdings[{i}].credential.key", "is required")
        try:
            parse_date(holding.award_date)
        except ValueError as exc:
            raise _bad(f"holdings[{i}].award_date", str(exc)) from None
    if max_depth > MAX_DEPTH:
        raise _bad(
            "max_depth", f"is {max_depth}; chains of at most {MAX_DEPTH} agreements are followed"
        )


def _latest(as_of: dt.date) -> dt.date:
    """The last day an award or an assessment can have happened: the question's date, or
    today when that is earlier (a question may be asked as of a future date)."""
    return min(as_of, dt.datetime.now(dt.UTC).date())


def _refuse(claim: BadClaim | None) -> None:
    if claim is not None:
        raise _bad(claim.field, claim.problem)


def resolve_transfer(
    engine: Engine, request: eq.ResolveTransferRequest
) -> eq.ResolveTransferResponse:
    """Direct resolution: the target's agreements that name any held credential."""
    _check_institution("target_institution_id", request.target_institution_id)
    if not request.holdings:
        raise _bad("holdings", "is empty; give at least one held credential")
    _check_holdings(request.holdings, request.programme, request.max_depth)
    as_of = _as_of(request.as_of)
    offset, size = page_bounds(request.page_size, request.page_token)
    target = request.target_institution_id
    presents = any(h.verifiable_credential for h in request.holdings)
    with reading(engine, one_statement=request.max_depth <= 1 and not presents) as reads:
        holdings, checked = learner_credentials.check_holdings(reads, request.holdings, as_of)
        held: list[Ref] = [(h.credential.institution_id, h.credential.key) for h in holdings]
        agreements, units, sources = (
            _candidates(reads, target, held, request.max_depth) if held else ([], {}, {})
        )
    _refuse(check_holdings(holdings, sources, _latest(as_of)))
    grants, not_applied = resolve(
        holdings,
        agreements,
        sources=sources,
        units=units,
        as_of=as_of,
        target=target,
        max_depth=request.max_depth or 1,
        programme=request.programme,
    )
    answer = eq.ResolveTransferResponse(
        not_applied=not_applied if offset == 0 else [],
        holdings_checked=checked if offset == 0 else [],
    )
    page, token = _page(
        grants[offset : offset + size],
        offset,
        offset + size < len(grants),
        reserved=answer.ByteSize(),
    )
    answer.grants.extend(page)
    answer.next_page_token = token
    return answer


# Which agreements a filtered look-up keeps: given an agreement and the records it names
# (by (institution, key)), whether it passes the request's filters.
Keep = Callable[[rec.RecognitionAgreement, Mapping[Ref, SourceRecord]], bool]


def _edge_page(
    engine: Engine,
    where: Sequence[object],
    page_size: int,
    page_token: str,
    named: Callable[[rec.RecognitionAgreement], Iterable[tuple[str, int, str]]],
    keep: Keep | None,
) -> tuple[list[eq.Equivalence], str]:
    """Active agreements found through agreement_edge, ordered by (publisher, key). Without
    keep, the database pages them. With keep (a filter on records the agreements name, by
    subject or level, which live in the records' payloads), every agreement the look-up
    finds is read with the records named(agreement) lists, filtered, then paged; a look-up
    names one credential or unit, so that is the agreements about it, tens or hundreds."""
    offset, size = page_bounds(page_size, page_token)
    e = table(AgreementEdge)
    query = (
        select(e.c.institution_id, e.c.agreement_key)
        .distinct()
        .where(e.c.status == rec.RECORD_STATUS_ACTIVE, *where)  # type: ignore[arg-type]
        .order_by(e.c.institution_id, e.c.agreement_key)
    )
    with engine.connect() as connection:
        reads = Reads.on(connection)
        if keep is None:
            found = connection.execute(query.offset(offset).limit(size + 1)).all()
            page = [(row[0], row[1]) for row in found[:size]]
        else:
            page = [(row[0], row[1]) for row in connection.execute(query).all()]
        agreements = sorted(
            _agreements(
                p
                for _, _, p in _records(reads, [(i, rec.RECORD_KIND_AGREEMENT, k) for i, k in page])
            ),
            key=lambda a: (a.institution_id, a.key),
        )
        if keep is None:
            shown, token = _page(
                [eq.Equivalence(agreement=a) for a in agreements], offset, len(found) > size
            )
            return list(shown), token
        records: dict[Ref, SourceRecord] = {}
        for kind, status, payload in _records(reads, [w for a in agreements for w in named(a)]):
            record = _source(kind, status, payload)
            records[(record.institution_id, record.key)] = record
    kept = [a for a in agreements if keep(a, records)]
    shown, token = _page(
        [eq.Equivalence(agreement=a) for a in kept[offset : offset + size]],
        offset,
        offset + size < len(kept),
    )
    return list(shown), token


def _subject_and_level(field: str, subject: str, eqf_level: int) -> None:
    if subject and not ISCED.match(subject):
        raise _bad("subject_isced", f"'{subject[:20]}' is not an ISCED-F code such as '0613'")
    if not 0 <= eqf_level <= 8:
        raise _bad(
            "eqf_level",
            f"is {eqf_level}; give an EQF level from 1 to 8, or 0 for any level of {field}",
        )


def _in_subject_and_level(
    record: rec.LearningUnit | rec.MicroCredential | rec.GeneralCredit | None,
    subject: str,
    eqf_level: int,
) -> bool:
    """Whether record is in subject and at eqf_level (each when given)."""
    if record is None:
        return False
    if subject and record.subject_isced != subject:
        return False
    if eqf_level:
        levels = conversion_table().to_eqf.get(record.level.framework, {})
        return levels.get(record.level.level) == eqf_level
    return True


def list_equivalents(
    engine: Engine, request: eq.ListEquivalentsRequest
) -> eq.ListEquivalentsResponse:
    """Forward look-up: active agreements whose source names the credential, optionally only
    those published by one institution, or granting in one subject or at one EQF level."""
    _check_institution("credential.institution_id", request.credential.institution_id)
    e = table(AgreementEdge)
    where: list[object] = [
        e.c.source_institution_id == request.credential.institution_id,
        e.c.source_key == request.credential.key,
    ]
    if request.target_institution_id:
        _check_institution("target_institution_id", request.target_institution_id)
        where.append(e.c.institution_id == request.target_institution_id)
    subject, eqf_level = request.subject_isced, request.eqf_level
    _subject_and_level("the granted unit or credit", subject, eqf_level)
    keep: Keep | None = None
    if subject or eqf_level:

        def keep(agreement: rec.RecognitionAgreement, records: Mapping[Ref, SourceRecord]) -> bool:
            if agreement.grant.HasField("general_credit"):
                return _in_subject_and_level(agreement.grant.general_credit, subject, eqf_level)
            # records holds learning units only: granted_unit names no other kind. A series
            # is kept when any of its units is in the subject and at the level.
            return any(
                _in_subject_and_level(
                    records.get((agreement.institution_id, unit)), subject, eqf_level
                )
                for unit in granted_unit_keys(agreement.grant)
            )

    def granted_unit(agreement: rec.RecognitionAgreement) -> list[tuple[str, int, str]]:
        return [
            (agreement.institution_id, rec.RECORD_KIND_LEARNING_UNIT, unit)
            for unit in granted_unit_keys(agreement.grant)
        ]

    items, token = _edge_page(
        engine, where, request.page_size, request.page_token, granted_unit, keep
    )
    return eq.ListEquivalentsResponse(equivalences=items, next_page_token=token)


def _codes_of(institution_id: str, code: str) -> CompoundSelect[tuple[str]]:
    """Every code of the units code designates, code itself included: the unit's key and the
    codes it is offered under (cross_listed_keys), whether code is a unit's key or only
    another unit's listed code. A subquery, so the look-up stays one statement."""
    u = table(UnitCode)
    of_unit = u.c.institution_id == institution_id
    listing = select(u.c.unit_key).where(of_unit, u.c.code == code)  # units listing code
    # One flat UNION: SQLite takes no compound select nested in another.
    return union(
        select(literal(code, String)),
        listing,
        select(u.c.code).where(of_unit, or_(u.c.unit_key == code, u.c.unit_key.in_(listing))),
    )


def list_sources(engine: Engine, request: eq.ListSourcesRequest) -> eq.ListSourcesResponse:
    """Reverse look-up: active agreements granting the learning unit, under any of its codes
    (its key or those it is cross-listed under) alone or in a series, optionally only those
    naming a source credential of one institution, in one subject or at one EQF level."""
    _check_institution("unit.institution_id", request.unit.institution_id)
    e = table(AgreementEdge)
    where = [
        e.c.institution_id == request.unit.institution_id,
        e.c.grant_unit_key.in_(_codes_of(request.unit.institution_id, request.unit.key)),
    ]
    if request.source_institution_id:
        _check_institution("source_institution_id", request.source_institution_id)
        where.append(e.c.source_institution_id == request.source_institution_id)
    subject, eqf_level = request.subject_isced, request.eqf_level
    _subject_and_level("a source credential", subject, eqf_level)
    keep: Keep | None = None
    if subject or eqf_level:

        def keep(agreement: rec.RecognitionAgreement, records: Mapping[Ref, SourceRecord]) -> bool:
            return any(
                _in_subject_and_level(records.get(ref), subject, eqf_level)
                for ref in source_credentials(agreement.source)
            )

    def sources(agreement: rec.RecognitionAgreement) -> list[tuple[str, int, str]]:
        return [
            (i, kind, k) for i, k in source_credentials(agreement.source) for kind in SOURCE_KINDS
        ]

    items, token = _edge_page(engine, where, request.page_size, request.page_token, sources, keep)
    return eq.ListSourcesResponse(equivalences=items, next_page_token=token)


def evaluate_pathway(
    engine: Engine, request: eq.EvaluatePathwayRequest
) -> eq.EvaluatePathwayResponse:
    """Progress toward a qualification: resolve the holdings at its institution, add the
    institution's own assessments of the learner's experiential learning, then stack under
    the qualification's regulations. Who may send assessments is the servicer's check
    (service.EquivalenceService): they are the institution's own records."""
    _check_institution("qualification.institution_id", request.qualification.institution_id)
    target, key = request.qualification.institution_id, request.qualification.key
    _check_holdings(request.holdings, "", request.max_depth)
    as_of = _as_of(request.as_of)
    assessed = [a.unit_key for a in request.prior_learning]
    with reading(engine) as reads:
        holdings, checked = learner_credentials.check_holdings(reads, request.holdings, as_of)
        held: list[Ref] = [(h.credential.institution_id, h.credential.key) for h in holdings]
        found = _records(
            reads, [(target, rec.RECORD_KIND_LEARNING_UNIT, k) for k in [key, *assessed]]
        )
        if held:
            agreements, granted, sources = _candidates(reads, target, held, request.max_depth)
        else:
            agreements, granted, sources = [], {}, {}
    read = {
        unit.key: (status, unit)
        for _, status, payload in found
        for unit in [rec.LearningUnit.FromString(payload)]
    }
    qualification = read[key][1] if key in read else None
    if qualification is None:
        raise NotFound(f"LearningUnit {target}/{key} is not in the registry")
    if read[key][0] != rec.RECORD_STATUS_ACTIVE:
        state = rec.RecordStatus.Name(read[key][0]).removeprefix("RECORD_STATUS_").lower()
        raise FailedPrecondition(
            f"qualification {target}/{key} is {state}; ask about one its "
            "institution offers (an active qualification)"
        )
    if qualification.kind != rec.LEARNING_UNIT_KIND_QUALIFICATION or not qualification.HasField(
        "stacking_rule"
    ):
        raise InvalidRecord(
            "request",
            "qualification",
            f"{target}/{key} is a module or has no stacking rule; name a qualification",
        )
    if not request.holdings and not assessed:
        raise _bad(
            "holdings",
            "is empty, and so is prior_learning; give at least one held credential or assessment",
        )
    latest = _latest(as_of)
    _refuse(check_holdings(holdings, sources, latest))
    modules = {
        k: read[k][1] for k in assessed if k in read and read[k][0] == rec.RECORD_STATUS_ACTIVE
    }
    _refuse(check_prior_learning(request.prior_learning, modules, target, latest))
    units = {**granted, **{(target, key): unit for key, unit in modules.items()}}
    answer = pathway(
        qualification,
        holdings,
        agreements,
        sources=sources,
        units=units,
        as_of=as_of,
        prior_learning=request.prior_learning,
        max_depth=request.max_depth or 1,
    )
    answer.holdings_checked.extend(checked)
    return answer


def list_conflicts(engine: Engine, request: eq.ListConflictsRequest) -> eq.ListConflictsResponse:
    """Agreements of one publisher that give different grants for the same source."""
    _check_institution("institution_id", request.institution_id)
    offset, size = page_bounds(request.page_size, request.page_token)
    r = table(PublishedRecord)
    with engine.connect() as connection:
        payloads = (
            connection.execute(
                select(r.c.payload).where(
                    r.c.institution_id == request.institution_id,
                    r.c.kind == rec.RECORD_KIND_AGREEMENT,
                    r.c.status == rec.RECORD_STATUS_ACTIVE,
                )
            )
            .scalars()
            .all()
        )
    conflicts = find_conflicts(_agreements(map(bytes, payloads)))
    page, token = _page(conflicts[offset : offset + size], offset, offset + size < len(conflicts))
    return eq.ListConflictsResponse(conflicts=page, next_page_token=token)
