"""One version of a bilateral agreement for people: its terms in the words of the agreement
form (the record view), what changes from the version in force, and its last step with the
reason given. A proposal awaiting this institution's decision is counter-signed here, and only
once its terms have been scrolled through to the end."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from registry.v1 import bilateral_pb2 as bi
from registry.v1 import records_pb2 as rec
from registry_core.bilateral import canonical_content, content_hash
from registry_core.wording import counted
from tui.record_view import record_differences, record_lines


def _name(enum: str) -> str:
    return enum.split("_", 2)[-1].lower()


def _heading(text: str) -> Text:
    return Text(text, style="bold underline")


def _lines(pairs: list[tuple[str, str]]) -> Text:
    return Text("\n").join(
        Text.assemble("  ", (f"{label}: ", "bold"), value) for label, value in pairs
    )


def _signed(terms: rec.RecognitionAgreement) -> rec.RecognitionAgreement:
    """The terms as both sides sign them (sources in one order, no status or version), so a
    group entered in another order is not reported as a change."""
    return rec.RecognitionAgreement.FromString(canonical_content(terms))


def changes_text(
    version: int,
    terms: rec.RecognitionAgreement,
    in_force: tuple[int, rec.RecognitionAgreement | None] | None,
    proposed: bool = True,
) -> Text:
    """What version changes from the version in force, field by field, old → new.
    proposed: version is still a proposal (not yet counter-signed, rejected or withdrawn)."""
    if in_force is None:
        return Text(
            f"No earlier version is in force: version {version} would be the first "
            "terms of this agreement."
            if proposed
            else f"No earlier version was in force: version {version} is the first terms "
            "of this agreement."
        )
    previous, old = in_force
    if old is None:
        return Text(
            f"Version {previous} is in force, but its terms are not in this store "
            "(a sync pulls them), so the changes cannot be shown."
        )
    changed = record_differences(_signed(old), _signed(terms))
    if not changed:
        return Text(f"Nothing differs from version {previous}, which is in force.")
    return Text("\n").join(
        [
            Text(
                f"Version {version} changes {counted(len(changed), 'field')} "
                f"of version {previous}, "
                "which stays in force until this one is counter-signed:"
            )
        ]
        + [
            Text.assemble("  ", (f"{label}: ", "bold"), was, " → ", (now, "bold"))
            for label, was, now in changed
        ]
    )


class TermsScreen(ModalScreen[str | None]):
    """A version's terms and changes. Dismisses with "countersign" (y, once the terms have
    been scrolled through), "reject" (j) or None (n, escape); y and j only when the version
    awaits our decision."""

    BINDINGS = [
        Binding("y", "countersign", "Counter-sign"),
        Binding("j", "reject", "Reject"),
        Binding("n,escape", "dismiss(None)", "Close"),
    ]
    AUTO_FOCUS = "#terms-scroll"  # arrows, page keys and end scroll the terms at 80x24

    def __init__(
        self,
        last: bi.BilateralStep,
        state: int,
        proposal: bi.BilateralStep | None,
        in_force: tuple[int, rec.RecognitionAgreement | None] | None,
        awaiting: bool,
    ) -> None:
        super().__init__()
        self.last, self.state, self.proposal = last, state, proposal
        self.in_force, self.awaiting = in_force, awaiting
        self.seen = False  # the end of the terms has been on the screen

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("countersign", "reject"):
            return self.awaiting
        return True

    def title_text(self) -> str:
        step = self.last
        where = f"{step.agreement_id} version {step.version}"
        if self.awaiting:
            return f"{where}: proposed by {step.actor}, awaits your decision"
        return f"{where}: {_name(bi.BilateralState.Name(self.state))}"

    def body(self) -> Text:
        step, parts = self.last, []
        if not self.awaiting:
            said = [
                f"Last step: {_name(bi.BilateralAction.Name(step.action))} by {step.actor}"
                + (f" on {step.signed_at[:10]}" if step.signed_at else "")
            ]
            if step.reason:
                said.append(f"Reason given: {step.reason}")
            parts.append(Text("\n").join(Text(line) for line in said))
        if self.proposal is None:
            parts.append(
                Text("The terms of this version are not in this store; a sync pulls them.")
            )
            return Text("\n\n").join(parts)
        terms = self.proposal.terms
        parts.append(
            Text("\n").join(
                [
                    _heading("What changes"),
                    changes_text(
                        step.version,
                        terms,
                        self.in_force,
                        proposed=self.state == bi.BILATERAL_STATE_PROPOSED,
                    ),
                ]
            )
        )
        parts.append(
            Text("\n").join(
                [
                    _heading(
                        f"The terms (version {step.version}), proposed by {self.proposal.actor} "
                        f"to {self.proposal.partner}"
                    ),
                    _lines(record_lines(terms)),
                ]
            )
        )
        if self.awaiting:
            parts.append(
                Text(
                    f"Counter-signing signs these terms exactly as shown (content "
                    f"hash {content_hash(terms)[:16]}…) with your institution's key; "
                    "the agreement then binds both institutions."
                )
            )
        return Text("\n\n").join(parts)

    def compose(self) -> ComposeResult:
        with Vertical(id="terms"):
            yield Static(self.title_text(), id="terms-title")
            with VerticalScroll(id="terms-scroll"):
                yield Static(self.body(), id="terms-body")
            if self.awaiting:
                yield Static(
                    "Scroll to the end of the terms (↓ or end) to counter-sign.", id="terms-hint"
                )
                with Horizontal(id="terms-buttons"):
                    yield Button(
                        "Counter-sign (y)",
                        id="countersign",
                        variant="primary",
                        disabled=True,
                        compact=True,
                    )
                    yield Button("Reject (j)", id="reject", variant="error", compact=True)
                    yield Button("Not now (n)", id="close", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        if self.awaiting:
            scroll = self.query_one("#terms-scroll", VerticalScroll)
            self.watch(scroll, "scroll_y", self.check_seen)
            self.watch(scroll, "virtual_size", self.check_seen)
            self.call_after_refresh(self.check_seen)

    def check_seen(self) -> None:
        """Once the end of the terms is on the screen, counter-signing is allowed."""
        scroll = self.query_one("#terms-scroll", VerticalScroll)
        laid_out = scroll.size.height > 0 and scroll.virtual_size.height > 0
        if self.seen or not laid_out or scroll.scroll_y < scroll.max_scroll_y:
            return
        self.seen = True
        self.query_one("#countersign", Button).disabled = False
        self.query_one("#terms-hint", Static).update(
            "y counter-signs these terms; j rejects them with a reason; n closes."
        )

    def action_countersign(self) -> None:
        if self.seen:
            self.dismiss("countersign")
        else:
            self.notify(
                "read the terms to their end first (↓ or end), then press y", severity="warning"
            )

    def action_reject(self) -> None:
        self.dismiss("reject")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "countersign":
            self.action_countersign()
        elif event.button.id == "reject":
            self.action_reject()
        else:
            self.dismiss(None)
