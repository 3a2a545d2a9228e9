"""The registrar's app, driven by Textual's Pilot over a real agent store."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from registry.v1 import bilateral_pb2 as bi
from registry.v1 import publication_pb2 as pub
from registry.v1 import records_pb2 as rec
from sync_agent.config import init_home
from sync_agent.importer import read_catalogue
from sync_agent.store import AgentStore
from tui.app import make_app

DEMO = Path(__file__).resolve().parents[2] / "demo_network" / "data"


async def test_catalogue_and_agreements_are_listed(tmp_path: Path) -> None:
    cfg, _ = init_home(tmp_path, "uk.ac.taff", "Taff University", "GB", "127.0.0.1:1")
    store = AgentStore(cfg.store_path, cfg.institution_id)
    store.put_records(read_catalogue(DEMO / "uk.ac.taff.json", "uk.ac.taff"))
    store.close()
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        credentials = app.query_one("#credentials", DataTable)
        assert credentials.row_count == 2
        assert credentials.get_row("TAF-ML01")[1] == "Applied Machine Learning"
        await pilot.press("right", "right")
        agreements = app.query_one("#agreements", DataTable)
        assert agreements.row_count == 3
        assert agreements.get_row("AG-DATA-STACK")[1] == \
            "all of uk.ac.forth/FOR-PY01, uk.ac.lagan/LAG-DA01"
        assert "seq 7" in str(app.query_one("#status", Static).render())
        app.store.withdraw(rec.RECORD_KIND_LEARNING_UNIT, "CS5PR")
        await pilot.press("r")
        assert app.query_one("#learning-units", DataTable).get_row("CS5PR")[5] == "withdrawn"
    app.store.close()


async def test_bilateral_proposals_awaiting_a_decision_are_shown(tmp_path: Path) -> None:
    cfg, _ = init_home(tmp_path, "uk.ac.forth", "Forth", "GB", "127.0.0.1:1")
    store = AgentStore(cfg.store_path, cfg.institution_id)
    proposal = bi.BilateralStep(agreement_id="uk.ac.taff/ART-1", version=1, actor="uk.ac.taff",
                                partner="uk.ac.forth", action=bi.BILATERAL_ACTION_PROPOSE)
    store.add_bilateral_events([bi.BilateralEvent(
        event_id=1, agreement_id="uk.ac.taff/ART-1", state_after=bi.BILATERAL_STATE_PROPOSED,
        step=pub.SignedEnvelope(payload=proposal.SerializeToString()))])
    store.close()
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("right", "right", "right")
        table = app.query_one("#bilateral", DataTable)
        assert table.get_row("uk.ac.taff/ART-1@1") == ["uk.ac.taff/ART-1", "1", "proposed",
                                                       "uk.ac.taff", "yes"]
    app.store.close()
