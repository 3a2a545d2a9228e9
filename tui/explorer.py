"""The Explorer tab: what a learner's holdings count for at an institution (ResolveTransfer),
and what counts into one of our modules (ListSources), asked of the registry in a worker."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Checkbox, Input, TabPane

from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.expressions import (
    ExpressionError,
    format_credit,
    format_grant,
    format_sources,
    parse_holdings,
)
from tui.fitting import FittedTable
from tui.tables import empty_hint, table

if TYPE_CHECKING:
    from tui.app import RegistrarApp

# The chain depths the registry answers (registry_server.equivalence.MAX_DEPTH); 1 is direct.
DEPTHS = range(1, 6)


class ExplorerPane(TabPane):
    """Holdings, a target institution, a chain depth and whether the assessment was
    identity-verified; enter in any box asks the registry, and its answer fills the table."""

    def __init__(self) -> None:
        super().__init__("Explorer", id="explorer-tab")

    @property
    def registrar(self) -> RegistrarApp:
        return cast("RegistrarApp", self.app)

    def compose(self) -> ComposeResult:
        yield Input(
            # Short enough for 80 columns; the empty answer's hint spells out the format.
            placeholder="holdings, e.g. uk.ac.forth/MC1:A@2025-06-30, uk.ac.x/MAT 45:B",
            id="explore-holdings",
            select_on_focus=False,  # coming back to the tab, typing adds to the holdings
        )
        with Horizontal(classes="filters"):
            yield Input(
                placeholder="target institution id",
                id="explore-target",
                compact=True,
                select_on_focus=False,
            )
            yield Input(
                placeholder=f"chain depth 1–{DEPTHS[-1]}",
                id="explore-depth",
                type="integer",
                compact=True,
                select_on_focus=False,
            )
            yield Checkbox("identity-verified", True, id="explore-verified", compact=True)
        yield empty_hint("explorer")
        yield table("explorer")

    @on(Input.Submitted, "#explore-holdings, #explore-target, #explore-depth")
    def explore(self) -> None:
        """Ask the registry what the holdings count for at the target; every box is checked
        first, and a wrong one is named without asking."""
        # A new question: the last answer goes at once, so that it is never read as the
        # answer to these holdings (when they are refused below, or the registry is away).
        self.query_one("#explorer", FittedTable).clear()
        verified = self.query_one("#explore-verified", Checkbox).value
        try:
            holdings = parse_holdings(
                self.query_one("#explore-holdings", Input).value, dt.date.today(), verified
            )
        except ExpressionError as error:
            self.app.notify(str(error), severity="error")
            return
        target = self.query_one("#explore-target", Input).value.strip()
        depth_text = self.query_one("#explore-depth", Input).value.strip() or "1"
        depth = int(depth_text) if depth_text.lstrip("-").isdigit() else 0
        if depth not in DEPTHS:
            self.app.notify(
                f"chain depth: a whole number from 1 (direct agreements only) to "
                f"{DEPTHS[-1]}, not {depth_text}",
                severity="error",
            )
            return
        if not holdings or not target:
            self.app.notify("give at least one holding and a target institution", severity="error")
            return
        self.ask_registry(
            eq.ResolveTransferRequest(
                holdings=holdings, target_institution_id=target, max_depth=depth
            )
        )

    @work(thread=True, exclusive=True, group="explore")
    def ask_registry(self, request: eq.ResolveTransferRequest) -> None:
        answer = self.registrar.ask("Explorer", lambda c: c.resolve_transfer(request))
        if answer is not None:
            self.app.call_from_thread(self.show_answer, answer)

    def show_answer(self, answer: eq.ResolveTransferResponse) -> None:
        rows = self.query_one("#explorer", FittedTable)
        rows.clear()
        for grant in answer.grants:
            what = (
                "general credit"
                if grant.grant.WhichOneof("grant") == "general_credit"
                else format_grant(grant.grant)
            )
            chain = " → ".join(
                f"{p.institution_id}/{p.agreement_key} v{p.agreement_version}"
                for p in grant.provenance
            )
            said = [f"{what}: {format_credit(grant.credit)}"]
            if grant.level.framework:
                said.append(f"at {grant.level.framework} {grant.level.level}")
            said += [f"only if {condition}" for condition in grant.conditions]
            if grant.volume_explanation:
                said.append(grant.volume_explanation)
            rows.add_fitted_row(
                "conditional" if grant.conditional else "granted", chain, "; ".join(said)
            )
        for refused in answer.not_applied:
            rows.add_fitted_row("not applied", refused.agreement.agreement_key, refused.explanation)
        if not answer.grants and not answer.not_applied:
            # An empty table would look like no answer at all.
            target = self.query_one("#explore-target", Input).value.strip()
            self.notify(
                f"The registry knows no agreement of {target} that takes these holdings, "
                "directly or (with a chain depth above 1) through others",
                title="Explorer",
            )

    @work(thread=True, exclusive=True, group="explore")
    def look_up_sources(self, unit_key: str) -> None:
        """Reverse look-up: what counts into one of our modules, across the network."""
        registrar = self.registrar
        agreements = registrar.ask(
            "Explorer", lambda c: c.sources(registrar.store.institution_id, unit_key)
        )
        if agreements is not None:
            self.app.call_from_thread(self.show_sources, unit_key, agreements)

    def show_sources(self, unit_key: str, agreements: list[rec.RecognitionAgreement]) -> None:
        # The boxes hold a learner's question; this answer is not to it, so they are emptied
        # rather than left to say something the rows do not answer.
        for box in ("#explore-holdings", "#explore-target"):
            self.query_one(box, Input).value = ""
        rows = self.query_one("#explorer", FittedTable)
        rows.clear()
        for agreement in agreements:
            rows.add_fitted_row(
                f"counts into {unit_key}",
                f"{agreement.institution_id}/{agreement.key} v{agreement.version}",
                format_sources(agreement.source),
            )
        if not agreements:
            rows.add_fitted_row("nothing", "", f"no active agreement grants {unit_key} yet")
