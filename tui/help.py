"""The help screen: what each tab is for and its keys, in a registrar's words (`?`)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown, Static

HELP = """\
Keys work wherever the focus is, except in a text box, where letters and digits are text:
**escape** leaves the box for the tab's list.

| key | anywhere |
|---|---|
| 1 to 7 | open a tab |
| s | sync: publish your changes to the registry and fetch what awaits you |
| d | load the network's directory |
| / | search the micro-credentials |
| r | reload every list from your institution's records |
| ctrl+p | every workflow by name |
| ? | this help (escape or ? closes it) |
| q | quit |

| tab | what you do there |
|---|---|
| 1 Micro-credentials | **enter** shows a record in full; **n** new, **e** edit, **w** withdraw (asks first); search and filters above the list |
| 2 Modules | the same keys; **v** asks the registry what counts into the module, across the network |
| 3 Agreements | **n** / **e** the agreement form; **x** suspends or reinstates; **w** withdraws; **c** shows the conflicts the registry finds among your agreements |
| 4 Sync | **s** syncs; each sync's result and what the registry holds |
| 5 Bilateral | **enter** shows a version's terms and what it changes; **a** opens a proposal's terms to counter-sign it (**y** signs there); **j** rejects it with a reason |
| 6 Directory | **d** loads the institutions and their keys |
| 7 Explorer | a learner's holdings (`provider/key[:grade][@award date]`, separated by commas), a target institution and a chain depth, then **enter**: what they count for, and why not |

In every list, a value cut with … is shown whole with **enter**. More in `docs/tui.md`.
"""


class HelpScreen(ModalScreen[None]):
    """What each tab is for and its keys; escape, ? or q closes it."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("question_mark", "dismiss(None)", "Close", show=False),
        Binding("q", "dismiss(None)", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static("Help", id="help-title")
            with VerticalScroll(id="help-scroll"):  # arrow keys scroll it at 80x24
                yield Markdown(HELP, id="help-body")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()
