"""The Explorer tab checks every box before it asks the registry: a chain depth outside 1 to 5
(the registry's range) is named, and the app keeps running (-1 once ended it with
ValueError: Value out of range)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from registry.v1 import equivalence_pb2 as eq
from tests.tui.helpers import open_tab, taff_home, type_into
from tui.app import make_app
from tui.explorer import ExplorerPane
from tui.fitting import FittedTable


@pytest.mark.parametrize("depth", ["-1", "0", "6", "99999999999"])
async def test_a_chain_depth_outside_1_to_5_is_named_and_nothing_is_asked(
    tmp_path: Path, depth: str
) -> None:
    app = make_app(taff_home(tmp_path), offer_demo=False)
    asked: list[eq.ResolveTransferRequest] = []
    said: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await open_tab(pilot, "explorer-tab")
        pane = app.query_one(ExplorerPane)
        pane.ask_registry = asked.append  # type: ignore[method-assign,assignment]
        app.notify = lambda message, **_: said.append(message)  # type: ignore[method-assign]
        await type_into(pilot, "#explore-holdings", "uk.ac.forth/FOR-PY01:A")
        await type_into(pilot, "#explore-target", "uk.ac.taff")
        await type_into(pilot, "#explore-depth", depth)
        await pilot.press("enter")
        await pilot.pause()
        assert app.is_running
        assert asked == []
        assert said == [
            f"chain depth: a whole number from 1 (direct agreements only) to 5, not {depth}"
        ]
        assert app.query_one("#explorer", FittedTable).row_count == 0
    app.store.close()


async def test_a_depth_in_range_is_asked_as_given(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path), offer_demo=False)
    asked: list[eq.ResolveTransferRequest] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await open_tab(pilot, "explorer-tab")
        pane = app.query_one(ExplorerPane)
        pane.ask_registry = asked.append  # type: ignore[method-assign,assignment]
        await type_into(pilot, "#explore-holdings", "uk.ac.forth/FOR-PY01:A")
        await type_into(pilot, "#explore-target", "uk.ac.taff")
        await type_into(pilot, "#explore-depth", "3")
        await pilot.press("enter")
        await pilot.pause()
        assert [(r.max_depth, r.target_institution_id) for r in asked] == [(3, "uk.ac.taff")]
    app.store.close()


async def test_a_refused_question_takes_the_last_answer_away(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path), offer_demo=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_tab(pilot, "explorer-tab")
        pane = app.query_one(ExplorerPane)
        pane.show_answer(
            eq.ResolveTransferResponse(
                not_applied=[eq.NotApplied(explanation="an earlier learner's answer")]
            )
        )
        table = app.query_one("#explorer", FittedTable)
        assert table.row_count == 1
        await type_into(pilot, "#explore-holdings", "uk.ac.forth/FOR-PY01:A")
        await type_into(pilot, "#explore-target", "uk.ac.taff")
        await type_into(pilot, "#explore-depth", "9")
        await pilot.press("enter")
        await pilot.pause()
        assert table.row_count == 0
    app.store.close()


async def test_coming_back_to_the_explorer_typing_adds_to_the_holdings(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path), offer_demo=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_tab(pilot, "explorer-tab")
        await type_into(pilot, "#explore-holdings", "uk.ac.forth/FOR-PY01:A")
        await pilot.press("escape", "1", "7")
        await pilot.pause()
        await pilot.press(*", uk.ac.forth/FOR-DE01:B")
        holdings = app.query_one("#explore-holdings", Input)
        assert holdings.value == "uk.ac.forth/FOR-PY01:A, uk.ac.forth/FOR-DE01:B"
    app.store.close()
