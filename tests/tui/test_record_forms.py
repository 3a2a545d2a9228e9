"""The catalogue forms say what issue 19 added: a micro-credential's yes/no elements can be
not stated, and a qualification takes its learning outcomes and award regulations in the
catalogue files' written forms. Driven through the real app by Textual's Pilot."""

from __future__ import annotations

import re
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select

from registry.v1 import records_pb2 as rec
from tests.tui.helpers import form_error, open_tab, taff_home, type_into
from tui.app import RegistrarApp, make_app
from tui.forms import RecordForm


def _select(app: RegistrarApp, selector: str) -> Select[str]:
    return app.screen.query_one(selector, Select)


async def _new_unit(pilot: Pilot[None], key: str, kind: str, credit: str, level: str) -> None:
    """Open the units tab's new-unit form and fill in the unit's basics: its key (also its
    title), its kind, its UK credit and its FHEQ level."""
    await open_tab(pilot, "units")
    await pilot.press("n")
    await pilot.pause()
    app = pilot.app
    assert isinstance(app, RegistrarApp) and isinstance(app.screen, RecordForm)
    await type_into(pilot, "#f-key", key)
    await type_into(pilot, "#f-title", key)
    _select(app, "#f-kind").value = kind
    await type_into(pilot, "#f-credit-value", credit)
    _select(app, "#f-credit-system").value = "UK_CREDIT"
    _select(app, "#f-level-framework").value = "FHEQ"
    await type_into(pilot, "#f-level-level", level)


async def test_stackable_and_identity_verification_can_be_not_stated(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#credentials", DataTable)
        table.move_cursor(row=table.get_row_index("TAF-ML01"))  # states both: yes
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, RecordForm)
        assert _select(app, "#f-stackable").value == "Yes"
        _select(app, "#f-stackable").clear()  # Not stated
        _select(app, "#f-identity-verified-assessment").value = "No"
        await pilot.pause()
        assert "Ready to save" in form_error(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = app.store.get(rec.RECORD_KIND_MICRO_CREDENTIAL, "TAF-ML01")
        assert isinstance(saved, rec.MicroCredential) and saved.version == 2
        assert not saved.HasField("stackable")
        assert saved.HasField("identity_verified_assessment")
        assert not saved.identity_verified_assessment

        table.move_cursor(row=table.get_row_index("TAF-GR01"))  # states neither
        await pilot.press("e")
        await pilot.pause()
        assert _select(app, "#f-stackable").is_blank()
        await pilot.press("ctrl+s")
        await pilot.pause()
        unchanged = app.store.get(rec.RECORD_KIND_MICRO_CREDENTIAL, "TAF-GR01")
        assert isinstance(unchanged, rec.MicroCredential) and unchanged.version == 1
        assert not unchanged.HasField("stackable")
    app.store.close()


async def test_a_qualification_takes_learning_outcomes_and_regulations(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "units")
        await pilot.press("n")
        await pilot.pause()
        regulation_row = app.screen.query_one("#row-f-stacking-rule-regulations-residency")
        assert not regulation_row.display  # no kind chosen yet: not a qualification
        await pilot.press("escape")
        await _new_unit(pilot, "TAF-MSC", "QUALIFICATION", "180", "7")
        regulation_row = app.screen.query_one("#row-f-stacking-rule-regulations-residency")
        await type_into(pilot, "#f-learning-outcomes", "Design systems; Evaluate them")
        await pilot.pause()
        assert regulation_row.display
        await type_into(pilot, "#f-stacking-rule-regulations-max-from-elsewhere", "3/2")
        assert "Total credit" in form_error(app)  # the regulations need the award's total
        await type_into(pilot, "#f-stacking-rule-total", "180 UK_CREDIT")
        assert (
            "Max from elsewhere (share): is "
            "1.5; give 0, or a share from 0.0001 to 1" in form_error(app)
        )
        await type_into(
            pilot, "#f-stacking-rule-regulations-max-from-elsewhere", "120 UK_CREDIT or 2/3"
        )
        await type_into(
            pilot, "#f-stacking-rule-regulations-residency", "60 UK_CREDIT at FHEQ seven"
        )
        assert "Study here" in form_error(app) and "not a level of FHEQ" in form_error(app)
        await type_into(
            pilot, "#f-stacking-rule-regulations-residency", "60 UK_CREDIT at FHEQ 7 | 20 UK_CREDIT"
        )
        await type_into(pilot, "#f-stacking-rule-regulations-relevant-subjects-isced", "06")
        await pilot.pause()
        assert "Ready to save" in form_error(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = app.store.get(rec.RECORD_KIND_LEARNING_UNIT, "TAF-MSC")
        assert isinstance(saved, rec.LearningUnit)
        assert list(saved.learning_outcomes) == ["Design systems", "Evaluate them"]
        regs = saved.stacking_rule.regulations
        assert saved.stacking_rule.total == rec.Credit(value=180, system="UK_CREDIT")
        assert regs.max_from_elsewhere == rec.CreditLimit(
            credit=rec.Credit(value=120, system="UK_CREDIT"), share=2 / 3
        )
        assert len(regs.residency) == 2 and not regs.residency[1].HasField("level")
        assert list(regs.relevant_subjects_isced) == ["06"]

        units = app.query_one("#learning-units", DataTable)
        units.move_cursor(row=units.get_row_index("TAF-MSC"))
        await pilot.press("e")
        await pilot.pause()
        # The form writes back what it read, so an unchanged save is no change.
        assert (
            app.screen.query_one("#f-stacking-rule-regulations-max-from-elsewhere", Input).value
            == "120 UK_CREDIT or 2/3"
        )
        assert (
            app.screen.query_one("#f-stacking-rule-regulations-residency", Input).value
            == "60 UK_CREDIT at FHEQ 7 | 20 UK_CREDIT"
        )
        await pilot.press("ctrl+s")
        await pilot.pause()
        again = app.store.get(rec.RECORD_KIND_LEARNING_UNIT, "TAF-MSC")
        assert again is not None and again.version == 1
    app.store.close()


async def test_a_module_keeps_no_regulations_typed_before_its_kind_changed(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await _new_unit(pilot, "TAF-M1", "QUALIFICATION", "20", "6")
        await type_into(pilot, "#f-stacking-rule-regulations-max-experiential", "1/3")
        _select(app, "#f-kind").value = "MODULE"
        await pilot.pause()
        assert not app.screen.query_one("#row-f-stacking-rule-regulations-max-experiential").display
        assert "Ready to save" in form_error(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = app.store.get(rec.RECORD_KIND_LEARNING_UNIT, "TAF-M1")
        assert isinstance(saved, rec.LearningUnit) and not saved.HasField("stacking_rule")
    app.store.close()


async def test_a_negative_or_huge_count_of_months_is_a_field_error_not_a_crash(
    tmp_path: Path,
) -> None:
    """Months are held unsigned: a negative number once stopped the app. It is the field's
    error now, and the form stays open with what was typed."""
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await _new_unit(pilot, "TAF-MSC", "QUALIFICATION", "180", "7")
        await type_into(pilot, "#f-stacking-rule-total", "180 UK_CREDIT")
        for typed in ("-3", str(2**32)):
            await type_into(pilot, "#f-stacking-rule-regulations-max-credit-age-months", typed)
            await pilot.pause()
            assert "give a whole number from 0 (no limit)" in form_error(app)
            assert isinstance(app.screen, RecordForm)
        await type_into(pilot, "#f-stacking-rule-regulations-max-credit-age-months", "60")
        await pilot.pause()
        assert "Ready to save" in form_error(app)
    app.store.close()


async def test_an_agreement_granting_a_module_the_catalogue_lacks_is_named_before_saving(
    tmp_path: Path,
) -> None:
    """The registry refuses a grant of a unit its publisher has not published; the form says
    so while the registrar types, not at the next sync. A provider the directory does not
    know is named too, once the directory has been read."""
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "agreements-tab")
        await pilot.press("n")
        await pilot.pause()
        await type_into(pilot, "#f-key", "AG-NEW")
        await type_into(pilot, "#f-source", "all of uk.ac.forth/FOR-DE01")
        await type_into(pilot, "#f-grant", "NOPE101")
        await pilot.pause()
        assert "names NOPE101, which this catalogue does not have" in form_error(app)
        await type_into(pilot, "#f-grant", "CS7DE")
        await pilot.pause()
        assert "Ready to save" in form_error(app)
        app.known_institutions = {"uk.ac.taff", "uk.ac.lagan"}  # as the Directory tab reads it
        await type_into(pilot, "#f-source", "all of uk.ac.forth/FOR-DE01 ")
        await pilot.pause()
        assert "uk.ac.forth is not in the network's directory" in form_error(app)
    app.store.close()


async def test_form_messages_use_the_forms_words_not_the_record_formats(tmp_path: Path) -> None:
    # snake_case names and dotted paths (an institution id is dotted too: taken out below)
    format_name = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[a-z]+\.[a-z_]+\.[a-z_]+\b")
    app = make_app(taff_home(tmp_path), offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "agreements-tab")
        await pilot.press("n")
        await type_into(pilot, "#f-key", "AG-WORDS")
        await type_into(pilot, "#f-source", "all of uk.ac.forth/MC1")
        await type_into(pilot, "#f-grant", "")
        shown = [form_error(app)]
        await type_into(pilot, "#f-grant", "15 UK_CREDIT general at FHEQ 9")
        shown.append(form_error(app))
        await type_into(pilot, "#f-grant", "TAF-DS01")
        await type_into(pilot, "#f-conditions-valid-from", "2027-01-01")
        await type_into(pilot, "#f-conditions-valid-to", "2026-01-01")
        shown.append(form_error(app))
    app.store.close()
    assert "module key" in shown[0] and "general credit" in shown[0]
    assert shown[1].startswith("Grant (general credit › level")
    assert "before 'Valid from'" in shown[2]
    for message in shown:
        assert not format_name.search(message.replace("uk.ac.forth", "")), message


def _shown_choice(app: RegistrarApp, selector: str) -> str:
    """The words a choice list shows for its value, as on the screen."""
    return str(_select(app, selector).query_one("#label").render())


async def test_choice_lists_show_words_and_save_codes(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await _new_unit(pilot, "CS9NW", "MODULE", "15", "7")
        await pilot.pause()
        assert _shown_choice(app, "#f-kind") == "module"
        assert _shown_choice(app, "#f-status") == "active"
        assert _shown_choice(app, "#f-credit-system").startswith("UK_CREDIT – UK credit (CATS)")
        assert _shown_choice(app, "#f-level-framework").startswith("FHEQ – Framework for")
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = app.store.get(rec.RECORD_KIND_LEARNING_UNIT, "CS9NW")
        assert isinstance(saved, rec.LearningUnit)
        assert (saved.credit.system, saved.level.framework) == ("UK_CREDIT", "FHEQ")
        assert saved.status == rec.RECORD_STATUS_ACTIVE
