"""Issue 22: a bilateral proposal awaiting our decision opens to its terms, and what they change
from the version in force, before it can be counter-signed; a rejection's reason is shown. The
real app, driven by Textual's Pilot, over a real agent store (and a real registry where a
signature is sent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from registry.v1 import bilateral_pb2 as bi
from registry.v1 import publication_pb2 as pub
from sync_agent import bilateral
from sync_agent.client import RegistryClient
from sync_agent.config import init_home, load
from sync_agent.store import AgentStore
from sync_agent.sync import sync
from tests.conftest import Network, RunningRegistry
from tests.factories import agreement
from tests.tui.helpers import open_tab, settle, taff_and_forth
from tui.app import RegistrarApp, make_app
from tui.fitting import FittedTable
from tui.terms import TermsScreen, changes_text

ART = "uk.ac.taff/ART-1"


def screen_text(app: RegistrarApp) -> str:
    return "\n".join(str(static.render()) for static in app.screen.query(Static))


def forth_store_with(tmp_path: Path, *steps: tuple[bi.BilateralStep, bi.BilateralState]) -> Path:
    """Forth's agent holding the given bilateral steps (each with the state after it), as a
    sync would have pulled them."""
    cfg, _ = init_home(tmp_path, "uk.ac.forth", "Forth", "GB", "127.0.0.1:1")
    store = AgentStore(cfg.store_path, cfg.institution_id)
    store.add_bilateral_events(
        [
            bi.BilateralEvent(
                event_id=n,
                agreement_id=step.agreement_id,
                state_after=state,
                step=pub.SignedEnvelope(payload=step.SerializeToString()),
            )
            for n, (step, state) in enumerate(steps, start=1)
        ]
    )
    store.close()
    return tmp_path


async def counter_sign(app: RegistrarApp, pilot: Pilot[None], row: str) -> FittedTable:
    """On the Bilateral tab, a (counter-sign) on the row: the terms' screen opens."""
    await open_tab(pilot, "bilateral-tab")
    table: FittedTable = app.query_one("#bilateral", FittedTable)
    table.move_cursor(row=table.get_row_index(row))
    await pilot.press("a")
    await pilot.pause()
    assert isinstance(app.screen, TermsScreen)
    return table


def proposal(version: int, **terms: object) -> bi.BilateralStep:
    return bi.BilateralStep(
        agreement_id=ART,
        version=version,
        actor="uk.ac.taff",
        partner="uk.ac.forth",
        action=bi.BILATERAL_ACTION_PROPOSE,
        terms=agreement(key="ART-1", **terms),  # type: ignore[arg-type]
    )


def steps_sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int, str]]:
    """Each bilateral step the app signs and sends, as (action, agreement, version,
    reason), recorded on its way to the real registry."""
    sent: list[tuple[str, str, int, str]] = []

    def recorded(
        client: RegistryClient,
        signer: object,
        store: AgentStore,
        action: str,
        agreement_id: str,
        version: int,
        reason: str = "",
    ) -> bi.ActResponse:
        sent.append((action, agreement_id, version, reason))
        return bilateral.act(
            client,
            signer,  # type: ignore[arg-type]
            store,
            action,
            agreement_id,
            version,
            reason,
        )

    monkeypatch.setattr("tui.app.act", recorded)
    return sent


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_counter_sign_key_shows_the_terms_and_each_changed_field_old_and_new(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    home = forth_store_with(
        tmp_path,
        (proposal(1, valid_to="2026-07-31"), bi.BILATERAL_STATE_PROPOSED),
        (
            bi.BilateralStep(
                agreement_id=ART,
                version=1,
                actor="uk.ac.forth",
                action=bi.BILATERAL_ACTION_COUNTERSIGN,
            ),
            bi.BILATERAL_STATE_ACTIVE,
        ),
        (proposal(2, unit_key="CS7ML", valid_to="2027-07-31"), bi.BILATERAL_STATE_PROPOSED),
    )
    app = make_app(home, offer_demo=False)
    async with app.run_test(size=size) as pilot:
        await counter_sign(app, pilot, f"{ART}@2")
        text = screen_text(app)
        # The proposed agreement in the record view's words, not a protobuf dump.
        assert "Title: Agreement ART-1" in text and "Sources: all of uk.ac.forth/MC1" in text
        assert "Grant: CS7ML" in text and "unit_key" not in text and "{" not in text
        # What changes from version 1, in force: each changed field, old → new.
        assert "changes 2 fields of version 1" in text
        assert "Grant: CS7DE → CS7ML" in text
        assert "Valid to: 2026-07-31 → 2027-07-31" in text
        assert "Sources: " not in text.split("What changes")[1].split("The terms")[0]
    app.store.close()


async def test_a_new_agreements_terms_say_no_earlier_version_is_in_force(tmp_path: Path) -> None:
    home = forth_store_with(tmp_path, (proposal(1), bi.BILATERAL_STATE_PROPOSED))
    app = make_app(home, offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "bilateral-tab")
        await pilot.press("a")
        await pilot.pause()
        assert "No earlier version is in force" in screen_text(app)
    app.store.close()


async def test_the_signature_is_sent_only_after_y_on_the_read_terms_never_on_cancel(
    tmp_path: Path, network: Network, registry: RunningRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    taff_signer, forth_signer = taff_and_forth(tmp_path, network, registry)
    # Version 1 agreed, then Taff proposes version 2 with a later end date.
    with RegistryClient(registry.address) as client:
        bilateral.propose(
            client,
            taff_signer,
            "uk.ac.taff",
            agreement(key="ART-1", valid_to="2026-07-31"),
            "uk.ac.forth",
        )
        forth = AgentStore(load(tmp_path / "forth").store_path, "uk.ac.forth")
        sync(forth, client, forth_signer)
        bilateral.act(client, forth_signer, forth, "countersign", ART, 1)
        forth.close()
        bilateral.propose(
            client,
            taff_signer,
            "uk.ac.taff",
            agreement(key="ART-1", valid_to="2027-07-31"),
            "uk.ac.forth",
            ART,
            2,
        )
    sent = steps_sent(monkeypatch)

    app = make_app(tmp_path / "forth", offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")  # pulls version 2
        await settle(app, pilot)
        table = await counter_sign(app, pilot, f"{ART}@2")
        assert "Valid to: 2026-07-31 → 2027-07-31" in screen_text(app)
        await pilot.press("n")  # cancel: nothing is signed or sent
        await settle(app, pilot)
        assert not isinstance(app.screen, TermsScreen) and sent == []
        assert table.full_row(f"{ART}@2")[2:5] == ["proposed", "uk.ac.taff", "yes"]

        await pilot.press("a")
        await pilot.pause()
        await pilot.press("y")  # the end of the terms is not on an 80x24 screen yet
        await settle(app, pilot)
        assert isinstance(app.screen, TermsScreen) and sent == []
        await pilot.press("end")  # scrolled through the terms, y now counter-signs
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        assert sent == [("countersign", ART, 2, "")]
        assert table.full_row(f"{ART}@2")[2] == "active"
    app.store.close()


async def test_a_rejected_steps_reason_is_in_the_table_and_on_its_terms_screen(
    tmp_path: Path,
) -> None:
    reason = "the minimum grade is lower than our own modules allow"
    home = forth_store_with(
        tmp_path,
        (proposal(1), bi.BILATERAL_STATE_PROPOSED),
        (
            bi.BilateralStep(
                agreement_id=ART,
                version=1,
                actor="uk.ac.forth",
                reason=reason,
                action=bi.BILATERAL_ACTION_REJECT,
            ),
            bi.BILATERAL_STATE_REJECTED,
        ),
    )
    app = make_app(home, offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "bilateral-tab")
        table = app.query_one("#bilateral", FittedTable)
        assert table.full_row(f"{ART}@1")[2:] == ["rejected", "uk.ac.forth", "", reason]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TermsScreen)
        text = screen_text(app)
        assert "version 1: rejected" in text and f"Reason given: {reason}" in text
        assert "Grant: CS7DE" in text  # the terms that were rejected
        assert "Counter-sign" not in text  # nothing awaits us: no signing here
    app.store.close()


async def test_j_on_the_terms_screen_rejects_with_the_reason_typed(
    tmp_path: Path, network: Network, registry: RunningRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    taff_signer, _ = taff_and_forth(tmp_path, network, registry)
    with RegistryClient(registry.address) as client:
        bilateral.propose(client, taff_signer, "uk.ac.taff", agreement(key="ART-1"), "uk.ac.forth")
    sent = steps_sent(monkeypatch)

    app = make_app(tmp_path / "forth", offer_demo=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")  # pulls the proposal
        await settle(app, pilot)
        table = await counter_sign(app, pilot, f"{ART}@1")
        await pilot.press("j")
        await pilot.pause()
        await pilot.press(*"grade too low", "enter")
        await settle(app, pilot)
        assert sent == [("reject", ART, 1, "grade too low")]
        assert table.full_row(f"{ART}@1")[2] == "rejected"
        assert table.full_row(f"{ART}@1")[-1] == "grade too low"
    app.store.close()


def test_a_first_version_already_decided_is_not_said_to_be_a_proposal() -> None:
    terms = agreement()
    assert "would be the first" in str(changes_text(1, terms, None, proposed=True))
    decided = str(changes_text(1, terms, None, proposed=False))
    assert "version 1 is the first terms" in decided and "would" not in decided


async def test_escape_in_the_reasons_box_goes_back_to_the_terms(tmp_path: Path) -> None:
    home = forth_store_with(tmp_path, (proposal(1), bi.BILATERAL_STATE_PROPOSED))
    app = make_app(home, offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "bilateral-tab")
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, TermsScreen)
        await pilot.press("j")
        await pilot.pause()
        assert type(app.screen).__name__ == "AskScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, TermsScreen), "back to the terms, not to the list"
    app.store.close()
