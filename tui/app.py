"""The registrar's terminal UI: the institution's catalogue and agreements, sync, the network's
directory and the equivalence explorer.

The app works on the agent's local store, so it keeps working when the registry is away; every
call to the registry runs in a worker thread and reports back on the screen's thread.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar, cast

import grpc
from textual import on, work
from textual.app import App, ComposeResult, InvalidThemeError, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    ProgressBar,
    Static,
    TabbedContent,
    Tabs,
)

from registry.v1 import bilateral_pb2 as bi
from registry.v1 import directory_pb2 as directory
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from registry_core.records import Record, source_credentials
from registry_core.wording import counted
from sync_agent import config as agent_config
from sync_agent.bilateral import BilateralError, act, awaiting_decision, in_force_before
from sync_agent.client import Registry, RegistryClient
from sync_agent.importer import UnitCatalogue
from sync_agent.reachability import explain, why_unreachable
from sync_agent.store import AgentStore
from sync_agent.sync import SyncError, SyncLock, SyncResult, sync
from tui.confirm import AskScreen, ConfirmScreen
from tui.explorer import ExplorerPane
from tui.first_start import LoadDemoScreen, demo_records
from tui.fitting import FittedTable, RowScreen
from tui.forms import (
    AGREEMENT,
    LEARNING_UNIT,
    MICRO_CREDENTIAL,
    FieldProblem,
    FormKind,
    RecordForm,
    spoken_path,
)
from tui.help import HelpScreen
from tui.panes import (
    AgreementsPane,
    BilateralPane,
    CredentialsPane,
    DirectoryPane,
    StorePane,
    SyncPane,
    UnitsPane,
    holds,
)
from tui.tables import (
    ROW_TITLES,
    BilateralTable,
    DetailScreen,
    RecordTable,
)
from tui.terms import TermsScreen

FORM_OF: dict[int, FormKind] = {
    rec.RECORD_KIND_MICRO_CREDENTIAL: MICRO_CREDENTIAL,
    rec.RECORD_KIND_LEARNING_UNIT: LEARNING_UNIT,
    rec.RECORD_KIND_AGREEMENT: AGREEMENT,
}
ANY = "any"
T = TypeVar("T")
# The tabs in order; keys 1 to 7 open them.
TABS = (
    "micro-credentials",
    "units",
    "agreements-tab",
    "sync-tab",
    "bilateral-tab",
    "directory-tab",
    "explorer-tab",
)


class RegistrarApp(App[None]):
    """Catalogue, agreements and sync of one institution."""

    CSS_PATH = "app.tcss"
    TITLE = "Credit registry"
    AUTO_FOCUS = ""  # on_mount focuses the list, so its keys (n, e, w, enter) work at once
    REACHABILITY_SECONDS = 15.0  # how often the offline banner asks whether the registry is up
    BINDINGS = [
        # At 80 columns the footer has room for the focused list's keys and three of these:
        # directory (tab 6 too), refresh and search (its box says "/") are in the help and
        # the palette only.
        Binding("s", "sync", "Sync"),
        Binding("d", "directory", "Directory", show=False),
        Binding("slash", "search", "Search", show=False),
        Binding("r", "refresh", "Refresh", show=False),
        Binding("question_mark", "help", "Help"),
        # Enabled only in a text box (check_action); elsewhere escape falls through.
        Binding("escape", "leave_text_box", "Leave the box"),
        Binding("q", "quit", "Quit"),
        *(
            Binding(str(n), f"tab('{pane}')", f"Tab {n}", show=False)
            for n, pane in enumerate(TABS, start=1)
        ),
    ]

    def __init__(
        self,
        store: AgentStore,
        institution_name: str,
        config: agent_config.AgentConfig | None = None,
        offer_demo: bool = True,
        connect: Callable[[], Registry] | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.config = config
        self.offer_demo = offer_demo
        self.sub_title = institution_name
        self.known_institutions: set[str] = set()  # the directory, once read from the registry
        # Every call to the registry goes through what connect returns, a new one for each
        # piece of work (a sync, a question): over gRPC to the agent's registry by default.
        self.connect = connect or self._dial
        # Held, not looked up: a probe of the registry may answer while the app is closing
        # and its screen no longer holds the banner.
        self.banner = Static(id="banner")

    def _dial(self) -> Registry:
        assert self.config is not None
        return RegistryClient(self.config.registry, self.config.tls)

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.banner
        yield Static(id="status")
        with TabbedContent():
            yield CredentialsPane(self.store)
            yield UnitsPane(self.store)
            yield AgreementsPane(self.store)
            yield SyncPane(self.store)
            yield BilateralPane(self.store)
            yield DirectoryPane()
            yield ExplorerPane()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#credentials").focus()
        self.action_refresh()
        if self.offer_demo and self.store.last_seq() == 0:
            self.push_screen(LoadDemoScreen(), self.load_demo)
        if self.config is not None:
            self.check_reachable()
            self.set_interval(self.REACHABILITY_SECONDS, self.check_reachable)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette (ctrl+p) offers every workflow by name. Textual's own "Keys"
        panel is left out: our Help says what each key does, in the tab's words."""
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command
        yield SystemCommand("Sync now", "Publish what changed to the registry", self.action_sync)
        for kind, form in FORM_OF.items():
            yield SystemCommand(
                f"New {form.title}",
                f"Create a {form.title}",
                lambda kind=kind: self.open_form(kind),
            )
        yield SystemCommand(
            "Conflicts", "The registry's conflicts among our agreements", self.action_conflicts
        )
        yield SystemCommand(
            "Directory", "The network's institutions and keys", self.action_directory
        )
        yield SystemCommand("Search", "Search the micro-credentials", self.action_search)
        yield SystemCommand(
            "Explorer",
            "Ask what a learner's credentials count for",
            lambda: self.action_tab("explorer-tab"),
        )
        yield SystemCommand(
            "Bilateral",
            "Agreements both institutions sign: proposals to decide",
            lambda: self.action_tab("bilateral-tab"),
        )
        yield SystemCommand(
            "Edit", "Edit the record under the cursor", lambda: self._on_current_record("edit")
        )
        yield SystemCommand(
            "Withdraw",
            "Withdraw the record under the cursor (asks first)",
            lambda: self._on_current_record("withdraw"),
        )
        yield SystemCommand("Help", "What each tab is for, and its keys", self.action_help)

    def _on_current_record(self, action: str) -> None:
        """Edit or withdraw the record under the cursor of the open tab's list."""
        pane = self.query_one(TabbedContent).active
        tables = self.query(f"#{pane} RecordTable").results(RecordTable)
        table = next(tables, None)
        if table is None or (key := table.current_key()) is None:
            self.notify(
                "open Micro-credentials, Modules or Agreements and choose a record first",
                severity="warning",
            )
            return
        if action == "edit":
            self.open_form(table.kind, key)
        else:
            self.confirm_withdraw(table.kind, key)

    # The widget each tab focuses when it opens: the list whose keys act on its records.
    TAB_FOCUS = {
        "micro-credentials": "#credentials",
        "units": "#learning-units",
        "agreements-tab": "#agreements",
        "sync-tab": "#sync-history",
        "bilateral-tab": "#bilateral",
        "directory-tab": "#directory",
        "explorer-tab": "#explore-holdings",
    }

    # The list each tab's escape returns to from a text box: its keys, and 1 to 7, act again.
    TAB_TABLE = {**TAB_FOCUS, "explorer-tab": "#explorer"}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_text_box":
            # Only on the tabs' screen: a form's escape cancels the form.
            return self.screen is self.screen_stack[0] and isinstance(self.focused, Input)
        return True

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_leave_text_box(self) -> None:
        """From a search or explorer box back to the tab's list."""
        pane = self.query_one(TabbedContent).active
        if pane in self.TAB_TABLE:
            self.query_one(self.TAB_TABLE[pane]).focus()

    @on(TabbedContent.TabActivated)
    def focus_pane(self, event: TabbedContent.TabActivated) -> None:
        """Switching tab by key or code moves focus into the new tab (unless the tab bar has
        it), so the new tab's keys work at once and no hidden widget keeps focus."""
        focused = self.focused
        if focused is None or isinstance(focused, Tabs) or event.pane in focused.ancestors:
            return
        if event.pane.id in self.TAB_FOCUS:
            self.query_one(self.TAB_FOCUS[event.pane.id]).focus()

    # --- catalogue and agreements: create, edit, withdraw, suspend --------------------------

    def open_form(self, kind: int, key: str | None = None) -> None:
        """The create form (key None) or the edit form of one record."""
        record = self.store.get(kind, key) if key is not None else None
        if record is not None and record.status == rec.RECORD_STATUS_WITHDRAWN:
            # The registry refuses to bring one back: a withdrawal is final.
            self.notify(
                f"{key} is withdrawn, and a withdrawal is final: add a new record (n) with "
                "another key",
                severity="warning",
            )
            return
        defaults: dict[str, str | bool] = {}
        if kind == rec.RECORD_KIND_MICRO_CREDENTIAL and self.config is not None:
            defaults = {"awarding_body": self.config.name, "country": self.config.country}
        form: FormKind = FORM_OF[kind]
        references = None
        if kind == rec.RECORD_KIND_AGREEMENT:  # the catalogue is read once, as the form opens
            catalogue = UnitCatalogue(
                cast(list[rec.LearningUnit], self.store.records(rec.RECORD_KIND_LEARNING_UNIT))
            )
            references = functools.partial(self.check_references, catalogue)
        self.push_screen(
            RecordForm(form, self.store.institution_id, record, defaults, references),
            self.save_record,
        )

    def check_references(self, catalogue: UnitCatalogue, record: Record) -> None:
        """An agreement's granted units must be in this catalogue (by their own keys), and
        its source credentials' providers in the directory (when the directory has been
        read): named here before saving rather than refused at the next sync."""
        if not isinstance(record, rec.RecognitionAgreement):
            return
        if (missing := catalogue.missing(record)) is not None:
            key, own_key = missing
            raise FieldProblem(
                "grant",
                f"names {key}, which this catalogue does not have"
                + (
                    f" (it is a cross-listed code of {own_key}: name {own_key})"
                    if own_key is not None
                    else ""
                )
                + "; add the module first, or correct the key",
            )
        if self.known_institutions:
            for provider, key in source_credentials(record.source):
                if provider not in self.known_institutions:
                    raise FieldProblem(
                        "source",
                        f"names {provider}/{key}, but {provider} is "
                        "not in the network's directory; check the id (see "
                        "the Directory tab)",
                    )

    def save_record(self, record: Record | None) -> None:
        if record is None:
            return
        changed = self.store.put_records([record])
        self.action_refresh()
        if changed:
            self.notify(f"{record.key} saved; press s to publish it")
        else:
            self.notify(f"{record.key} is unchanged")

    def confirm_withdraw(self, kind: int, key: str) -> None:
        def withdraw(yes: bool | None) -> None:
            if yes and self.store.withdraw(kind, key):
                self.action_refresh()
                self.notify(f"{key} withdrawn; the next sync publishes the withdrawal")

        self.push_screen(
            ConfirmScreen(
                f"Withdraw {key}?\n\nA withdrawn record stays in the "
                "registry's history but is never used again. This "
                "cannot be undone."
            ),
            withdraw,
        )

    def toggle_suspended(self, key: str) -> None:
        """Suspend an agreement in force, or reinstate a suspended one, once asked."""
        agreement = self.store.get(rec.RECORD_KIND_AGREEMENT, key)
        if agreement is None or agreement.status == rec.RECORD_STATUS_WITHDRAWN:
            self.notify(f"{key} is withdrawn; it cannot be suspended", severity="warning")
            return
        suspended = agreement.status == rec.RECORD_STATUS_SUSPENDED

        def toggle(yes: bool | None) -> None:
            if not yes:
                return
            agreement.status = (
                rec.RECORD_STATUS_ACTIVE if suspended else rec.RECORD_STATUS_SUSPENDED
            )
            self.store.put_records([agreement])
            self.action_refresh()
            self.notify(f"{key} {'reinstated' if suspended else 'suspended'}; press s to publish")

        question = (
            f"Reinstate {key}? It grants credit again once published."
            if suspended
            else f"Suspend {key}? It grants no credit while suspended; x again reinstates it."
        )
        self.push_screen(
            ConfirmScreen(question, "Reinstate (y)" if suspended else "Suspend (y)"), toggle
        )

    @on(DataTable.RowSelected)
    def show_detail(self, event: DataTable.RowSelected) -> None:
        table = event.data_table
        if isinstance(table, BilateralTable) and event.row_key.value is not None:
            agreement_id, _, version = event.row_key.value.rpartition("@")
            self.open_terms(agreement_id, int(version))
            return
        if event.row_key.value is None or not isinstance(table, FittedTable):
            return
        if not isinstance(table, RecordTable):  # a row cut to fit is shown whole
            self.push_screen(
                RowScreen(
                    ROW_TITLES.get(table.id or "", ""), table.labelled_row(event.row_key.value)
                )
            )
            return
        key = event.row_key.value
        record = self.store.get(table.kind, key)
        if record is None:
            return

        def then(choice: str | None) -> None:
            if choice == "edit":
                self.open_form(table.kind, key)
            elif choice == "withdraw":
                self.confirm_withdraw(table.kind, key)

        self.push_screen(DetailScreen(record), then)

    def load_demo(self, load: bool | None) -> None:
        if not load:
            return
        changed = self.store.put_records(demo_records(self.store.institution_id))
        self.action_refresh()
        self.notify(
            f"loaded {counted(changed, 'demonstration record')}; press s to publish "
            f"{'it' if changed == 1 else 'them'}"
        )

    # --- sync -----------------------------------------------------------------------------

    def action_sync(self) -> None:
        """Publish what changed and pull bilateral news, off the screen's thread."""
        if self.config is None:
            self.notify("no agent configuration: start registry-tui with --home", severity="error")
            return
        self.query_one("#status", Static).update("Syncing with the registry…")
        progress = self.query_one("#sync-progress", ProgressBar)
        progress.update(total=None, progress=0)
        progress.display = True
        self.run_sync()

    @work(thread=True, exclusive=True, group="sync")
    def run_sync(self) -> None:
        assert self.config is not None
        try:
            with (
                SyncLock(self.config.home / "sync.lock", 5),
                self.connect() as client,
            ):
                result = sync(
                    self.store,
                    client,
                    self.config.signer(),
                    progress=lambda done, total: self.call_from_thread(
                        self.show_progress, done, total
                    ),
                )
        except SyncError as error:
            self.call_from_thread(self.sync_failed, str(error))
            return
        self.call_from_thread(self.sync_done, result)

    def show_progress(self, done: int, total: int) -> None:
        self.query_one("#sync-progress", ProgressBar).update(
            total=max(total, 1), progress=done if total else 1
        )
        self.query_one("#status", Static).update(f"Syncing: {done} of {total} changes published…")

    @work(thread=True, exclusive=True, group="reachability")
    def check_reachable(self) -> None:
        """The offline banner, shown and taken down as the registry goes and comes back,
        whether or not a sync runs (every REACHABILITY_SECONDS)."""
        assert self.config is not None
        with self.connect() as client:
            try:
                serving = client.serving()
            except grpc.RpcError as error:
                if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    why = why_unreachable(error.details() or "", client.address, client.uses_tls)
                    self.call_from_thread(
                        self.show_offline, f"the registry at {client.address}: {why}"
                    )
                    return
                serving = True  # it answered: reachable, whatever it thought of the question
        if serving:
            self.call_from_thread(self.show_online)
        else:
            self.call_from_thread(
                self.show_offline,
                f"the registry at {self.config.registry} "
                "answers but is not serving (stopping, or its database is "
                "unreachable)",
            )

    def show_offline(self, why: str) -> None:
        self.banner.update(f"Offline: {why}. Your changes wait here for the next sync.")
        self.banner.add_class("offline")

    def show_online(self) -> None:
        self.banner.update("")
        self.banner.remove_class("offline")

    def sync_done(self, result: SyncResult) -> None:
        """After a good sync; result holds the registry's checkpoint as the sync left it."""
        self.show_online()
        self.query_one(SyncPane).registry_checkpoint = (
            f"The registry's checkpoint for {self.store.institution_id}: "
            + holds(result.last_seq, result.head)
        )
        self.action_refresh()
        self.notify(self.store.sync_state().last_outcome, title="Sync")
        self.fetch_conflicts()

    def sync_failed(self, message: str) -> None:
        if "unreachable" in message:
            self.show_offline("the last sync could not reach the registry (the Sync tab says why)")
        self.query_one("#sync-progress", ProgressBar).update(total=1, progress=0)
        self.action_refresh()
        self.notify(message, title="Sync failed", severity="error", timeout=10)

    # --- bilateral decisions ------------------------------------------------------------------

    def decide(self, action: str, agreement_id: str, version: int) -> None:
        """Counter-sign (on the terms' screen, after reading them) or reject (with a reason)
        a proposal made to us."""
        waiting = {(s.agreement_id, s.version) for s in awaiting_decision(self.store)}
        if (agreement_id, version) not in waiting:
            self.notify(
                f"{agreement_id} v{version} does not await your decision", severity="warning"
            )
            return
        if action == "countersign":
            self.open_terms(agreement_id, version)
        else:
            self.ask_reason(agreement_id, version)

    def open_terms(self, agreement_id: str, version: int) -> None:
        """A version's terms, what changes from the version in force and its last step; on a
        proposal awaiting our decision, the counter-signature is asked there."""
        latest = [
            (step, state)
            for step, state in self.store.bilateral_latest()
            if (step.agreement_id, step.version) == (agreement_id, version)
        ]
        if not latest:
            return
        step, state = latest[0]
        awaiting = any(
            (s.agreement_id, s.version) == (agreement_id, version)
            for s in awaiting_decision(self.store)
        )

        def decided(choice: str | None) -> None:
            if choice == "countersign":
                self.send_decision("countersign", agreement_id, version, "")
            elif choice == "reject":
                self.ask_reason(
                    agreement_id, version, back=lambda: self.open_terms(agreement_id, version)
                )

        self.push_screen(
            TermsScreen(
                step,
                state,
                self.store.bilateral_terms(agreement_id, version),
                in_force_before(self.store, agreement_id, version),
                awaiting,
            ),
            decided,
        )

    def ask_reason(
        self, agreement_id: str, version: int, back: Callable[[], None] | None = None
    ) -> None:
        """The reason for a rejection, then the rejection; escape goes back (to the terms
        screen the rejection was asked from, when back is given)."""

        def rejected(reason: str | None) -> None:
            if reason:
                self.send_decision("reject", agreement_id, version, reason)
            elif back is not None:
                back()

        self.push_screen(
            AskScreen(
                f"Reject {agreement_id} version {version}: why? (the proposer sees the reason)",
                "reason, then enter",
            ),
            rejected,
        )

    @work(thread=True, exclusive=True, group="sync")
    def send_decision(self, action: str, agreement_id: str, version: int, reason: str) -> None:
        """Sign and send the step, then sync so the store holds the new state."""
        assert self.config is not None
        try:
            with (
                SyncLock(self.config.home / "sync.lock", 5),
                self.connect() as client,
            ):
                answer = act(
                    client, self.config.signer(), self.store, action, agreement_id, version, reason
                )
                sync(self.store, client, self.config.signer())
        except (SyncError, BilateralError) as error:
            self.call_from_thread(self.sync_failed, str(error))
            return
        except grpc.RpcError as error:
            self.call_from_thread(self.sync_failed, explain(error, doing=f"the {action}"))
            return
        state = bi.BilateralState.Name(answer.agreement.state).removeprefix("BILATERAL_STATE_")
        self.call_from_thread(self.action_refresh)
        self.call_from_thread(
            self.notify,
            f"{agreement_id} version {version} is now {state.lower()}",
            title="Bilateral",
        )

    # --- questions to the registry ----------------------------------------------------------

    def action_conflicts(self) -> None:
        self.query_one(TabbedContent).active = "agreements-tab"
        self.fetch_conflicts()

    def ask(self, title: str, question: Callable[[Registry], T]) -> T | None:
        """In a worker: one question to the registry; None when it fails, which the app
        says in plain words under title."""
        if self.config is None:
            return None
        with self.connect() as client:
            try:
                return question(client)
            except grpc.RpcError as error:
                self.call_from_thread(
                    self.notify,
                    in_words(explain(error, client, "the question")),
                    title=title,
                    severity="error",
                    timeout=10,
                )
                return None

    @work(thread=True, exclusive=True, group="conflicts")
    def fetch_conflicts(self) -> None:
        conflicts = self.ask("Conflicts", lambda c: c.conflicts(self.store.institution_id))
        if conflicts is not None:
            self.call_from_thread(self.show_conflicts, conflicts)

    def show_conflicts(self, conflicts: list[eq.Conflict]) -> None:
        table = self.query_one("#conflicts", FittedTable)
        table.clear()
        for conflict in conflicts:
            table.add_fitted_row(
                f"{conflict.source.institution_id}/{conflict.source.key}",
                ", ".join(p.agreement_key for p in conflict.agreements),
                conflict.explanation,
            )
        table.display = bool(conflicts)
        if conflicts:
            self.notify(
                f"the registry reports {counted(len(conflicts), 'conflict')} among "
                "your agreements (Agreements tab)",
                severity="warning",
                timeout=8,
            )
        else:
            self.notify("the registry reports no conflicts among your agreements")

    def look_up_sources(self, unit_key: str) -> None:
        """Reverse look-up: what counts into one of our modules, across the network."""
        self.query_one(TabbedContent).active = "explorer-tab"
        self.query_one(ExplorerPane).look_up_sources(unit_key)

    def action_directory(self) -> None:
        """Load the network's directory from the registry, off the screen's thread."""
        if self.config is not None:
            self.query_one(TabbedContent).active = "directory-tab"
            self.load_directory()

    @work(thread=True, exclusive=True, group="directory")
    def load_directory(self) -> None:
        institutions = self.ask("Directory", lambda c: c.institutions())
        if institutions is not None:
            self.call_from_thread(self.show_directory, institutions)

    def action_tab(self, pane: str) -> None:
        self.query_one(TabbedContent).active = pane

    def action_search(self) -> None:
        self.query_one(TabbedContent).active = "micro-credentials"
        self.query_one("#search", Input).focus()

    def show_directory(self, institutions: list[directory.Institution]) -> None:
        self.known_institutions = {i.institution_id for i in institutions}
        self.query_one(DirectoryPane).show(institutions)

    # --- tables from the local store --------------------------------------------------------

    def action_refresh(self) -> None:
        """Reload every tab from the store."""
        for pane in self.query(StorePane):
            pane.reload()
        self.show_status()
        awaiting = self.query_one(BilateralPane).awaiting
        if awaiting:
            self.notify(
                f"{counted(awaiting, 'bilateral proposal')} "
                f"{'awaits' if awaiting == 1 else 'await'} your decision "
                "(Bilateral tab)",
                timeout=8,
            )

    def show_status(self) -> None:
        state = self.store.sync_state()
        pending = self.store.last_seq() - state.acked_seq
        self.query_one("#status", Static).update(
            f"{counted(pending, 'change')} to publish · last sync: {state.last_outcome}"
        )


def in_words(message: str) -> str:
    """A registry's refusal in a registrar's words: without the gRPC status's name, and
    "request: field 'holdings[1].grade.scheme'" read as "holding 2 › grade › scheme"."""
    for code in grpc.StatusCode:  # the status's name is for a program; the words follow it
        message = message.replace(f" ({code.name})", "")
    return re.sub(
        r"(?:request: )?field '([^']+)'",
        lambda found: spoken_path(found[1].replace("holdings[", "holding[")),
        message,
    )


def make_app(
    home: Path,
    *,
    offer_demo: bool = True,
    theme: str = "",
    connect: Callable[[], Registry] | None = None,
) -> RegistrarApp:
    """The app over the agent in home (offer_demo: offer the demonstration catalogue when the
    store is empty; theme: a Textual theme such as textual-light, default textual-dark;
    connect: the registry to talk to, by default the one agent.toml names, over gRPC)."""
    cfg = agent_config.load(home)
    app = RegistrarApp(
        AgentStore(cfg.store_path, cfg.institution_id), cfg.name, cfg, offer_demo, connect
    )
    if theme:
        try:
            app.theme = theme
        except InvalidThemeError:
            app.store.close()
            raise
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="registry-tui", description=__doc__)
    parser.add_argument(
        "--home",
        type=Path,
        default=agent_config.default_home(),
        help="the agent's folder (env SYNC_AGENT_HOME; default ./agent)",
    )
    parser.add_argument(
        "--theme",
        default=os.environ.get("REGISTRY_TUI_THEME", ""),
        help="colours: textual-light for a light terminal, textual-dark "
        "(default), or any Textual theme; ctrl+p → theme switches at run time "
        "(env REGISTRY_TUI_THEME)",
    )
    args = parser.parse_args(argv)
    try:
        app = make_app(args.home, theme=args.theme)
    except agent_config.ConfigError as error:
        print(f"registry-tui: {error}", file=sys.stderr)
        return 1
    except InvalidThemeError:
        print(
            f"registry-tui: no theme '{args.theme}'; use textual-light or textual-dark, or "
            "one from ctrl+p → theme",
            file=sys.stderr,
        )
        return 2
    app.run()
    app.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
