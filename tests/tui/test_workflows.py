"""The registrar's workflows, driven through the real app by Textual's Pilot: forms that
validate as you type, withdraw with confirmation, suspend, filters, sync with its progress and
history, conflicts and the reverse look-up, against a real registry over gRPC."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Button, Checkbox, Input, ProgressBar, Select, Static

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_server import directory, equivalence, publication
from sync_agent.bilateral import propose
from sync_agent.client import RegistryClient
from sync_agent.config import init_home
from sync_agent.importer import read_catalogue
from sync_agent.store import AgentStore
from tests.conftest import Network, RunningRegistry
from tests.factories import agreement, batch, micro_credential, module, signed
from tests.tui.helpers import (
    DEMO,
    form_error,
    open_tab,
    screen_text,
    settle,
    taff_and_forth,
    taff_home,
    type_into,
)
from tui.app import make_app
from tui.fitting import FittedTable
from tui.forms import RecordForm


async def test_a_new_micro_credential_is_validated_as_you_type_and_saved(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        assert isinstance(app.screen, RecordForm)
        assert "Key: is required" in form_error(app)
        assert app.screen.query_one("#f-key").has_class("-invalid")
        assert app.screen.query_one("#save", Button).disabled
        await type_into(pilot, "#f-key", "TAF-NEW1")
        assert "Title: is required" in form_error(app)
        await type_into(pilot, "#f-title", "Cloud Foundations")
        await type_into(pilot, "#f-learning-outcomes", "Deploy a service; Explain IaaS")
        await type_into(pilot, "#f-workload-hours", "abc")
        assert "Workload (hours): 'abc' is not a number" in form_error(app)
        await type_into(pilot, "#f-workload-hours", "100")
        await type_into(pilot, "#f-credit-value", "10")
        app.screen.query_one("#f-credit-system", Select).value = "UK_CREDIT"
        app.screen.query_one("#f-level-framework", Select).value = "FHEQ"
        await type_into(pilot, "#f-level-level", "9")
        await pilot.pause()
        assert "Level: '9' is not a level of FHEQ" in form_error(app)
        assert app.screen.query_one("#f-level-level").has_class("-invalid")
        await type_into(pilot, "#f-level-level", "5")
        await type_into(pilot, "#f-assessment-type", "project")
        app.screen.query_one("#f-participation-form", Select).value = "ONLINE"
        await type_into(pilot, "#f-quality-assurance", "internal QA")
        await type_into(pilot, "#f-country", "UK")
        assert "the United Kingdom is 'GB'" in form_error(app)
        await type_into(pilot, "#f-country", "GB")
        await pilot.pause()
        assert "Ready to save" in form_error(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, RecordForm)
        saved = app.store.get(rec.RECORD_KIND_MICRO_CREDENTIAL, "TAF-NEW1")
        assert saved is not None and saved.learning_outcomes == ["Deploy a service", "Explain IaaS"]
        assert saved.awarding_body == "Taff University"  # from the agent's configuration
        assert saved.status == rec.RECORD_STATUS_ACTIVE and saved.version == 1
        assert (
            app.query_one("#credentials", FittedTable).full_row("TAF-NEW1")[1]
            == "Cloud Foundations"
        )
    app.store.close()


async def test_cancelling_a_form_asks_when_something_was_typed_and_changes_nothing(
    tmp_path: Path,
) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        before = app.store.last_seq()
        await pilot.press("n")
        await type_into(pilot, "#f-key", "NOPE")
        await pilot.press("escape")  # something typed: escape asks before it discards
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, RecordForm)
        assert app.screen.query_one("#f-key", Input).value == "NOPE"
        await pilot.press("escape", "y")
        await pilot.pause()
        assert not isinstance(app.screen, RecordForm)
        assert app.store.last_seq() == before
        assert app.store.get(rec.RECORD_KIND_MICRO_CREDENTIAL, "NOPE") is None
    app.store.close()


async def test_detail_view_edit_and_withdraw_with_confirmation(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#credentials", FittedTable)
        table.move_cursor(row=table.get_row_index("TAF-ML01"))
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "DetailScreen"
        shown = str(app.screen.query_one("#detail-body", Static).render())
        assert "Title: Applied Machine Learning" in shown  # the form's words, not protobuf's
        assert "RECORD_STATUS" not in shown and "Status: active" in shown
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, RecordForm)
        assert app.screen.query_one("#f-key", Input).disabled  # the key is the record's identity
        await type_into(pilot, "#f-title", "Applied Machine Learning II")
        await pilot.click("#save")  # the mouse works too
        await pilot.pause()
        edited = app.store.get(rec.RECORD_KIND_MICRO_CREDENTIAL, "TAF-ML01")
        assert edited is not None and edited.version == 2
        assert edited.title == "Applied Machine Learning II"

        seq = app.store.last_seq()
        await pilot.press("w")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"
        footer = app.screen._compositor.render_strips()[-1].text
        assert "y Yes" in footer and "n New" not in footer  # the question's keys, not the list's
        await pilot.press("n")
        await pilot.pause()
        assert app.store.last_seq() == seq  # said no: nothing changed
        await pilot.press("w", "y")
        await pilot.pause()
        assert table.full_row("TAF-ML01")[4] == "withdrawn"
        assert app.store.last_seq() == seq + 1
        await pilot.press("e")  # a withdrawal is final: no form to bring it back
        await pilot.pause()
        assert not isinstance(app.screen, RecordForm)
        assert any("withdrawal is final" in n.message for n in app._notifications)
        assert app.store.last_seq() == seq + 1
    app.store.close()


async def test_an_edit_form_types_where_the_cursor_is_not_over_the_whole_value(
    tmp_path: Path,
) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#credentials", FittedTable)
        table.move_cursor(row=table.get_row_index("TAF-ML01"))
        await pilot.press("e")
        await pilot.pause()
        title = app.screen.query_one("#f-title", Input)
        title.focus()
        await pilot.pause()
        await pilot.press(*" II")  # the title is not selected, so typing does not replace it
        assert title.value == "Applied Machine Learning II"
    app.store.close()


async def test_filters_narrow_the_catalogue_and_the_agreements(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        credentials = app.query_one("#credentials", FittedTable)
        app.query_one("#mc-level", Select).value = "FHEQ 7"
        await pilot.pause()
        assert [credentials.full_row_at(i)[0] for i in range(credentials.row_count)] == ["TAF-ML01"]
        app.query_one("#mc-level", Select).value = "any"
        app.query_one("#min-credit", Input).value = "12"
        await pilot.pause()
        assert credentials.row_count == 1 and credentials.full_row_at(0)[0] == "TAF-ML01"
        app.query_one("#min-credit", Input).value = ""
        subject = app.query_one("#mc-subject", Select)
        subject.value = "0521"  # a subject is offered by its name too
        await pilot.pause()
        assert str(subject.query_one("#label").render()) == "subject: 0521 – Environmental sciences"
        assert credentials.row_count == 1 and credentials.full_row_at(0)[0] == "TAF-GR01"
        subject.value = "any"
        app.store.withdraw(rec.RECORD_KIND_MICRO_CREDENTIAL, "TAF-GR01")
        await pilot.press("r")
        app.query_one("#mc-status", Select).value = "withdrawn"
        await pilot.pause()
        assert credentials.row_count == 1 and credentials.full_row_at(0)[0] == "TAF-GR01"

        await open_tab(pilot, "units")
        units = app.query_one("#learning-units", FittedTable)
        assert units.row_count == 4
        app.query_one("#unit-search", Input).value = "ethics"
        await pilot.pause()
        assert units.row_count == 1 and units.full_row_at(0)[0] == "CS7DE"

        await open_tab(pilot, "agreements-tab")
        agreements = app.query_one("#agreements", FittedTable)
        assert agreements.row_count == 4
        app.query_one("#ag-partner", Select).value = "uk.ac.lagan"
        await pilot.pause()
        keys = {agreements.full_row_at(i)[0] for i in range(agreements.row_count)}
        assert keys and all("uk.ac.lagan/" in agreements.full_row(k)[1] for k in keys)
        assert len(keys) < 4
        app.query_one("#ag-partner", Select).value = "any"
        app.query_one("#ag-validity", Select).value = "in force"
        await pilot.pause()
        assert agreements.row_count == 4
    app.store.close()


async def test_create_an_agreement_with_nested_sources_sync_and_the_registry_answers(
    tmp_path: Path, network: Network, registry: RunningRegistry
) -> None:
    """The issue's workflow: create an agreement → it is in the store → sync → the registry
    answers with it."""
    publication.publish(
        network.engine,
        signed(
            batch(
                "uk.ac.forth",
                [micro_credential(), micro_credential(key="MC2"), micro_credential(key="MC3")],
            ),
            network.signers["uk.ac.forth"],
        ),
    )
    cfg, signer = init_home(tmp_path, "uk.ac.taff", "Taff University", "GB", registry.address)
    directory.rotate_key(network.engine, "uk.ac.taff", signer.public_key)
    store = AgentStore(cfg.store_path, cfg.institution_id)
    store.put_records([module()])
    store.close()
    app = make_app(tmp_path, offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "agreements-tab")
        await pilot.press("n")
        await type_into(pilot, "#f-key", "AG-NESTED")
        await type_into(pilot, "#f-source", "all of uk.ac.forth/MC1, (1 of uk.ac.forth/MC2")
        assert "a bracket is not closed" in form_error(app)
        assert app.screen.query_one("#f-source").has_class("-invalid")
        await pilot.press(*", uk.ac.forth/MC3)")
        await type_into(pilot, "#f-grant", "CS7DE")
        await pilot.pause()
        assert "Ready to save" in form_error(app)
        tree = app.screen.query_one("#source-tree")
        assert str(tree.root.label) == "all of"  # type: ignore[attr-defined]
        nested = tree.root.children[1]  # type: ignore[attr-defined]
        assert str(nested.label) == "1 of" and len(nested.children) == 2
        assert "└── ▼ 1 of" in screen_text(app)  # under the sources, seen at 80x24
        await type_into(pilot, "#f-conditions-valid-from", "2027-01-01")
        await type_into(pilot, "#f-conditions-valid-to", "2026-01-01")
        assert "Valid to (conditions.valid_to)" not in form_error(app)
        assert "Valid to: 2026-01-01 is before 'Valid from'" in form_error(app)
        await type_into(pilot, "#f-conditions-valid-from", "")
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = app.store.get(rec.RECORD_KIND_AGREEMENT, "AG-NESTED")
        assert isinstance(saved, rec.RecognitionAgreement)
        assert saved.source.items[1].group.operator == rec.GROUP_OPERATOR_N_OF

        await pilot.press("s")
        await settle(app, pilot)
        progress = app.query_one("#sync-progress", ProgressBar)
        assert progress.total == 2 and progress.progress == 2
        history = app.query_one("#sync-history", FittedTable)
        assert history.row_count == 1 and history.full_row_at(0)[1] == "ok"
        assert (
            "checkpoint for uk.ac.taff: it holds this institution's changes up to number 2"
            in str(app.query_one("#sync-result", Static).render())
        )

        await open_tab(pilot, "units")
        await pilot.press("v")  # reverse look-up: what counts into CS7DE?
        await settle(app, pilot)
        explorer = app.query_one("#explorer", FittedTable)
        assert explorer.full_row_at(0)[:2] == ["counts into CS7DE", "uk.ac.taff/AG-NESTED v1"]
    app.store.close()
    answer = equivalence.list_sources(
        network.engine,
        eq.ListSourcesRequest(unit=rec.CredentialRef(institution_id="uk.ac.taff", key="CS7DE")),
    )
    assert [e.agreement.key for e in answer.equivalences] == ["AG-NESTED"]


async def test_suspend_and_failed_sync_history_and_conflicts(
    tmp_path: Path, network: Network, registry: RunningRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sync_agent.sync.INTERACTIVE_RETRY_MINUTES", 0)
    cfg, signer = init_home(tmp_path, "uk.ac.taff", "Taff University", "GB", "127.0.0.1:9")
    directory.rotate_key(network.engine, "uk.ac.taff", signer.public_key)
    store = AgentStore(cfg.store_path, cfg.institution_id)
    store.put_records(
        [module(), module(key="CS7XX"), agreement(), agreement(key="AG2", unit_key="CS7XX")]
    )
    store.close()
    app = make_app(tmp_path, offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "agreements-tab")
        table = app.query_one("#agreements", FittedTable)
        assert app.focused is table
        table.move_cursor(row=table.get_row_index("AG2"))
        seq = app.store.last_seq()
        await pilot.press("x")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"  # asks first, as withdraw does
        await pilot.press("n")
        await pilot.pause()
        assert table.full_row("AG2")[4] == "active" and app.store.last_seq() == seq
        await pilot.press("x", "y")
        await pilot.pause()
        assert table.full_row("AG2")[4] == "suspended"
        await pilot.press("x", "y")
        await pilot.pause()
        assert table.full_row("AG2")[4] == "active"

        await pilot.press("s")  # the registry address is wrong: a failure in the history
        await settle(app, pilot)
        history = app.query_one("#sync-history", FittedTable)
        assert history.full_row_at(0)[1] == "FAILED" and "unreachable" in history.full_row_at(0)[3]
        assert app.query_one("#banner").has_class("offline")

        assert app.config is not None
        app.config = replace(app.config, registry=registry.address)
        await pilot.press("s")
        await settle(app, pilot)
        assert history.row_count == 2 and history.full_row_at(0)[1] == "ok"
        conflicts = app.query_one("#conflicts", FittedTable)  # fetched after a good sync
        assert conflicts.display and conflicts.row_count == 1
        row = conflicts.full_row_at(0)
        assert row[0] == "uk.ac.forth/MC1" and row[1] == "AG1, AG2"
    app.store.close()


@pytest.mark.parametrize(
    ("keys", "state"),
    [(("a", "end", "y"), "active"), (("j", *"not our level", "enter"), "rejected")],
)
async def test_a_proposal_awaiting_our_decision_is_countersigned_or_rejected(
    tmp_path: Path, network: Network, registry: RunningRegistry, keys: tuple[str, ...], state: str
) -> None:
    taff_signer, _ = taff_and_forth(tmp_path, network, registry)
    with RegistryClient(registry.address) as client:
        propose(client, taff_signer, "uk.ac.taff", agreement(key="ART-1"), "uk.ac.forth")
    app = make_app(tmp_path / "forth", offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")  # pulls the proposal
        await settle(app, pilot)
        await pilot.press("5")
        await pilot.pause()
        table = app.query_one("#bilateral", FittedTable)
        assert app.focused is table
        assert table.full_row("uk.ac.taff/ART-1@1")[2:5] == ["proposed", "uk.ac.taff", "yes"]
        await pilot.press(*keys)
        await settle(app, pilot)
        assert table.full_row("uk.ac.taff/ART-1@1")[2] == state
        assert table.full_row("uk.ac.taff/ART-1@1")[4] == ""  # decided: nothing awaits us
        # The registry's rejection step carries the reason to the table.
        assert table.full_row("uk.ac.taff/ART-1@1")[5] == (
            "not our level" if state == "rejected" else ""
        )
    app.store.close()


async def test_explorer_takes_award_dates_grade_schemes_and_identity_verification(
    tmp_path: Path, network: Network, registry: RunningRegistry
) -> None:
    publication.publish(
        network.engine,
        signed(batch("uk.ac.forth", [micro_credential()]), network.signers["uk.ac.forth"]),
    )
    publication.publish(
        network.engine,
        signed(
            batch(
                "uk.ac.taff",
                [module(), agreement(identity_verified_required=True, max_credit_age_months=24)],
            ),
            network.signers["uk.ac.taff"],
        ),
    )
    init_home(tmp_path, "uk.ac.lagan", "Lagan", "GB", registry.address)
    app = make_app(tmp_path, offer_demo=False)
    async with app.run_test(size=(100, 30)) as pilot:
        explorer = app.query_one("#explorer", FittedTable)

        async def ask(holdings: str, verified: bool = True) -> list[str]:
            """The explorer's first row for these holdings at Taff."""
            app.query_one("#explore-verified", Checkbox).value = verified
            await type_into(pilot, "#explore-holdings", holdings)
            await pilot.press("enter")
            await settle(app, pilot)
            return list(explorer.full_row_at(0))

        await pilot.press("7")
        await type_into(pilot, "#explore-target", "uk.ac.taff")
        # A named scheme: MC1's own (a percentage would be refused: MC1 is graded UK_LETTER).
        assert (await ask("uk.ac.forth/MC1:UK_LETTER=A"))[0] == "granted"
        outcome, _, why = await ask("uk.ac.forth/MC1:A", verified=False)
        assert outcome == "not applied" and "identity-verified" in why
        outcome, _, why = await ask("uk.ac.forth/MC1:A@2019-06-30")
        assert outcome == "not applied" and "was awarded on 2019-06-30" in why

        await type_into(pilot, "#explore-holdings", "uk.ac.forth/MC1@2019-13-01")
        await pilot.press("enter")
        await pilot.pause()
        assert any("not a date" in n.message for n in app._notifications)
    app.store.close()


async def test_an_edit_keeps_what_the_form_does_not_show(tmp_path: Path) -> None:
    """Skills, URL and a qualification's stacking rule are not in the forms; editing the
    title must not drop them."""
    cfg, _ = init_home(tmp_path, "uk.ac.forth", "Forth", "GB", "127.0.0.1:1")
    store = AgentStore(cfg.store_path, cfg.institution_id)
    store.put_records(read_catalogue(DEMO / "uk.ac.forth.json", "uk.ac.forth"))
    before_mc = store.get(rec.RECORD_KIND_MICRO_CREDENTIAL, "FOR-DE01")
    before_q = store.get(rec.RECORD_KIND_LEARNING_UNIT, "F1DS-MSC")
    store.close()
    assert isinstance(before_mc, rec.MicroCredential) and before_mc.skills and before_mc.url
    assert isinstance(before_q, rec.LearningUnit) and before_q.HasField("stacking_rule")
    app = make_app(tmp_path, offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        for tab, table_id, kind, key in (
            ("micro-credentials", "#credentials", rec.RECORD_KIND_MICRO_CREDENTIAL, "FOR-DE01"),
            ("units", "#learning-units", rec.RECORD_KIND_LEARNING_UNIT, "F1DS-MSC"),
        ):
            await open_tab(pilot, tab)
            table = app.query_one(table_id, FittedTable)
            table.move_cursor(row=table.get_row_index(key))
            await pilot.press("e")
            await pilot.pause()
            await type_into(pilot, "#f-title", "Renamed")
            await pilot.press("ctrl+s")
            await pilot.pause()
            edited = app.store.get(kind, key)
            assert edited is not None and edited.title == "Renamed" and edited.version == 2
        mc = app.store.get(rec.RECORD_KIND_MICRO_CREDENTIAL, "FOR-DE01")
        unit = app.store.get(rec.RECORD_KIND_LEARNING_UNIT, "F1DS-MSC")
        assert isinstance(mc, rec.MicroCredential) and isinstance(unit, rec.LearningUnit)
        assert list(mc.skills) == list(before_mc.skills) and mc.url == before_mc.url
        assert unit.stacking_rule == before_q.stacking_rule
    app.store.close()
