"""What the TUI tests share: an agent home with the demonstration catalogue, and the Pilot
moves a registrar makes."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Static, TabbedContent

from registry_core.envelope import Signer
from registry_server import directory, publication
from sync_agent.config import init_home
from sync_agent.importer import read_catalogue
from sync_agent.store import AgentStore
from tests.conftest import Network, RunningRegistry
from tests.factories import batch, module, signed
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


async def ask_explorer(pilot: Pilot[None], holdings: str, target: str) -> None:
    """Open the Explorer tab, type the holdings and the target institution as a registrar
    does (clicking each box), press enter and wait for the registry's answer."""
    await pilot.pause()  # let the start-up focus settle before switching tab
    pilot.app.query_one(TabbedContent).active = "explorer-tab"
    await pilot.pause()
    await pilot.click("#explore-holdings")
    await pilot.press(*holdings)
    await pilot.click("#explore-target")
    await pilot.press(*target, "enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app: RegistrarApp) -> str:
    """The screen as a registrar sees it, line by line."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


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


def taff_and_forth(
    tmp_path: Path, network: Network, registry: RunningRegistry
) -> tuple[Signer, Signer]:
    """Taff's and Forth's agents (homes tmp_path/taff and tmp_path/forth) with their keys in
    the registry's directory, and Taff's module CS7DE (the factories' agreements grant it)
    published: (Taff's signer, Forth's signer)."""
    _, taff_signer = init_home(tmp_path / "taff", "uk.ac.taff", "Taff", "GB", registry.address)
    directory.rotate_key(network.engine, "uk.ac.taff", taff_signer.public_key)
    _, forth_signer = init_home(tmp_path / "forth", "uk.ac.forth", "Forth", "GB", registry.address)
    directory.rotate_key(network.engine, "uk.ac.forth", forth_signer.public_key)
    publication.publish(network.engine, signed(batch("uk.ac.taff", [module()]), taff_signer))
    return taff_signer, forth_signer
