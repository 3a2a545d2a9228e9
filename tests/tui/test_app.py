"""The registrar's app, driven by Textual's Pilot over a real agent store."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Input, Static, TabbedContent

from registry.v1 import bilateral_pb2 as bi
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from registry_server import directory, publication
from sync_agent.config import init_home
from sync_agent.importer import read_catalogue
from sync_agent.store import AgentStore
from tests.conftest import Network, RunningRegistry
from tests.factories import micro_credential
from tests.in_memory_registry import InMemoryRegistry
from tests.tui.helpers import DEMO, ask_explorer, taff_home
from tui.app import RegistrarApp, main, make_app
from tui.fitting import FittedTable
from tui.help import HelpScreen


async def test_catalogue_and_agreements_are_listed(tmp_path: Path) -> None:
    cfg, _ = init_home(tmp_path, "uk.ac.taff", "Taff University", "GB", "127.0.0.1:1")
    store = AgentStore(cfg.store_path, cfg.institution_id)
    store.put_records(read_catalogue(DEMO / "uk.ac.taff.json", "uk.ac.taff"))
    store.close()
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        credentials = app.query_one("#credentials", FittedTable)
        assert credentials.row_count == 2
        assert credentials.full_row("TAF-ML01")[1] == "Applied Machine Learning"
        await pilot.press("right", "right")
        agreements = app.query_one("#agreements", FittedTable)
        assert agreements.row_count == 4
        assert (
            agreements.full_row("AG-DATA-STACK")[1]
            == "all of uk.ac.forth/FOR-PY01, uk.ac.lagan/LAG-DA01"
        )
        assert "10 changes to publish" in str(app.query_one("#status", Static).render())
        app.store.withdraw(rec.RECORD_KIND_LEARNING_UNIT, "CS5PR")
        await pilot.press("r")
        assert app.query_one("#learning-units", FittedTable).full_row("CS5PR")[5] == "withdrawn"
    app.store.close()


async def test_bilateral_proposals_awaiting_a_decision_are_shown(tmp_path: Path) -> None:
    cfg, _ = init_home(tmp_path, "uk.ac.forth", "Forth", "GB", "127.0.0.1:1")
    store = AgentStore(cfg.store_path, cfg.institution_id)
    proposal = bi.BilateralStep(
        agreement_id="uk.ac.taff/ART-1",
        version=1,
        actor="uk.ac.taff",
        partner="uk.ac.forth",
        action=bi.BILATERAL_ACTION_PROPOSE,
    )
    store.add_bilateral_events(
        [
            bi.BilateralEvent(
                event_id=1,
                agreement_id="uk.ac.taff/ART-1",
                state_after=bi.BILATERAL_STATE_PROPOSED,
                step=pub.SignedEnvelope(payload=proposal.SerializeToString()),
            )
        ]
    )
    store.close()
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("right", "right", "right")
        table = app.query_one("#bilateral", FittedTable)
        assert table.full_row("uk.ac.taff/ART-1@1") == [
            "uk.ac.taff/ART-1",
            "1",
            "proposed",
            "uk.ac.taff",
            "yes",
            "",
        ]
    app.store.close()


async def test_sync_now_publishes_in_a_worker_and_an_unreachable_registry_is_a_banner(
    tmp_path: Path, network: Network, registry: RunningRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "sync_agent.sync.INTERACTIVE_RETRY_MINUTES", 0
    )  # no backoff wait for the test
    cfg, signer = init_home(tmp_path, "uk.ac.forth", "Forth", "GB", "127.0.0.1:9")
    directory.rotate_key(network.engine, "uk.ac.forth", signer.public_key)
    store = AgentStore(cfg.store_path, cfg.institution_id)
    store.put_records([micro_credential()])
    store.close()
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert str(app.query_one("#banner", Static).render()).startswith("Offline:")
        assert app.query_one("#banner").has_class("offline")
        assert app.config is not None
        app.config = replace(app.config, registry=registry.address)  # the registry is back
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.query_one("#banner").has_class("offline")
        assert "published 1 change in 1 batch" in str(app.query_one("#status", Static).render())
    app.store.close()
    assert publication.checkpoint(network.engine, "uk.ac.forth").last_seq == 1


async def test_the_offline_banner_comes_and_goes_with_the_registry_without_a_sync(
    tmp_path: Path, registry: RunningRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RegistrarApp, "REACHABILITY_SECONDS", 0.2)
    init_home(tmp_path, "uk.ac.forth", "Forth", "GB", "127.0.0.1:9")  # nothing listens
    app = make_app(tmp_path, offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        banner = app.query_one("#banner", Static)

        async def until(offline: bool) -> None:
            for _ in range(200):  # the probe runs every 0.2 s; 20 s is a stuck probe
                await pilot.pause(0.1)
                if banner.has_class("offline") == offline:
                    return
            raise AssertionError(f"the banner never became {'offline' if offline else 'clear'}")

        await until(offline=True)
        text = str(banner.render())
        assert text.startswith("Offline:") and "127.0.0.1:9: nothing listens there" in text
        assert app.config is not None
        app.config = replace(app.config, registry=registry.address)  # the registry is back
        await until(offline=False)
        assert str(banner.render()) == ""
        assert app.store.sync_state().last_outcome == "never synced"  # no sync did it
    app.store.close()


@pytest.fixture
def in_memory(network: Network) -> InMemoryRegistry:
    """The network's registry in process (tests/in_memory_registry.py): no server, no port."""
    return InMemoryRegistry(network.engine)


async def test_directory_shows_the_networks_institutions_and_keys(
    tmp_path: Path, network: Network, in_memory: InMemoryRegistry
) -> None:
    init_home(tmp_path, "uk.ac.forth", "Forth", "GB", "127.0.0.1:9")  # never dialled
    app = make_app(tmp_path, offer_demo=False, connect=lambda: in_memory)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("d")
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.query_one("#directory", FittedTable)
        assert table.row_count == 3
        row = table.full_row("uk.ac.taff")
        assert row[2] == "active"
        assert row[3].startswith(network.signers["uk.ac.taff"].key_id[:16])
    app.store.close()


async def test_explorer_shows_grants_and_reasons(
    tmp_path: Path, network: Network, in_memory: InMemoryRegistry
) -> None:
    from registry_server.publication import publish
    from tests.factories import agreement, batch, module, signed

    publish(
        network.engine,
        signed(
            batch("uk.ac.forth", [micro_credential(), micro_credential(key="MC2")]),
            network.signers["uk.ac.forth"],
        ),
    )
    # AG2 grants a 30-credit module for MC2's 15, only on programme X: conditional, reduced.
    publish(
        network.engine,
        signed(
            batch(
                "uk.ac.taff",
                [
                    module(),
                    module(key="BIG", credit=30),
                    agreement(),
                    agreement(
                        key="AG2",
                        unit_key="BIG",
                        sources=[("uk.ac.forth", "MC2")],
                        for_programmes=["X"],
                    ),
                    agreement(key="OLD", valid_to="2020-01-01"),
                ],
            ),
            network.signers["uk.ac.taff"],
        ),
    )
    init_home(tmp_path, "uk.ac.lagan", "Lagan", "GB", "127.0.0.1:9")  # never dialled
    app = make_app(tmp_path, offer_demo=False, connect=lambda: in_memory)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask_explorer(pilot, "uk.ac.forth/MC1:A, uk.ac.forth/MC2:A", "uk.ac.taff")
        rows = [app.query_one("#explorer", FittedTable).full_row_at(i) for i in range(3)]
        assert rows[0][0] == "granted" and "uk.ac.taff/AG1 v1" in rows[0][1]
        assert rows[0][2] == "CS7DE: 15 UK_CREDIT; at FHEQ 7"
        assert rows[1][0] == "conditional" and "uk.ac.taff/AG2 v1" in rows[1][1]
        assert "only if only for learners on programme X" in rows[1][2]
        assert "reduced from 30 to 15 UK_CREDIT" in rows[1][2]
        assert rows[2][:2] == ["not applied", "OLD"] and "ended on 2020-01-01" in rows[2][2]
    app.store.close()
    assert "ResolveTransfer" in in_memory.calls


@pytest.mark.parametrize(("key", "rows"), [("y", 2), ("n", 0)])
async def test_first_start_offers_the_demonstration_institution(
    tmp_path: Path, key: str, rows: int
) -> None:
    init_home(tmp_path, "uk.ac.taff", "Taff University", "GB", "127.0.0.1:1")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "LoadDemoScreen"
        await pilot.press(key)
        await pilot.pause()
        assert app.query_one("#credentials", FittedTable).row_count == rows
    app.store.close()


async def test_search_filters_the_catalogue_and_help_opens(tmp_path: Path) -> None:
    cfg, _ = init_home(tmp_path, "uk.ac.taff", "Taff University", "GB", "127.0.0.1:1")
    store = AgentStore(cfg.store_path, cfg.institution_id)
    store.put_records(read_catalogue(DEMO / "uk.ac.taff.json", "uk.ac.taff"))
    store.close()
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        credentials = app.query_one("#credentials", FittedTable)
        assert credentials.row_count == 2
        await pilot.press("slash", *"green")
        await pilot.pause()
        assert credentials.row_count == 1 and credentials.full_row_at(0)[0] == "TAF-GR01"
        await pilot.press("escape")
        app.set_focus(None)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
    app.store.close()


def test_an_unknown_theme_is_refused_with_what_to_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    init_home(tmp_path, "uk.ac.taff", "Taff University", "GB", "127.0.0.1:1")
    assert main(["--home", str(tmp_path), "--theme", "neon"]) == 2
    assert "no theme 'neon'; use textual-light or textual-dark" in capsys.readouterr().err


async def test_the_sync_tab_shows_the_checkpoint_an_earlier_session_left(
    tmp_path: Path,
) -> None:
    cfg, _ = init_home(tmp_path, "uk.ac.taff", "Taff University", "GB", "127.0.0.1:1")
    store = AgentStore(cfg.store_path, cfg.institution_id)
    store.record_acknowledgement(
        pub.Acknowledgement(
            institution_id="uk.ac.taff", last_seq=7, head="ab" * 32, records_applied=7
        )
    )
    store.close()
    app = make_app(tmp_path, offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.query_one(TabbedContent).active = "sync-tab"
        await pilot.pause()
        shown = str(app.query_one("#sync-result", Static).render())
        assert (
            "checkpoint at the last good sync" in shown
            and "up to number 7; its log's head is abababab" in shown
        )
        assert "not asked yet" not in shown and " UTC" in shown
    app.store.close()


async def test_deciding_on_an_empty_bilateral_tab_says_why_nothing_happens(
    tmp_path: Path,
) -> None:
    init_home(tmp_path, "uk.ac.taff", "Taff University", "GB", "127.0.0.1:1")
    app = make_app(tmp_path, offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("5", "a")
        await pilot.pause()
        [notice] = [n.message for n in app._notifications]
        assert "No bilateral agreement to decide on yet" in notice
    app.store.close()


async def test_the_banner_follows_the_registry_the_app_is_given(
    tmp_path: Path, network: Network, in_memory: InMemoryRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every call goes through the registry the app was given (here the in-process one):
    down, the banner says so and a sync fails into the history; up again, both recover."""
    monkeypatch.setattr(RegistrarApp, "REACHABILITY_SECONDS", 0.2)
    monkeypatch.setattr("sync_agent.sync.INTERACTIVE_RETRY_MINUTES", 0)
    cfg, signer = init_home(tmp_path, "uk.ac.forth", "Forth", "GB", "127.0.0.1:9")
    directory.rotate_key(network.engine, "uk.ac.forth", signer.public_key)
    store = AgentStore(cfg.store_path, cfg.institution_id)
    store.put_records([micro_credential()])
    store.close()
    in_memory.up = False
    app = make_app(tmp_path, offer_demo=False, connect=lambda: in_memory)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one("#banner").has_class("offline")
        assert app.store.sync_state().acked_seq == 0
        in_memory.up = True
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.query_one("#banner").has_class("offline")
        assert app.store.sync_state().acked_seq == 1
    app.store.close()
    assert publication.checkpoint(network.engine, "uk.ac.forth").last_seq == 1
    assert {"GetCheckpoint", "Publish"} <= set(in_memory.calls)


async def test_an_answer_with_nothing_in_it_says_so(
    tmp_path: Path, network: Network, in_memory: InMemoryRegistry
) -> None:
    init_home(tmp_path, "uk.ac.lagan", "Lagan", "GB", "127.0.0.1:9")  # never dialled
    app = make_app(tmp_path, offer_demo=False, connect=lambda: in_memory)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await ask_explorer(pilot, "uk.ac.forth/MC1", "uk.ac.taff")
        assert app.query_one("#explorer", FittedTable).row_count == 0
        [notice] = [n.message for n in app._notifications]
        assert "knows no agreement of uk.ac.taff that takes these holdings" in notice
    app.store.close()
    assert in_memory.calls == ["ResolveTransfer"]


async def test_a_refused_question_is_said_in_the_registrars_words(
    tmp_path: Path, network: Network, in_memory: InMemoryRegistry
) -> None:
    init_home(tmp_path, "uk.ac.lagan", "Lagan", "GB", "127.0.0.1:9")  # never dialled
    app = make_app(tmp_path, offer_demo=False, connect=lambda: in_memory)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await ask_explorer(pilot, "uk.ac.forth/MC1", "Cardiff")
        [notice] = [n.message for n in app._notifications]
    app.store.close()
    assert "target institution id: 'Cardiff' is not a registry id" in notice
    assert "target_institution_id" not in notice and "INVALID_ARGUMENT" not in notice


async def test_what_counts_into_a_module_clears_the_learners_question(
    tmp_path: Path, network: Network, in_memory: InMemoryRegistry
) -> None:
    app = make_app(taff_home(tmp_path), offer_demo=False, connect=lambda: in_memory)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("7")
        await pilot.pause()
        await pilot.press(*"uk.ac.forth/MC1")
        await pilot.press("escape", "2")
        await pilot.pause()
        units = app.query_one("#learning-units", FittedTable)
        key = units.coordinate_to_cell_key(units.cursor_coordinate).row_key.value
        await pilot.press("v")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one("#explore-holdings", Input).value == ""
        row = app.query_one("#explorer", FittedTable).full_row_at(0)
        assert row[0] == "nothing" and f"no active agreement grants {key} yet" in row[2]
    app.store.close()
    assert in_memory.calls == ["ListSources"]
