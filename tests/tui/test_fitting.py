"""Tables fit the terminal: at 80 columns every column shows, a longer value is cut with an
ellipsis and shown whole on enter, a wider terminal shows more of it; an empty table says what
fills it; a value is shown as typed, never read as markup; dialogs open centred."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.geometry import Region
from textual.widgets import Checkbox, Input, Static
from textual.widgets._toast import Toast

from registry.v1 import records_pb2 as rec
from sync_agent.config import init_home
from sync_agent.store import AgentStore
from tests.tui.helpers import open_tab, screen_text, taff_home
from tui.app import make_app
from tui.fitting import PADDING, SCROLLBAR, FittedTable, RowScreen, fitted, widths
from tui.tables import COLUMNS, EMPTY_HINTS

LONG_TITLE = "Applied Machine Learning for Public-Sector Decision Making [advanced]"


@pytest.mark.parametrize("table_id", sorted(COLUMNS))
def test_every_tables_columns_fit_80_columns(table_id: str) -> None:
    spec = COLUMNS[table_id]
    assert sum(widths(80, spec)) + PADDING * len(spec) + SCROLLBAR <= 80
    assert all(width >= column.least for width, column in zip(widths(80, spec), spec, strict=True))


def test_a_wider_terminal_gives_the_wide_columns_more() -> None:
    spec = COLUMNS["agreements"]
    narrow, wide = widths(80, spec), widths(120, spec)
    assert wide[1] > narrow[1]  # Sources
    assert wide[4] == narrow[4]  # Status: no share
    assert sum(wide) + PADDING * len(spec) + SCROLLBAR <= 120


def test_a_value_is_cut_with_an_ellipsis_to_its_cells() -> None:
    assert fitted("Applied Machine Learning", 10) == "Applied M…"
    assert fitted("short", 10) == "short"
    assert fitted("two\nlines", 20) == "two lines"
    cjk = fitted("数据伦理学课程", 6)  # two cells a character
    assert cjk.startswith("数据") and cjk.endswith("…") and cell_len(cjk) <= 6


def with_long_title(home: Path) -> Path:
    cfg, _ = init_home(home, "uk.ac.taff", "Taff University", "GB", "127.0.0.1:1")
    store = AgentStore(cfg.store_path, cfg.institution_id)
    store.put_records(
        [
            rec.MicroCredential(
                institution_id="uk.ac.taff",
                key="TAF-LONG",
                version=1,
                title=LONG_TITLE,
                status=rec.RECORD_STATUS_ACTIVE,
                credit=rec.Credit(value=15, system="UK_CREDIT"),
                level=rec.Level(framework="FHEQ", level="7"),
            )
        ]
    )
    store.close()
    return home


async def test_at_80_columns_every_agreement_column_shows(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path), offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "agreements-tab")
        header = next(line for line in screen_text(app).splitlines() if " Key " in line)
        for label in ("Key", "Sources", "Grant", "Valid", "Status"):
            assert label in header
        assert "2024-09-01–2028-08-31" in screen_text(app)  # a whole date range
    app.store.close()


async def test_a_long_title_is_cut_on_screen_and_kept_whole(tmp_path: Path) -> None:
    app = make_app(with_long_title(tmp_path), offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one("#credentials", FittedTable)
        shown = str(table.get_row("TAF-LONG")[1])
        assert shown.endswith("…") and len(shown) < len(LONG_TITLE)
        assert table.full_row("TAF-LONG")[1] == LONG_TITLE
        assert "Applied Machine" in screen_text(app)
    app.store.close()


async def test_a_wider_terminal_shows_more_of_a_value(tmp_path: Path) -> None:
    app = make_app(with_long_title(tmp_path), offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one("#credentials", FittedTable)
        at_80 = str(table.get_row("TAF-LONG")[1])
        await pilot.resize_terminal(140, 30)
        await pilot.pause()
        at_140 = str(table.get_row("TAF-LONG")[1])
        assert len(at_140) > len(at_80)
        assert table.row_count == 1 and table.full_row("TAF-LONG")[1] == LONG_TITLE
    app.store.close()


async def test_a_title_with_brackets_shows_as_typed(tmp_path: Path) -> None:
    app = make_app(with_long_title(tmp_path), offer_demo=False)
    async with app.run_test(size=(200, 24)) as pilot:
        await pilot.pause()
        assert "[advanced]" in screen_text(app)
    app.store.close()


async def test_enter_on_a_cut_answer_shows_the_row_whole(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path), offer_demo=False)
    reason = "not applied: the learner's grade C is below the agreement's minimum of B " * 2
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "explorer-tab")
        table = app.query_one("#explorer", FittedTable)
        table.add_fitted_row("not applied", "uk.ac.taff/AG-DATA-STACK v1", reason)
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RowScreen)
        body = str(app.screen.query_one("#detail-body", Static).render())
        assert f"What / why: {reason}" in body and "Outcome: not applied" in body
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RowScreen)
    app.store.close()


async def test_an_empty_table_says_what_fills_it_until_it_has_a_row(tmp_path: Path) -> None:
    init_home(tmp_path, "uk.ac.taff", "Taff University", "GB", "127.0.0.1:1")
    app = make_app(tmp_path, offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        hint = app.query_one("#credentials-empty", Static)
        assert hint.display
        assert "n adds one" in screen_text(app)
        app.store.put_records(
            [
                rec.MicroCredential(
                    institution_id="uk.ac.taff",
                    key="TAF-1",
                    version=1,
                    title="One",
                    status=rec.RECORD_STATUS_ACTIVE,
                )
            ]
        )
        app.action_refresh()
        await pilot.pause()
        assert not hint.display
    app.store.close()


def test_every_table_that_can_be_empty_has_a_hint() -> None:
    assert set(EMPTY_HINTS) == set(COLUMNS) - {"conflicts"}  # conflicts hide when none


async def test_a_records_detail_scrolls_with_the_keys_at_once(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path), offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        scroll = app.screen.query_one("#detail-scroll")
        assert app.focused is scroll  # no Tab needed first
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y > 0  # the last fields were below the fold at 80x24
    app.store.close()


def centred(region: Region, width: int) -> bool:
    return abs(region.x - (width - region.right)) <= 1 and region.x > 0


async def test_dialogs_open_centred_and_notices_leave_the_footer_free(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path), offer_demo=False)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_tab(pilot, "explorer-tab")
        table = app.query_one("#explorer", FittedTable)
        table.add_fitted_row("applied", "uk.ac.taff/AG-DATA-STACK v1", "a reason")
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RowScreen)
        assert centred(app.screen.query_one("#detail").region, 80)
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        assert centred(app.screen.query_one("#help").region, 80)
        app.notify("a notice long enough to take several lines at eighty columns " * 2)
        await pilot.pause(0.2)
        toast = app.screen.query_one(Toast)
        assert toast.region.y < 24 // 2, "at the top, not over the footer or the buttons"
    app.store.close()


async def test_the_explorers_boxes_and_the_forms_switches_show_whole_at_80_columns(
    tmp_path: Path,
) -> None:
    app = make_app(taff_home(tmp_path), offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "explorer-tab")
        shown = screen_text(app)
        for box in app.query("#explorer-tab Input").results(Input):
            assert box.placeholder in shown, box.placeholder
        await open_tab(pilot, "agreements-tab")
        await pilot.press("n")
        await pilot.pause()
        switch = app.screen.query_one("#f-conditions-transitive-allowed", Checkbox)
        switch.scroll_visible(animate=False)
        await pilot.pause()
        # The mark differs only in colour: the words say which.
        assert "May be chained          ▐X▌ no" in screen_text(app)
        switch.toggle()
        await pilot.pause()
        assert "May be chained          ▐X▌ yes" in screen_text(app)
    app.store.close()


async def test_a_refilled_table_keeps_its_cursor_on_the_same_row(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path), offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "bilateral-tab")
        table = app.query_one("#bilateral", FittedTable)
        rows = [("AG-A", "1"), ("AG-B", "1"), ("AG-C", "2")]
        for agreement_id, version in rows:
            table.add_fitted_row(agreement_id, version, "proposed", "x", "", "", key=agreement_id)
        table.move_cursor(row=2)
        table.clear()
        for agreement_id, version in reversed(rows):  # a refresh may list them in another order
            table.add_fitted_row(agreement_id, version, "proposed", "x", "", "", key=agreement_id)
        table.refilled()
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == "AG-C"
    app.store.close()
