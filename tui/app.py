"""The registrar's terminal UI: the institution's catalogue and agreements, and the last sync.

This first version reads the agent's local store; editing, sync and the equivalence explorer
build on it (see the README's roadmap).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import grpc
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Input, Static, TabbedContent, TabPane

from registry.v1 import bilateral_pb2 as bi
from registry.v1 import directory_pb2 as directory
from registry.v1 import equivalence_pb2 as eq
from registry.v1 import records_pb2 as rec
from sync_agent import config as agent_config
from sync_agent.bilateral import awaiting_decision
from sync_agent.client import RegistryClient
from sync_agent.store import AgentStore
from sync_agent.sync import SyncError, SyncLock, explain, sync
from tui.first_start import LoadDemoScreen, demo_records

STATUS = {v: rec.RecordStatus.Name(v).removeprefix("RECORD_STATUS_").lower()
          for v in rec.RecordStatus.values()}


def _credit(credit: rec.Credit) -> str:
    return f"{credit.value:g} {credit.system}"


def _level(level: rec.Level) -> str:
    return f"{level.framework} {level.level}"


def _grant(agreement: rec.RecognitionAgreement) -> str:
    if agreement.grant.WhichOneof("grant") == "unit_key":
        return agreement.grant.unit_key
    general = agreement.grant.general_credit
    return f"{_credit(general.credit)} general at {_level(general.level)}"


def _sources(group: rec.SourceGroup) -> str:
    op = {rec.GROUP_OPERATOR_ALL_OF: "all of", rec.GROUP_OPERATOR_ANY_OF: "any of",
          rec.GROUP_OPERATOR_N_OF: f"{group.n} of"}.get(group.operator, "?")
    items = [f"({_sources(i.group)})" if i.WhichOneof("item") == "group"
             else f"{i.credential.institution_id}/{i.credential.key}" for i in group.items]
    return f"{op} {', '.join(items)}"


class RegistrarApp(App[None]):
    """Catalogue, agreements and sync status of one institution."""

    CSS_PATH = "app.tcss"
    TITLE = "Credit registry"
    BINDINGS = [Binding("s", "sync", "Sync now"), Binding("d", "directory", "Directory"),
                Binding("slash", "search", "Search"), Binding("r", "refresh", "Refresh"),
                Binding("question_mark", "show_help_panel", "Help"), Binding("q", "quit", "Quit")]

    def __init__(self, store: AgentStore, institution_name: str,
                 config: agent_config.AgentConfig | None = None, offer_demo: bool = True) -> None:
        super().__init__()
        self.store = store
        self.config = config
        self.offer_demo = offer_demo
        self.sub_title = institution_name

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="banner")
        yield Static(id="status")
        with TabbedContent():
            with TabPane("Micro-credentials", id="micro-credentials"):
                yield Input(placeholder="search: key, title, level, credit (press / to focus)",
                            id="search")
                yield DataTable(id="credentials", cursor_type="row")
            with TabPane("Modules & qualifications", id="units"):
                yield DataTable(id="learning-units", cursor_type="row")
            with TabPane("Agreements", id="agreements-tab"):
                yield DataTable(id="agreements", cursor_type="row")
            with TabPane("Bilateral", id="bilateral-tab"):
                yield DataTable(id="bilateral", cursor_type="row")
            with TabPane("Directory", id="directory-tab"):
                yield DataTable(id="directory", cursor_type="row")
            with TabPane("Explorer", id="explorer-tab"):
                yield Input(placeholder="holdings: provider/key[:UK letter grade] … e.g. "
                            "uk.ac.forth/MC1:A",
                            id="explore-holdings")
                yield Input(placeholder="target institution, e.g. uk.ac.taff  (Enter to ask)",
                            id="explore-target")
                yield DataTable(id="explorer", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#credentials", DataTable).add_columns(
            "Key", "Title", "Credit", "Level", "Status", "Version")
        self.query_one("#learning-units", DataTable).add_columns(
            "Key", "Title", "Kind", "Credit", "Level", "Status")
        self.query_one("#agreements", DataTable).add_columns(
            "Key", "Sources", "Grant", "Valid", "Status")
        self.query_one("#bilateral", DataTable).add_columns(
            "Agreement", "Version", "State", "Last step by", "Awaits your decision")
        self.query_one("#directory", DataTable).add_columns(
            "Institution", "Name", "Status", "Signing keys (status)")
        self.query_one("#explorer", DataTable).add_columns("Outcome", "Agreement", "What / why")
        self.action_refresh()
        if self.offer_demo and self.store.last_seq() == 0:
            self.push_screen(LoadDemoScreen(), self.load_demo)

    def load_demo(self, load: bool | None) -> None:
        if not load:
            return
        changed = self.store.put_records(demo_records(self.store.institution_id))
        self.action_refresh()
        self.notify(f"loaded {changed} demonstration records; press s to publish them")

    def action_sync(self) -> None:
        """Publish what changed and pull bilateral news, off the screen's thread."""
        if self.config is None:
            self.notify("no agent configuration: start registry-tui with --home", severity="error")
            return
        self.query_one("#status", Static).update("Syncing with the registry…")
        self.run_sync()

    @work(thread=True, exclusive=True, group="sync")
    def run_sync(self) -> None:
        assert self.config is not None
        try:
            with SyncLock(self.config.home / "sync.lock", 5), \
                    RegistryClient(self.config.registry, self.config.tls) as client:
                sync(self.store, client, self.config.signer())
        except SyncError as error:
            self.call_from_thread(self.sync_failed, str(error))
            return
        self.call_from_thread(self.sync_done)

    def action_directory(self) -> None:
        """Load the network's directory from the registry, off the screen's thread."""
        if self.config is not None:
            self.query_one(TabbedContent).active = "directory-tab"
            self.load_directory()

    @work(thread=True, exclusive=True, group="directory")
    def load_directory(self) -> None:
        assert self.config is not None
        try:
            with RegistryClient(self.config.registry, self.config.tls) as client:
                institutions = client.institutions()
        except grpc.RpcError as error:
            self.call_from_thread(self.sync_failed, explain(error))
            return
        self.call_from_thread(self.show_directory, institutions)

    def action_search(self) -> None:
        self.query_one(TabbedContent).active = "micro-credentials"
        self.query_one("#search", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.show_credentials(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("explore-holdings", "explore-target"):
            self.action_explore()

    def action_explore(self) -> None:
        """Ask the registry what the holdings count for at the target (in a worker)."""
        holdings_text = self.query_one("#explore-holdings", Input).value.split()
        target = self.query_one("#explore-target", Input).value.strip()
        holdings = []
        for item in holdings_text:
            ref, _, grade = item.partition(":")
            provider, _, key = ref.partition("/")
            if not provider or not key:
                self.notify(f"'{item}' is not provider/key[:grade]", severity="error")
                return
            holding = eq.Holding(credential=rec.CredentialRef(institution_id=provider, key=key),
                                 award_date=dt.date.today().isoformat(), identity_verified=True)
            if grade:
                holding.grade.scheme, holding.grade.value = "UK_LETTER", grade
            holdings.append(holding)
        if not holdings or not target or self.config is None:
            self.notify("give at least one holding and a target institution", severity="error")
            return
        self.ask_registry(eq.ResolveTransferRequest(holdings=holdings,
                                                    target_institution_id=target))

    @work(thread=True, exclusive=True, group="explore")
    def ask_registry(self, request: eq.ResolveTransferRequest) -> None:
        assert self.config is not None
        try:
            with RegistryClient(self.config.registry, self.config.tls) as client:
                answer = client.resolve_transfer(request)
        except grpc.RpcError as error:
            self.call_from_thread(self.notify, explain(error), title="Explorer",
                                  severity="error", timeout=10)
            return
        self.call_from_thread(self.show_answer, answer)

    def show_answer(self, answer: eq.ResolveTransferResponse) -> None:
        table = self.query_one("#explorer", DataTable)
        table.clear()
        for grant in answer.grants:
            what = grant.grant.unit_key or "general credit"
            chain = " → ".join(f"{p.institution_id}/{p.agreement_key} v{p.agreement_version}"
                               for p in grant.provenance)
            table.add_row("granted", chain, f"{what}: {grant.credit.value:g} "
                          f"{grant.credit.system}")
        for refused in answer.not_applied:
            table.add_row("not applied", refused.agreement.agreement_key, refused.explanation)

    def show_directory(self, institutions: list[directory.Institution]) -> None:
        table = self.query_one("#directory", DataTable)
        table.clear()
        for inst in institutions:
            status = directory.InstitutionStatus.Name(inst.status).split("_")[-1].lower()
            keys = ", ".join(f"{k.key_id[:16]}… ({directory.KeyStatus.Name(k.status).split('_')[-1].lower()})"
                             for k in inst.keys)
            table.add_row(inst.institution_id, inst.name, status, keys, key=inst.institution_id)

    def sync_done(self) -> None:
        banner = self.query_one("#banner", Static)
        banner.update("")
        banner.remove_class("offline")
        self.action_refresh()
        self.notify(self.store.sync_state().last_outcome, title="Sync")

    def sync_failed(self, message: str) -> None:
        banner = self.query_one("#banner", Static)
        if "unreachable" in message:
            banner.update("The registry is unreachable: you are working on the local store; "
                          "changes will be published on the next sync.")
            banner.add_class("offline")
        self.action_refresh()
        self.notify(message, title="Sync failed", severity="error", timeout=10)

    def show_credentials(self, search: str = "") -> None:
        """The micro-credentials whose cells contain every word of search (any case)."""
        words = search.lower().split()
        credentials = self.query_one("#credentials", DataTable)
        credentials.clear()
        for mc in self.store.records(rec.RECORD_KIND_MICRO_CREDENTIAL):
            assert isinstance(mc, rec.MicroCredential)
            cells = (mc.key, mc.title, _credit(mc.credit), _level(mc.level), STATUS[mc.status],
                     str(mc.version))
            text = " ".join(cells).lower()
            if all(word in text for word in words):
                credentials.add_row(*cells, key=mc.key)

    def action_refresh(self) -> None:
        """Reload every table from the store."""
        self.show_credentials(self.query_one("#search", Input).value)
        units = self.query_one("#learning-units", DataTable)
        units.clear()
        for lu in self.store.records(rec.RECORD_KIND_LEARNING_UNIT):
            assert isinstance(lu, rec.LearningUnit)
            kind = rec.LearningUnitKind.Name(lu.kind).removeprefix("LEARNING_UNIT_KIND_").lower()
            units.add_row(lu.key, lu.title, kind, _credit(lu.credit), _level(lu.level),
                          STATUS[lu.status], key=lu.key)
        agreements = self.query_one("#agreements", DataTable)
        agreements.clear()
        for ag in self.store.records(rec.RECORD_KIND_AGREEMENT):
            assert isinstance(ag, rec.RecognitionAgreement)
            valid = f"{ag.conditions.valid_from or '…'} to {ag.conditions.valid_to or '…'}"
            agreements.add_row(ag.key, _sources(ag.source), _grant(ag), valid, STATUS[ag.status],
                               key=ag.key)
        bilateral = self.query_one("#bilateral", DataTable)
        bilateral.clear()
        waiting = {(s.agreement_id, s.version) for s in awaiting_decision(self.store)}
        for step, state_after in self.store.bilateral_latest():
            name = bi.BilateralState.Name(state_after).removeprefix("BILATERAL_STATE_").lower()
            awaits = (step.agreement_id, step.version) in waiting
            bilateral.add_row(step.agreement_id, str(step.version), name, step.actor,
                              "yes" if awaits else "", key=f"{step.agreement_id}@{step.version}")
        if waiting:
            self.notify(f"{len(waiting)} bilateral proposal(s) await your decision "
                        "(Bilateral tab)", timeout=8)
        state = self.store.sync_state()
        self.query_one("#status", Static).update(
            f"Change log up to seq {self.store.last_seq()} · registry acknowledged seq "
            f"{state.acked_seq} · last sync {state.last_attempt_at or 'never'}: "
            f"{state.last_outcome}")


def make_app(home: Path, *, offer_demo: bool = True) -> RegistrarApp:
    """The app over the agent in home (offer_demo: offer the demonstration catalogue when the
    store is empty)."""
    cfg = agent_config.load(home)
    return RegistrarApp(AgentStore(cfg.store_path, cfg.institution_id), cfg.name, cfg,
                        offer_demo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="registry-tui", description=__doc__)
    parser.add_argument("--home", type=Path, default=agent_config.default_home(),
                        help="the agent's folder (env SYNC_AGENT_HOME; default ./agent)")
    args = parser.parse_args(argv)
    try:
        app = make_app(args.home)
    except agent_config.ConfigError as error:
        print(f"registry-tui: {error}", file=sys.stderr)
        return 1
    app.run()
    app.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
