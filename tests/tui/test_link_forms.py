"""The forms state what the catalogue files already could: a record's structured quality
assurance, its successor and its overlaps, a unit's grading scheme, and an agreement's
required quality assurance and volume exception. Each is typed in the files' written form,
shown back in it (an unchanged save is no new version), and a wrong one is its field's error,
never a crash. Driven through the real app by Textual's Pilot."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select

from registry.v1 import records_pb2 as rec
from tests.tui.helpers import form_error, open_tab, taff_home, type_into
from tui.app import RegistrarApp, make_app
from tui.forms import RecordForm

# Two quality assurances as a registrar might type them (a kind in words, any case) and as
# the form writes them back.
QA_TYPED = (
    "QAA <https://www.qaa.ac.uk>; institutional review; 2023-05-01; https://qaa/r/1 | "
    "BCS; PROFESSIONAL_BODY_RECOGNITION; 2024-01-01; until 2029-12-31"
)
QA_SHOWN = (
    "QAA <https://www.qaa.ac.uk>; INSTITUTIONAL_REVIEW; 2023-05-01; https://qaa/r/1 | "
    "BCS; PROFESSIONAL_BODY_RECOGNITION; 2024-01-01; until 2029-12-31"
)
ODD = ("", "   ", ";;;", "|||", " | ; | ", "x" * 5000)
# Where each kind of record is listed: its tab, its table and one of the demonstration's.
MICRO_CREDENTIAL = (
    "micro-credentials",
    "#credentials",
    rec.RECORD_KIND_MICRO_CREDENTIAL,
    "TAF-ML01",
)
MODULE = ("units", "#learning-units", rec.RECORD_KIND_LEARNING_UNIT, "CS7DE")
AGREEMENT = ("agreements-tab", "#agreements", rec.RECORD_KIND_AGREEMENT, "AG-DATA-STACK")


async def _edit(pilot: Pilot[None], where: tuple[str, str, int, str]) -> None:
    tab, table_id, _, key = where
    await open_tab(pilot, tab)
    table = pilot.app.query_one(table_id, DataTable)
    table.move_cursor(row=table.get_row_index(key))
    await pilot.press("e")
    await pilot.pause()
    assert isinstance(pilot.app.screen, RecordForm)


def _value(app: RegistrarApp, selector: str) -> str:
    return app.screen.query_one(selector, Input).value


def _select(app: RegistrarApp, selector: str) -> Select[str]:
    return app.screen.query_one(selector, Select)


async def _save(pilot: Pilot[None], where: tuple[str, str, int, str]) -> object:
    """Save the form, which must be ready; the record as the store now holds it."""
    app = pilot.app
    assert isinstance(app, RegistrarApp)
    await pilot.pause()
    assert "Ready to save" in form_error(app)
    await pilot.press("ctrl+s")
    await pilot.pause()
    return app.store.get(where[2], where[3])


async def _save_unchanged(
    pilot: Pilot[None], where: tuple[str, str, int, str], version: int
) -> None:
    """Reopen the record and save it as shown: the store keeps the same version."""
    app = pilot.app
    assert isinstance(app, RegistrarApp)
    await _edit(pilot, where)
    assert "Ready to save" in form_error(app)
    await pilot.press("ctrl+s")
    await pilot.pause()
    again = app.store.get(where[2], where[3])
    assert again is not None and again.version == version


async def test_a_micro_credential_takes_quality_assurance_successor_and_overlaps(
    tmp_path: Path,
) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await _edit(pilot, MICRO_CREDENTIAL)
        await type_into(pilot, "#f-quality-assurances", QA_TYPED)
        _select(app, "#f-status").value = "SUPERSEDED"
        await pilot.pause()
        assert form_error(app).startswith("Superseded by: is required for a SUPERSEDED record")
        await type_into(pilot, "#f-superseded-by", "TAF-ML02")
        await type_into(pilot, "#f-overlaps-with", "uk.ac.taff/CS7DE | uk.ac.forth/FOR-DE01")
        saved = await _save(pilot, MICRO_CREDENTIAL)
        assert isinstance(saved, rec.MicroCredential) and saved.version == 2
        assert saved.status == rec.RECORD_STATUS_SUPERSEDED and saved.superseded_by == "TAF-ML02"
        assert [
            (qa.body, qa.body_id, qa.kind, qa.valid_until) for qa in saved.quality_assurances
        ] == [
            ("QAA", "https://www.qaa.ac.uk", rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW, ""),
            ("BCS", "", rec.QUALITY_ASSURANCE_KIND_PROFESSIONAL_BODY_RECOGNITION, "2029-12-31"),
        ]
        assert [f"{r.institution_id}/{r.key}" for r in saved.overlaps_with] == [
            "uk.ac.taff/CS7DE",
            "uk.ac.forth/FOR-DE01",
        ]

        await _edit(pilot, MICRO_CREDENTIAL)
        assert _value(app, "#f-quality-assurances") == QA_SHOWN
        assert _value(app, "#f-superseded-by") == "TAF-ML02"
        assert _select(app, "#f-status").value == "SUPERSEDED"
        await pilot.press("escape")
        await _save_unchanged(pilot, MICRO_CREDENTIAL, 2)
    app.store.close()


async def test_a_module_takes_grading_scheme_quality_assurance_successor_and_overlaps(
    tmp_path: Path,
) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await _edit(pilot, MODULE)
        _select(app, "#f-grading-scheme").value = "PERCENTAGE"
        await type_into(pilot, "#f-quality-assurances", QA_TYPED)
        await type_into(pilot, "#f-superseded-by", "CS7DE2")
        await type_into(pilot, "#f-overlaps-with", "uk.ac.taff/TAF-ML01")
        saved = await _save(pilot, MODULE)
        assert isinstance(saved, rec.LearningUnit) and saved.version == 2
        assert saved.grading_scheme == "PERCENTAGE" and saved.superseded_by == "CS7DE2"
        assert len(saved.quality_assurances) == 2
        assert saved.overlaps_with[0] == rec.CredentialRef(
            institution_id="uk.ac.taff", key="TAF-ML01"
        )

        await _edit(pilot, MODULE)
        assert _select(app, "#f-grading-scheme").value == "PERCENTAGE"
        assert _value(app, "#f-quality-assurances") == QA_SHOWN
        assert _value(app, "#f-overlaps-with") == "uk.ac.taff/TAF-ML01"
        await pilot.press("escape")
        await _save_unchanged(pilot, MODULE, 2)
    app.store.close()


async def test_an_agreement_takes_required_quality_assurance_and_a_volume_exception(
    tmp_path: Path,
) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await _edit(pilot, AGREEMENT)
        await type_into(
            pilot, "#f-conditions-required-quality-assurance-bodies", "QAA | https://www.bcs.org"
        )
        await type_into(
            pilot,
            "#f-conditions-required-quality-assurance-kinds",
            "programme accreditation | INSTITUTIONAL_REVIEW",
        )
        await type_into(pilot, "#f-volume-exception", "an articulation year for the HND")
        saved = await _save(pilot, AGREEMENT)
        assert isinstance(saved, rec.RecognitionAgreement) and saved.version == 2
        required = saved.conditions.required_quality_assurance
        assert list(required.bodies) == ["QAA", "https://www.bcs.org"]
        assert list(required.kinds) == [
            rec.QUALITY_ASSURANCE_KIND_PROGRAMME_ACCREDITATION,
            rec.QUALITY_ASSURANCE_KIND_INSTITUTIONAL_REVIEW,
        ]
        assert saved.volume_exception == "an articulation year for the HND"
        assert saved.conditions.valid_from == "2024-09-01"  # the rest of the conditions kept

        await _edit(pilot, AGREEMENT)
        assert (
            _value(app, "#f-conditions-required-quality-assurance-kinds")
            == "PROGRAMME_ACCREDITATION | INSTITUTIONAL_REVIEW"
        )
        await pilot.press("escape")
        await _save_unchanged(pilot, AGREEMENT, 2)

        # Emptied, the requirement is gone, not kept as an empty one.
        await _edit(pilot, AGREEMENT)
        await type_into(pilot, "#f-conditions-required-quality-assurance-bodies", "")
        await type_into(pilot, "#f-conditions-required-quality-assurance-kinds", "")
        await pilot.press("ctrl+s")
        await pilot.pause()
        cleared = app.store.get(rec.RECORD_KIND_AGREEMENT, "AG-DATA-STACK")
        assert isinstance(cleared, rec.RecognitionAgreement) and cleared.version == 3
        assert not cleared.conditions.HasField("required_quality_assurance")
    app.store.close()


# For each form, each new field with a wrong value and its label.
WRONG = {
    "micro-credential": (
        MICRO_CREDENTIAL,
        [
            ("#f-quality-assurances", "QA decisions", "QAA; peer review; 2023-05-01"),
            ("#f-superseded-by", "Superseded by", "TAF ML02 !"),
            ("#f-overlaps-with", "Overlaps with", "CS7DE"),
        ],
    ),
    "module": (
        MODULE,
        [
            ("#f-quality-assurances", "QA decisions", "QAA; INSTITUTIONAL_REVIEW; 2023-13-01"),
            ("#f-superseded-by", "Superseded by", "CS7DE"),
            ("#f-overlaps-with", "Overlaps with", "uk.ac.taff/CS7DE"),
        ],
    ),
    "agreement": (
        AGREEMENT,
        [
            (
                "#f-conditions-required-quality-assurance-bodies",
                "Sources QA'd by",
                "QAA | " + "x" * 2001,
            ),
            (
                "#f-conditions-required-quality-assurance-kinds",
                "Sources' QA kinds",
                "accreditation",
            ),
            ("#f-volume-exception", "Volume exception", "x" * 2001),
        ],
    ),
}


@pytest.mark.parametrize("form", WRONG)
async def test_a_wrong_value_names_its_field_and_odd_input_never_crashes(
    tmp_path: Path, form: str
) -> None:
    where, fields = WRONG[form]
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await _edit(pilot, where)
        for field, label, bad in fields:
            await type_into(pilot, field, bad[:60])
            if len(bad) > 60:
                app.screen.query_one(field, Input).value = bad
            await pilot.pause()
            assert form_error(app).startswith(label), form_error(app)
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert isinstance(app.screen, RecordForm)  # not saved: the form stays open
            for odd in ODD:
                app.screen.query_one(field, Input).value = odd
                await pilot.pause()
                error = form_error(app)
                assert error.startswith(label) or "Ready to save" in error, (odd, error)
            app.screen.query_one(field, Input).value = ""
        await pilot.pause()
        assert "Ready to save" in form_error(app)
    app.store.close()
