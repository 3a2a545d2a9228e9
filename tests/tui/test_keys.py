"""Keys a registrar reaches for: ? opens the help (escape, ? or q close it), the command
palette names every workflow, and escape leaves a text box for the tab's list, so 1 to 7
switch tabs again. Driven by Textual's Pilot."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding
from textual.widgets import Input, TabbedContent

from tests.tui.helpers import taff_home
from tui.app import RegistrarApp, make_app
from tui.help import HELP, HelpScreen


async def test_question_mark_opens_help_and_escape_question_mark_or_q_close_it(
    tmp_path: Path,
) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        for close in ("question_mark", "escape", "q"):
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            await pilot.press(close)
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen), close
        assert app.is_running  # q closed the help, not the app
    app.store.close()


def test_the_help_names_every_tab_and_every_footer_key() -> None:
    for n, pane in enumerate(
        (
            "Micro-credentials",
            "Modules",
            "Agreements",
            "Sync",
            "Bilateral",
            "Directory",
            "Explorer",
        ),
        start=1,
    ):
        assert f"| {n} {pane} |" in HELP
    for binding in RegistrarApp.BINDINGS:
        # Every key, shown in the footer or not (the digits are the tabs, above; escape
        # leaves a text box).
        if isinstance(binding, Binding) and binding.key != "escape" and not binding.key.isdigit():
            key = {"slash": "/", "question_mark": "?"}.get(binding.key, binding.key)
            assert f"| {key} |" in HELP, binding.key


async def test_the_command_palette_names_every_workflow(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        names = {command.title for command in app.get_system_commands(app.screen)}
        for workflow in (
            "Sync now",
            "New micro-credential",
            "Conflicts",
            "Directory",
            "Search",
            "Explorer",
            "Bilateral",
            "Edit",
            "Withdraw",
            "Help",
        ):
            assert workflow in names, workflow
        assert "Keys" not in names  # Textual's generic key panel: Help says it in our words
    app.store.close()


async def test_edit_from_the_palette_opens_the_record_under_the_cursor(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        edit = next(c for c in app.get_system_commands(app.screen) if c.title == "Edit")
        edit.callback()
        await pilot.pause()
        assert type(app.screen).__name__ == "RecordForm"
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


async def test_the_footer_shows_help_and_quit_on_every_list_tab_at_80_columns(
    tmp_path: Path,
) -> None:
    app = make_app(taff_home(tmp_path), offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for tab in "123456":
            await pilot.press(tab)
            await pilot.pause()
            footer = app.screen._compositor.render_strips()[-1].text
            assert "? Help" in footer and "q Quit" in footer, (tab, footer)
    app.store.close()


async def test_in_a_text_box_the_footer_says_how_to_leave_it(tmp_path: Path) -> None:
    app = make_app(taff_home(tmp_path), offer_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("7")  # the explorer opens on its holdings box
        await pilot.pause()
        assert "esc Leave the box" in app.screen._compositor.render_strips()[-1].text
        await pilot.press("escape")
        await pilot.pause()
        footer = app.screen._compositor.render_strips()[-1].text
        assert "esc" not in footer and "? Help" in footer
    app.store.close()
