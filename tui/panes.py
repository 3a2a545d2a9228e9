"""The tabs that list what the agent's store holds (micro-credentials, modules, agreements,
the sync, bilateral agreements) and the network's directory: each composes its filters and
table and fills the table (`show`). What a registrar does on a row (forms, withdraw,
decisions, questions to the registry) is the app's (tui/app.py); the Explorer is a tab of its
own (tui/explorer.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import cast

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, ProgressBar, Select, Static, TabPane

from registry.v1 import bilateral_pb2 as bi
from registry.v1 import directory_pb2 as directory
from registry.v1 import records_pb2 as rec
from registry_core import isced
from registry_core.expressions import format_credit, format_grant, format_level, format_sources
from registry_core.records import source_credentials
from registry_core.wording import counted
from sync_agent.bilateral import awaiting_decision
from sync_agent.store import AgentStore, SyncState
from tui.fitting import FittedTable
from tui.tables import (
    STATUS,
    AgreementTable,
    BilateralTable,
    RecordTable,
    UnitTable,
    empty_hint,
    table,
)

ANY = "any"


def shown_time(iso: str) -> str:
    """A stored UTC time as every screen shows it: 2026-12-07 20:15:04 UTC."""
    return f"{iso[:19].replace('T', ' ')} UTC" if iso else "never"


def stored_checkpoint(state: SyncState) -> str:
    """The registry's checkpoint as the store kept it from the last good sync (an earlier
    session's too)."""
    if not state.last_success_at:
        return "The registry's checkpoint: not asked yet (press s to sync)."
    return (
        f"The registry's checkpoint at the last good sync ({shown_time(state.last_success_at)}"
        f"): {holds(state.acked_seq, state.head)} (s asks again)"
    )


def holds(seq: int, head: str) -> str:
    """A checkpoint in words: how many of this institution's changes the registry holds
    (the agent numbers its changes 1, 2, 3…), and the head of its log."""
    return f"it holds this institution's changes up to number {seq}; its log's head is {head[:16]}…"


def validity(conditions: rec.Conditions, today: str) -> str:
    """in force, expired or not yet, as of today (ISO dates compare as text)."""
    if conditions.valid_to and conditions.valid_to < today:
        return "expired"
    if conditions.valid_from and conditions.valid_from > today:
        return "not yet"
    return "in force"


def valid_between(conditions: rec.Conditions) -> str:
    """An agreement's dates of validity, as the Agreements table shows them."""
    since, until = conditions.valid_from, conditions.valid_to
    if since and until:
        return f"{since}–{until}"
    return f"from {since}" if since else f"until {until}" if until else "any time"


def chosen(select: Select[str]) -> str:
    """A filter's choice (ANY when none)."""
    return ANY if select.is_blank() else str(select.value)


def offer(select: Select[str], values: Iterable[str], words: Callable[[str], str] = str) -> None:
    """Refresh a filter's options from the data, keeping the current choice when it remains.
    words: how an option reads (a subject code with its name)."""
    current = chosen(select)
    options = sorted(set(values))
    label = str(select.prompt)
    select.set_options([(f"{label}: {ANY}", ANY)] + [(f"{label}: {words(v)}", v) for v in options])
    select.value = current if current in options else ANY


def filter_row(*selects: tuple[str, str]) -> Horizontal:
    """Filters, each showing what it filters ("Status: any"), not only its value."""
    return Horizontal(
        *(
            Select(
                [(f"{label}: {ANY}", ANY)],
                value=ANY,
                allow_blank=False,
                compact=True,
                id=wid,
                prompt=label,
                tooltip=label,
            )
            for wid, label in selects
        ),
        classes="filters",
    )


class StorePane(TabPane):
    """A tab listing what the agent's store holds."""

    def __init__(self, title: str, store: AgentStore, pane_id: str) -> None:
        super().__init__(title, id=pane_id)
        self.store = store

    # Each pane's own: fill its table from the store (as its filters say).
    show: Callable[[], None]

    def reload(self) -> None:
        """The filters' choices from the store, then the table."""
        self.show()


class CredentialsPane(StorePane):
    """Micro-credentials: a search, a least credit, filters by status, level and subject."""

    def __init__(self, store: AgentStore) -> None:
        super().__init__("Micro-credentials", store, "micro-credentials")

    def compose(self) -> ComposeResult:
        with Horizontal(classes="filters"):
            yield Input(placeholder="search (/)", id="search", compact=True)
            yield Input(placeholder="min credit", id="min-credit", compact=True, type="number")
        yield filter_row(("mc-status", "status"), ("mc-level", "level"), ("mc-subject", "subject"))
        yield empty_hint("credentials")
        yield RecordTable(rec.RECORD_KIND_MICRO_CREDENTIAL, id="credentials")

    def reload(self) -> None:
        credentials = cast(
            list[rec.MicroCredential], self.store.records(rec.RECORD_KIND_MICRO_CREDENTIAL)
        )
        offer(self.query_one("#mc-status", Select), (STATUS[r.status] for r in credentials))
        offer(self.query_one("#mc-level", Select), (format_level(r.level) for r in credentials))
        offer(
            self.query_one("#mc-subject", Select),
            (r.subject_isced or "none" for r in credentials),
            isced.labelled,
        )
        self.show()

    @on(Input.Changed, "#search, #min-credit")
    @on(Select.Changed, "#mc-status, #mc-level, #mc-subject")
    def show(self) -> None:
        """The micro-credentials that pass the filters and contain every word of the search
        (any case)."""
        words = self.query_one("#search", Input).value.lower().split()
        try:
            min_credit = float(self.query_one("#min-credit", Input).value or 0)
        except ValueError:
            min_credit = 0
        status = chosen(self.query_one("#mc-status", Select))
        level = chosen(self.query_one("#mc-level", Select))
        subject = chosen(self.query_one("#mc-subject", Select))
        listed = self.query_one("#credentials", RecordTable)
        listed.clear()
        for mc in self.store.records(rec.RECORD_KIND_MICRO_CREDENTIAL):
            assert isinstance(mc, rec.MicroCredential)
            cells = (
                mc.key,
                mc.title,
                format_credit(mc.credit),
                format_level(mc.level),
                STATUS[mc.status],
                str(mc.version),
            )
            text = " ".join(cells).lower()
            if (
                all(word in text for word in words)
                and mc.credit.value >= min_credit
                and status in (ANY, cells[4])
                and level in (ANY, cells[3])
                and subject in (ANY, mc.subject_isced or "none")
            ):
                listed.add_fitted_row(*cells, key=mc.key)
        listed.refilled()


class UnitsPane(StorePane):
    """Modules and qualifications, with a search."""

    def __init__(self, store: AgentStore) -> None:
        super().__init__("Modules", store, "units")

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="search modules and qualifications: key, title, kind, level, credit",
            id="unit-search",
            compact=True,
        )
        yield empty_hint("learning-units")
        yield UnitTable(rec.RECORD_KIND_LEARNING_UNIT, id="learning-units")

    @on(Input.Changed, "#unit-search")
    def show(self) -> None:
        """The modules and qualifications containing every word of the search (any case)."""
        words = self.query_one("#unit-search", Input).value.lower().split()
        units = self.query_one("#learning-units", RecordTable)
        units.clear()
        for lu in self.store.records(rec.RECORD_KIND_LEARNING_UNIT):
            assert isinstance(lu, rec.LearningUnit)
            kind = rec.LearningUnitKind.Name(lu.kind).removeprefix("LEARNING_UNIT_KIND_").lower()
            cells = (
                lu.key,
                lu.title,
                kind,
                format_credit(lu.credit),
                format_level(lu.level),
                STATUS[lu.status],
            )
            if all(word in " ".join(cells).lower() for word in words):
                units.add_fitted_row(*cells, key=lu.key)
        units.refilled()


class AgreementsPane(StorePane):
    """Recognition agreements, filtered by partner, status and validity; the registry's
    conflicts among them below, once asked."""

    def __init__(self, store: AgentStore) -> None:
        super().__init__("Agreements", store, "agreements-tab")

    def compose(self) -> ComposeResult:
        yield filter_row(
            ("ag-partner", "partner"), ("ag-status", "status"), ("ag-validity", "validity")
        )
        yield empty_hint("agreements")
        yield AgreementTable(rec.RECORD_KIND_AGREEMENT, id="agreements")
        yield table("conflicts")

    def on_mount(self) -> None:
        self.query_one("#conflicts").display = False  # until the registry names one

    def reload(self) -> None:
        agreements = cast(
            list[rec.RecognitionAgreement], self.store.records(rec.RECORD_KIND_AGREEMENT)
        )
        today = dt.date.today().isoformat()
        offer(
            self.query_one("#ag-partner", Select),
            (p for ag in agreements for p, _ in source_credentials(ag.source)),
        )
        offer(self.query_one("#ag-status", Select), (STATUS[ag.status] for ag in agreements))
        offer(
            self.query_one("#ag-validity", Select),
            (validity(ag.conditions, today) for ag in agreements),
        )
        self.show()

    @on(Select.Changed, "#ag-partner, #ag-status, #ag-validity")
    def show(self) -> None:
        partner = chosen(self.query_one("#ag-partner", Select))
        status = chosen(self.query_one("#ag-status", Select))
        in_force = chosen(self.query_one("#ag-validity", Select))
        today = dt.date.today().isoformat()
        listed = self.query_one("#agreements", RecordTable)
        listed.clear()
        for ag in self.store.records(rec.RECORD_KIND_AGREEMENT):
            assert isinstance(ag, rec.RecognitionAgreement)
            partners = {provider for provider, _ in source_credentials(ag.source)}
            if (
                partner in partners | {ANY}
                and status in (ANY, STATUS[ag.status])
                and in_force in (ANY, validity(ag.conditions, today))
            ):
                listed.add_fitted_row(
                    ag.key,
                    format_sources(ag.source),
                    format_grant(ag.grant),
                    valid_between(ag.conditions),
                    STATUS[ag.status],
                    key=ag.key,
                )
        listed.refilled()


class SyncPane(StorePane):
    """The last sync, what waits to be published, the registry's checkpoint and every sync's
    result; a progress bar while one runs."""

    def __init__(self, store: AgentStore) -> None:
        super().__init__("Sync", store, "sync-tab")
        # The registry's checkpoint as this session's last sync left it; before one, what the
        # store kept from the last good sync.
        self.registry_checkpoint = ""

    def compose(self) -> ComposeResult:
        yield ProgressBar(id="sync-progress", show_eta=False)
        yield Static(id="sync-result")
        yield empty_hint("sync-history")
        yield table("sync-history")

    def on_mount(self) -> None:
        self.query_one("#sync-progress").display = False  # until a sync starts

    def show(self) -> None:
        state = self.store.sync_state()
        pending = self.store.last_seq() - state.acked_seq
        checkpoint = self.registry_checkpoint or stored_checkpoint(state)
        self.query_one("#sync-result", Static).update(
            f"Last sync: {state.last_outcome}\n"
            f"Last success: {shown_time(state.last_success_at)} · waiting to publish: "
            f"{counted(pending, 'change')}\n{checkpoint}\n"
            "Press s to sync now."
        )
        history = self.query_one("#sync-history", FittedTable)
        history.clear()
        for run in self.store.sync_history():
            history.add_fitted_row(
                run.at[:19].replace("T", " "),
                "ok" if run.success else "FAILED",
                f"up to {run.acked_seq}",
                run.outcome,
            )


class BilateralPane(StorePane):
    """Bilateral agreements' latest steps, and which await this institution's decision."""

    def __init__(self, store: AgentStore) -> None:
        super().__init__("Bilateral", store, "bilateral-tab")
        self.awaiting = 0  # proposals awaiting our decision, as last shown

    def compose(self) -> ComposeResult:
        yield empty_hint("bilateral")
        yield BilateralTable(id="bilateral")

    def show(self) -> None:
        bilateral = self.query_one("#bilateral", FittedTable)
        bilateral.clear()
        waiting = {(s.agreement_id, s.version) for s in awaiting_decision(self.store)}
        for step, state_after in self.store.bilateral_latest():
            name = bi.BilateralState.Name(state_after).removeprefix("BILATERAL_STATE_").lower()
            awaits = (step.agreement_id, step.version) in waiting
            bilateral.add_fitted_row(
                step.agreement_id,
                str(step.version),
                name,
                step.actor,
                "yes" if awaits else "",
                step.reason,
                key=f"{step.agreement_id}@{step.version}",
            )
        bilateral.refilled()
        self.awaiting = len(waiting)


class DirectoryPane(TabPane):
    """The network's institutions and their keys, as the registry last said."""

    def __init__(self) -> None:
        super().__init__("Directory", id="directory-tab")

    def compose(self) -> ComposeResult:
        yield empty_hint("directory")
        yield table("directory")

    def show(self, institutions: list[directory.Institution]) -> None:
        listed = self.query_one("#directory", FittedTable)
        listed.clear()
        for inst in institutions:
            status = directory.InstitutionStatus.Name(inst.status).split("_")[-1].lower()
            keys = ", ".join(
                f"{k.key_id} ({directory.KeyStatus.Name(k.status).split('_')[-1].lower()})"
                for k in inst.keys
            )
            listed.add_fitted_row(
                inst.institution_id, inst.name, status, keys, key=inst.institution_id
            )
