"""Convert a transcribed articulation agreement into the catalogue files the agent imports.

The transcription (JSON, shape in README.md beside this file) states, for one sending college
and one receiving university, each statement of the agreement as the published agreement
gives it: receiving course(s), sending course groups joined by Or (courses in a group joined
by And), or "no course articulated" with its reason, and notes. This module turns it into
records.proto records:

- each sending course: a LearningUnit (MODULE) of the college, credit in US semester hours;
- each receiving course: a LearningUnit (MODULE) of the university, credit in US quarter
  hours, "same as" codes in cross_listed_keys;
- each articulated statement: a RecognitionAgreement published by the university. One
  receiving course: Grant.unit_key; several granted together (a series): Grant.units. One
  And-group: an ALL_OF source; several groups: ANY_OF of them (a one-course group is a
  credential item, a longer one a nested ALL_OF group).
- conditions: completed_from/completed_to from the agreement's academic year and the sending
  courses' first terms (see TERM_START), for_programmes and restriction_text from the major
  the agreement is for, the notes, and also_satisfies naming the other statements of the same
  major agreement that use any of the same sending courses (the agreement states both, so
  the overlap is intended, not a double count to refuse).
- "no course articulated" statements become no record (there is nothing to grant); they are
  listed in the conversion report.

Term -> date (TERM_START): a term code is F (Fall), W (Winter), S (Spring) or SU (Summer)
and a year. Fall Y starts Y-08-15, Winter Y on Y-01-02, Spring Y on Y-02-01 (the college's
spring semester), Summer Y on Y-06-01. A course first offered in a term can be completed no
earlier than that term's start, so completed_from is the latest of the academic year's first
term start and the group's courses' first-term starts. An academic year Y-(Y+1) covers
completions from Fall Y's start to the day before Fall Y+1's start: 2024-2025 is 2024-08-15
to 2025-08-14. When an Or-statement's groups have different earliest dates, the statement
becomes one agreement per group (keys ending "#1", "#2", ...), each with its own window.

Quarter units are US_QUARTER_HOUR and levels US_DIVISION LOWER. A minimum grade in a scheme
the conversion table does not have (a US letter grade) is left out, not compared on a scale
that is not its own; the agreement's note, which states it, is carried. Keys are kept as the
agreement writes them ("POL SC 51"), spaces included; `--check` reports the records that
validation refuses.

    python -m demo_network.articulation [TRANSCRIPTION.json] --out DIR [--check]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from registry.v1 import records_pb2 as rec
from registry_core.conversion import table

BUNDLED = "smc-ucsd-2024-25.json"
TERM = re.compile(r"^(SU|F|W|S)(\d{4})\Z")
TERM_START = {"F": (8, 15), "W": (1, 2), "S": (2, 1), "SU": (6, 1)}


def term_start(term: str) -> dt.date:
    """The first day of a term ("F2024" -> 2024-08-15)."""
    match = TERM.match(term.strip().upper())
    if not match:
        raise ValueError(f"'{term}' is not a term code (F2024, W2008, S1999, SU2025)")
    month, day = TERM_START[match.group(1)]
    return dt.date(int(match.group(2)), month, day)


def academic_year_window(code: str) -> tuple[dt.date, dt.date]:
    """Completions an academic year covers: "2024-2025" -> (2024-08-15, 2025-08-14)."""
    first, second = (int(part) for part in code.split("-"))
    if second != first + 1:
        raise ValueError(f"'{code}' is not an academic year like 2024-2025")
    return term_start(f"F{first}"), term_start(f"F{second}") - dt.timedelta(days=1)


@dataclass
class Converted:
    """The records of one transcription, and what did not become a record."""

    sending_id: str
    receiving_id: str
    sending_units: list[rec.LearningUnit] = field(default_factory=list)
    receiving_units: list[rec.LearningUnit] = field(default_factory=list)
    agreements: list[rec.RecognitionAgreement] = field(default_factory=list)
    not_articulated: list[dict[str, Any]] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    statement_keys: dict[str, list[str]] = field(default_factory=dict)  # statement id -> keys

    def catalogues(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """Catalogue JSON per institution (docs/catalogue.md, "Catalogue files")."""

        def dump(records: Sequence[Any]) -> list[dict[str, Any]]:
            return [json_format.MessageToDict(r) for r in records]

        return {
            self.sending_id: {"learning_units": dump(self.sending_units)},
            self.receiving_id: {
                "learning_units": dump(self.receiving_units),
                "agreements": dump(self.agreements),
            },
        }


def _unit(
    institution_id: str, course: dict[str, Any], credit: rec.Credit, level: rec.Level | None
) -> rec.LearningUnit:
    unit = rec.LearningUnit(
        institution_id=institution_id,
        key=course["key"],
        version=1,
        status=rec.RECORD_STATUS_ACTIVE,
        title=course["title"],
        kind=rec.LEARNING_UNIT_KIND_MODULE,
        credit=credit,
        cross_listed_keys=course.get("same_as", []),
    )
    if level is not None:
        unit.level.CopyFrom(level)
    return unit


def _sending_text(groups: Sequence[Sequence[str]]) -> str:
    return " or ".join(
        " and ".join(g) if len(g) == 1 or len(groups) == 1 else "(" + " and ".join(g) + ")"
        for g in groups
    )


def convert(transcription: dict[str, Any]) -> Converted:
    """The records the transcription states (see the module's docstring for the rules)."""
    sending, receiving = transcription["sending"], transcription["receiving"]
    out = Converted(sending["institution_id"], receiving["institution_id"])
    lower = rec.Level(framework="US_DIVISION", level="LOWER")
    quarter = receiving.get("credit_system", "US_QUARTER_HOUR")
    first_term: dict[str, dt.date] = {}
    listed = {course["key"] for course in transcription["sending_courses"]}
    same_as: dict[str, list[str]] = {}
    for course in transcription["sending_courses"]:
        credit = rec.Credit(value=course["units"], system=sending["credit_system"])
        out.sending_units.append(_unit(out.sending_id, course, credit, lower))
        first_term[course["key"]] = term_start(course["begin"])
        same_as[course["key"]] = course.get("same_as", [])
        for alias in same_as[course["key"]]:  # the college publishes each code it offers
            if alias not in listed:
                listed.add(alias)
                out.sending_units.append(
                    _unit(
                        out.sending_id,
                        {**course, "key": alias, "same_as": [course["key"]]},
                        credit,
                        lower,
                    )
                )
    for course in transcription["receiving_courses"]:
        credit = rec.Credit(value=course["units"], system=quarter)
        out.receiving_units.append(_unit(out.receiving_id, course, credit, lower))
    year_from, year_to = academic_year_window(transcription["academic_year"]["code"])
    known_sending = set(first_term)
    known_receiving = {c["key"] for c in transcription["receiving_courses"]}
    for major in transcription["agreements"]:
        records: list[tuple[dict[str, Any], rec.RecognitionAgreement, set[str]]] = []
        for st in major["statements"]:
            unknown = [k for k in st["receiving"] if k not in known_receiving]
            if unknown:
                raise ValueError(f"{st['id']}: receiving course(s) {unknown} not listed")
            if st.get("no_articulation"):
                out.not_articulated.append(
                    {
                        "statement": st["id"],
                        "major": major["major"],
                        "receiving": st["receiving"],
                        "reason": st["no_articulation"],
                        "notes": st.get("notes", []),
                    }
                )
                continue
            groups: list[list[str]] = st["sending"]
            for g in groups:
                if not g or any(k not in known_sending for k in g):
                    raise ValueError(f"{st['id']}: sending group {g} names unlisted courses")
            earliest = [max([year_from, *(first_term[k] for k in g)]) for g in groups]
            parts = (
                [(groups, earliest[0])]
                if len(set(earliest)) == 1
                else [([g], e) for g, e in zip(groups, earliest)]
            )
            base = f"{major['code']}/{'/'.join(st['receiving'])}"
            out.statement_keys[st["id"]] = []
            for n, (part, completed_from) in enumerate(parts, start=1):
                key = base if len(parts) == 1 else f"{base}#{n}"
                out.statement_keys[st["id"]].append(key)
                records.append(
                    (
                        st,
                        _agreement(
                            out,
                            major,
                            st,
                            key,
                            part,
                            completed_from,
                            year_to,
                            transcription,
                            same_as,
                        ),
                        {k for g in part for k in g},
                    )
                )
        for st, agreement, used in records:  # statements of one major sharing a course
            agreement.also_satisfies.extend(
                other.key
                for _, other, theirs in records
                if other.key != agreement.key and used & theirs
            )
            out.agreements.append(agreement)
    return out


def _agreement(
    out: Converted,
    major: dict[str, Any],
    st: dict[str, Any],
    key: str,
    groups: list[list[str]],
    completed_from: dt.date,
    completed_to: dt.date,
    transcription: dict[str, Any],
    same_as: dict[str, list[str]],
) -> rec.RecognitionAgreement:
    def one(k: str) -> rec.SourceItem:
        return rec.SourceItem(credential=rec.CredentialRef(institution_id=out.sending_id, key=k))

    def credential(k: str) -> rec.SourceItem:
        """A sending course, or any of its codes when it is cross-listed ("same as"): the
        agreement names the course, which the learner may have taken under either code."""
        if not same_as.get(k):
            return one(k)
        return rec.SourceItem(
            group=rec.SourceGroup(
                operator=rec.GROUP_OPERATOR_ANY_OF, items=[one(c) for c in (k, *same_as[k])]
            )
        )

    def all_of(g: list[str]) -> rec.SourceGroup:
        return rec.SourceGroup(operator=rec.GROUP_OPERATOR_ALL_OF, items=[credential(k) for k in g])

    if len(groups) == 1:
        source = all_of(groups[0])
    else:
        source = rec.SourceGroup(
            operator=rec.GROUP_OPERATOR_ANY_OF,
            items=[
                credential(g[0]) if len(g) == 1 else rec.SourceItem(group=all_of(g)) for g in groups
            ],
        )
    if len(st["receiving"]) == 1:
        grant = rec.Grant(unit_key=st["receiving"][0])
    else:
        grant = rec.Grant(
            units=rec.UnitSeries(unit_keys=st["receiving"], name=st.get("series", ""))
        )
    year = transcription["academic_year"]["code"]
    conditions = rec.Conditions(
        completed_from=completed_from.isoformat(),
        completed_to=completed_to.isoformat(),
        for_programmes=[major["major"]],
        restriction_text=f"articulated for the {major['major']} major only (major agreement "
        f"{year})",
    )
    minimum = major.get("minimum_grade")
    if minimum and minimum["scheme"] in table().grading_schemes:
        conditions.minimum_grade.scheme = minimum["scheme"]
        conditions.minimum_grade.value = minimum["grade"]
    elif minimum:
        note = (
            f"minimum grade {minimum['grade']} ({minimum['scheme']}) of "
            f"{major['code']} left to its note: the scheme is not in the conversion table"
        )
        if note not in out.fallbacks:
            out.fallbacks.append(note)
    sending_name = transcription["sending"]["name"]
    receiving_name = transcription["receiving"]["name"]
    return rec.RecognitionAgreement(
        institution_id=out.receiving_id,
        key=key,
        version=1,
        status=rec.RECORD_STATUS_ACTIVE,
        title=f"{sending_name} {_sending_text(groups)} -> {receiving_name} "
        f"{' and '.join(st['receiving'])} ({major['major']}, {year})",
        source=source,
        grant=grant,
        conditions=conditions,
        notes=[*major.get("notes", []), *st.get("notes", [])],
    )


def load(path: Path | None = None) -> dict[str, Any]:
    """A transcription: the file given, or the bundled SMC -> UCSD 2024-2025 one."""
    if path is None:
        text = resources.files(__package__).joinpath(BUNDLED).read_text(encoding="utf-8")
        return json.loads(text)  # type: ignore[no-any-return]
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def check(converted: Converted) -> list[str]:
    """What the record validation refuses, one line per record."""
    from registry_core.errors import InvalidRecord
    from registry_core.records import validate_record

    problems = []
    records: list[rec.LearningUnit | rec.RecognitionAgreement] = [
        *converted.sending_units,
        *converted.receiving_units,
        *converted.agreements,
    ]
    for record in records:
        try:
            validate_record(record)
        except InvalidRecord as error:
            problems.append(f"{record.institution_id}/{record.key}: {error}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo_network.articulation",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "transcription",
        nargs="?",
        type=Path,
        help=f"transcription JSON (default: the bundled {BUNDLED})",
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for <institution>.json catalogue files"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="also report the records the registry's validation refuses",
    )
    args = parser.parse_args(argv)
    converted = convert(load(args.transcription))
    args.out.mkdir(parents=True, exist_ok=True)
    for institution, catalogue in converted.catalogues().items():
        path = args.out / f"{institution}.json"
        path.write_text(
            json.dumps(catalogue, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        print(f"wrote {path}: " + ", ".join(f"{len(v)} {k}" for k, v in catalogue.items()))
    (args.out / "not-articulated.json").write_text(
        json.dumps(converted.not_articulated, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(
        f"{len(converted.not_articulated)} statements articulate no course "
        f"(listed in {args.out / 'not-articulated.json'})"
    )
    for fallback in converted.fallbacks:
        print(f"note: {fallback}")
    if args.check:
        problems = check(converted)
        for line in problems:
            print(f"refused: {line}")
        total = (
            len(converted.sending_units)
            + len(converted.receiving_units)
            + len(converted.agreements)
        )
        print(f"{len(problems)} of {total} records refused by validation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
