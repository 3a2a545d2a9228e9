"""Keys a registrar reaches for: ? and escape close the help panel, and escape leaves a text
box for the tab's list, so 1 to 7 switch tabs again. Driven by Textual's Pilot."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, TabbedContent

from tests.tui.helpers import taff_home
from tui.app import make_app


async def test_the_help_panel_closes_with_question_mark_or_escape(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        for close in ("question_mark", "escape"):
            await pilot.press("question_mark")
            await pilot.pause()
            assert app.screen.query("HelpPanel")
            await pilot.press(close)
            await pilot.pause()
            assert not app.screen.query("HelpPanel"), close
    app.store.close()


async def test_escape_leaves_a_text_box_so_digits_switch_tabs_again(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:

        def focused() -> str | None:
            return app.focused.id if app.focused is not None else None

        await pilot.pause()
        await pilot.press("7")  # the explorer opens on its holdings box
        await pilot.pause()
        holdings = app.query_one("#explore-holdings", Input)
        assert focused() == "explore-holdings"
        await pilot.press("1", "2")
        assert holdings.value == "12"  # in a text box, digits are text
        await pilot.press("escape")
        await pilot.pause()
        assert focused() == "explorer"
        await pilot.press("1")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "micro-credentials"

        await pilot.press("slash", *"green", "escape")
        await pilot.pause()
        assert focused() == "credentials"
        await pilot.press("2")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "units"
    app.store.close()
