"""What the TUI tests share: an agent home with the demonstration catalogue, and the Pilot
moves a registrar makes."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Static, TabbedContent

from sync_agent.config import init_home
from sync_agent.importer import read_catalogue
from sync_agent.store import AgentStore
from tui.app import RegistrarApp

DEMO = Path(__file__).resolve().parents[2] / "demo_network" / "data"


def taff_home(tmp_path: Path, registry: str = "127.0.0.1:1") -> Path:
    """Taff's agent with the demonstration catalogue in its store."""
    cfg, _ = init_home(tmp_path, "uk.ac.taff", "Taff University", "GB", registry)
    store = AgentStore(cfg.store_path, cfg.institution_id)
    store.put_records(read_catalogue(DEMO / "uk.ac.taff.json", "uk.ac.taff"))
    store.close()
    return tmp_path


async def type_into(pilot: Pilot[None], selector: str, text: str) -> None:
    """Click an input, clear it and type text key by key, as a registrar does."""
    widget = pilot.app.screen.query_one(selector, Input)
    widget.focus()
    widget.value = ""
    await pilot.press(*text)


def form_error(app: RegistrarApp) -> str:
    return str(app.screen.query_one("#form-error", Static).render())


async def open_tab(pilot: Pilot[None], pane: str) -> None:
    """Switch tab as a registrar would, once start-up focus has settled; focus follows."""
    await pilot.pause()
    pilot.app.query_one(TabbedContent).active = pane
    await pilot.pause()


async def settle(app: RegistrarApp, pilot: Pilot[None]) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


