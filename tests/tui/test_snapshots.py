"""Snapshots of the main screens at 80×24, the smallest terminal the app supports.

A failing snapshot writes a visual diff report (snapshot_report.html); when a change to a
screen is intended, run `pytest tests/tui/test_snapshots.py --snapshot-update` and review the
new SVGs in tests/tui/__snapshots__ before committing them. Only screens without clock times
are snapshotted, so the pictures do not depend on when the tests run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from sync_agent.config import init_home
from tests.tui.helpers import open_tab, taff_home, type_into
from tui.app import RegistrarApp, make_app

SIZE = (80, 24)
Snap = Callable[..., bool]


@pytest.fixture
def taff(tmp_path: Path) -> Iterator[RegistrarApp]:
    app = make_app(taff_home(tmp_path))
    yield app
    app.store.close()


def run_before(
    *steps: Callable[[Pilot[Any]], Awaitable[None]],
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        # The start-up probe of the registry first (127.0.0.1:1: nothing listens, so the
        # offline banner shows), so that every picture is taken in the same state.
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        for step in steps:
            await step(pilot)
        await pilot.pause()

    return run


def test_catalogue(snap_compare: Snap, taff: RegistrarApp) -> None:
    assert snap_compare(taff, terminal_size=SIZE, run_before=run_before())


def test_catalogue_on_a_light_terminal(snap_compare: Snap, tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path), theme="textual-light")
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run_before())
    finally:
        app.store.close()


def test_agreements(snap_compare: Snap, taff: RegistrarApp) -> None:
    assert snap_compare(
        taff, terminal_size=SIZE, run_before=run_before(lambda p: open_tab(p, "agreements-tab"))
    )


def test_new_agreement_form_names_the_wrong_field(snap_compare: Snap, taff: RegistrarApp) -> None:
    async def fill(pilot: Pilot[Any]) -> None:
        await pilot.press("n")
        await type_into(pilot, "#f-key", "AG-NEW")
        await type_into(
            pilot, "#f-source", "all of uk.ac.forth/FOR-PY01, (1 of uk.ac.lagan/A, uk.ac.lagan/B)"
        )
        await type_into(pilot, "#f-grant", "15 SCQF general at FHEQ 9")

    assert snap_compare(
        taff,
        terminal_size=SIZE,
        run_before=run_before(lambda p: open_tab(p, "agreements-tab"), fill),
    )


def test_detail_view(snap_compare: Snap, taff: RegistrarApp) -> None:
    async def open_detail(pilot: Pilot[Any]) -> None:
        await pilot.press("enter")

    assert snap_compare(taff, terminal_size=SIZE, run_before=run_before(open_detail))


def test_sync_tab_before_the_first_sync(snap_compare: Snap, taff: RegistrarApp) -> None:
    assert snap_compare(
        taff, terminal_size=SIZE, run_before=run_before(lambda p: open_tab(p, "sync-tab"))
    )


def test_first_start_offer(snap_compare: Snap, tmp_path: Path) -> None:
    init_home(tmp_path, "uk.ac.forth", "University of the Forth", "GB", "127.0.0.1:1")
    app = make_app(tmp_path)
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run_before())
    finally:
        app.store.close()
