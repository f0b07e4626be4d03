"""The calldesk application: every capability a service, one unit of work, one log.

`Desk` is what embedders construct and the edges call. It composes the services on one
store (ADR/0002), registers the policies in one place (calldesk.apps.policies), and
forwards each use case to the service that owns it (ADR/0014). Adding a capability is
one more service here; no other service changes.
"""

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Concatenate, Generic, ParamSpec, TypeVar

from calldesk.apps.access import Access
from calldesk.apps.app_refusals import AppRefusals
from calldesk.apps.call_log import CallLogs
from calldesk.apps.calls import Calls, NoDirectory
from calldesk.apps.change_feed import ChangeFeed
from calldesk.apps.client_apps import ClientApps
from calldesk.apps.directory import RecordLookups
from calldesk.apps.directory_projection import DirectoryProjection, FollowingDirectory
from calldesk.apps.feeds import Publishing
from calldesk.apps.log import DeskLog
from calldesk.apps.policies import POLICIES
from calldesk.apps.presence import AgentPresence
from calldesk.apps.record_batches import RecordBatches
from calldesk.apps.records import Records
from calldesk.apps.softphone import SoftphoneViews
from calldesk.apps.store import Store
from calldesk.apps.tenancy import Tenancy
from calldesk.apps.unit_of_work import Service, UnitOfWork
from calldesk.apps.workspaces import Workspaces
from calldesk.ports.directory import ProjectedDirectory, RecordDirectory

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound=Service)

#: An SQLite database in memory, private to one desk.
IN_MEMORY = "sqlite:///:memory:"


class _Via(Generic[S]):
    """Makes a Desk method that forwards to one of its services, typed as the service's."""

    def __init__(self, service: Callable[["Desk"], S]) -> None:
        self.service = service

    def __call__(
        self, method: Callable[Concatenate[S, P], R]
    ) -> Callable[Concatenate["Desk", P], R]:
        service = self.service

        @functools.wraps(method)
        def forward(desk: "Desk", /, *args: P.args, **kwargs: P.kwargs) -> R:
            return method(service(desk), *args, **kwargs)

        return forward


_tenancy = _Via[Tenancy](lambda desk: desk.tenancy)
_presence = _Via[AgentPresence](lambda desk: desk.presence)
_access = _Via[Access](lambda desk: desk.access)
_client_apps = _Via[ClientApps](lambda desk: desk.client_apps)
_app_refusals = _Via[AppRefusals](lambda desk: desk.app_refusal_log)
_calls = _Via[Calls](lambda desk: desk.calls)
_call_logs = _Via[CallLogs](lambda desk: desk.call_logs)
_workspaces = _Via[Workspaces](lambda desk: desk.workspaces)
_publishing = _Via[Publishing](lambda desk: desk.publishing)
_softphones = _Via[SoftphoneViews](lambda desk: desk.softphones)
_records = _Via[Records](lambda desk: desk.records)
_change_feed = _Via[ChangeFeed](lambda desk: desk.change_feed)
_record_batches = _Via[RecordBatches](lambda desk: desk.record_batches)
_lookups = _Via[RecordLookups](lambda desk: desk.lookups)
_projection = _Via[DirectoryProjection](lambda desk: desk.directory_projection)


class Desk:
    """Commands in, views out; every capability on one store and one log."""

    tenancy: Tenancy
    presence: AgentPresence
    access: Access
    client_apps: ClientApps
    app_refusal_log: AppRefusals
    calls: Calls
    call_logs: CallLogs
    workspaces: Workspaces
    publishing: Publishing
    softphones: SoftphoneViews
    records: Records
    change_feed: ChangeFeed
    record_batches: RecordBatches
    lookups: RecordLookups
    directory_projection: DirectoryProjection

    def __init__(
        self,
        store: Store,
        directory: RecordDirectory | None = None,
        reacting: bool = True,
    ) -> None:
        """``reacting``: False records commands without their policies (a replica).
        A directory that is a projection of the records follows the log (ADR/0023)."""
        self.store = store
        if isinstance(directory, ProjectedDirectory):
            directory = FollowingDirectory(directory, store.indexes)
        self.directory = directory or NoDirectory()
        self.work = UnitOfWork(store, self.directory, POLICIES if reacting else None)
        self.log = DeskLog(store)
        self.tenancy = Tenancy(self.work)
        self.presence = AgentPresence(self.work)
        self.app_refusal_log = AppRefusals(self.work)
        self.client_apps = ClientApps(self.work, self.app_refusal_log)
        self.access = Access(self.work, self.client_apps)
        self.calls = Calls(self.work)
        self.call_logs = CallLogs(self.work)
        self.workspaces = Workspaces(self.work)
        self.publishing = Publishing(self.work)
        self.softphones = SoftphoneViews(self.work)
        self.records = Records(self.work)
        self.change_feed = ChangeFeed(self.work)
        self.record_batches = RecordBatches(self.work, self.records)
        self.lookups = RecordLookups(self.work)
        self.directory_projection = DirectoryProjection(self.work)
        for service in (
            self.presence,
            self.calls,
            self.call_logs,
            self.workspaces,
            self.publishing,
        ):
            self._snapshots_of(service)

    @classmethod
    def at(
        cls,
        database_url: str,
        directory: RecordDirectory | None = None,
        reacting: bool = True,
    ) -> "Desk":
        """The desk storing its events at this URL (see calldesk.apps.settings);
        StoreUnavailable when the store cannot be opened."""
        return cls(Store.at(database_url), directory, reacting)

    @classmethod
    def in_memory(
        cls, directory: RecordDirectory | None = None, reacting: bool = True
    ) -> "Desk":
        """A desk whose log lives as long as it does: for tests and contract kits."""
        return cls.at(IN_MEMORY, directory, reacting)

    def _snapshots_of(self, service: Service) -> None:
        for kind, interval in getattr(service, "SNAPSHOTS", {}).items():
            self.store.snapshot_every(kind, interval)

    # The store.

    def head(self) -> int:
        """The position of the newest event in the log (0 when empty)."""
        return self.store.head()

    def atomically(self) -> AbstractContextManager[None]:
        """What the commands inside save is recorded in one transaction, or nothing."""
        return self.work.atomically()

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Desk":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # Tenants.
    create_tenant = _tenancy(Tenancy.create_tenant)
    define_not_ready_reasons = _tenancy(Tenancy.define_not_ready_reasons)
    define_dispositions = _tenancy(Tenancy.define_dispositions)
    define_quick_connects = _tenancy(Tenancy.define_quick_connects)
    set_wrap_up_policy = _tenancy(Tenancy.set_wrap_up_policy)
    set_default_region = _tenancy(Tenancy.set_default_region)
    close_popped_tabs = _tenancy(Tenancy.close_popped_tabs)
    tenant = _tenancy(Tenancy.tenant)

    # Agents and their presence.
    register_agent = _presence(AgentPresence.register_agent)
    log_in = _presence(AgentPresence.log_in)
    go_available = _presence(AgentPresence.go_available)
    go_not_ready = _presence(AgentPresence.go_not_ready)
    log_out = _presence(AgentPresence.log_out)
    agent = _presence(AgentPresence.agent)
    agent_history = _presence(AgentPresence.agent_history)

    # Access.
    issue_token = _access(Access.issue_token)
    revoke_token = _access(Access.revoke_token)
    tokens = _access(Access.tokens)
    authenticate = _access(Access.authenticate)

    # Third-party apps.
    register_app = _client_apps(ClientApps.register_app)
    publish_app = _client_apps(ClientApps.publish_app)
    suspend_app = _client_apps(ClientApps.suspend_app)
    reinstate_app = _client_apps(ClientApps.reinstate_app)
    revoke_app = _client_apps(ClientApps.revoke_app)
    rotate_app_key = _client_apps(ClientApps.rotate_app_key)
    install_app = _client_apps(ClientApps.install_app)
    uninstall_app = _client_apps(ClientApps.uninstall_app)
    apps = _client_apps(ClientApps.apps)
    app = _client_apps(ClientApps.app)
    apps_of = _client_apps(ClientApps.apps_of)
    app_of = _client_apps(ClientApps.app_of)
    open_app_session = _client_apps(ClientApps.open_app_session)
    end_app_session = _client_apps(ClientApps.end_app_session)
    check_app_request = _client_apps(ClientApps.check_request)
    record_app_refusal = _app_refusals(AppRefusals.record)
    app_refusals = _app_refusals(AppRefusals.page)

    # Calls.
    attach = _calls(Calls.attach)
    vendors = _calls(Calls.vendors)
    hear = _calls(Calls.hear)
    hear_news = _calls(Calls.hear_news)
    reconcile = _calls(Calls.reconcile)
    expire_wrap_ups = _calls(Calls.expire_wrap_ups)
    fail_unconfirmed_commands = _calls(Calls.fail_unconfirmed_commands)
    command = _calls(Calls.command)
    wrap_up = _calls(Calls.wrap_up)
    choose_record = _calls(Calls.choose_record)
    dial = _calls(Calls.dial)
    call = _calls(Calls.call)
    caller_number = _calls(Calls.caller_number)
    screen_pop = _calls(Calls.screen_pop)
    search_directory = _lookups(RecordLookups.search_directory)
    call_matches = _lookups(RecordLookups.call_matches)
    catch_up_directory = _projection(DirectoryProjection.catch_up_directory)
    rebuild_directory = _projection(DirectoryProjection.rebuild_directory)
    agent_call_log = _call_logs(CallLogs.agent_call_log)
    record_call_log = _call_logs(CallLogs.record_call_log)

    # Workspaces.
    open_record = _workspaces(Workspaces.open_record)
    open_child = _workspaces(Workspaces.open_child)
    open_page = _workspaces(Workspaces.open_page)
    act_on_tab = _workspaces(Workspaces.act_on_tab)
    move_tab = _workspaces(Workspaces.move_tab)
    relabel_tab = _workspaces(Workspaces.relabel_tab)
    highlight_tab = _workspaces(Workspaces.highlight_tab)
    set_tab_limit = _workspaces(Workspaces.set_tab_limit)
    arrange = _workspaces(Workspaces.arrange)
    workspace = _workspaces(Workspaces.workspace)

    # Publishing.
    open_draft = _publishing(Publishing.open_draft)
    edit_draft = _publishing(Publishing.edit_draft)
    move_draft = _publishing(Publishing.move_draft)
    close_draft = _publishing(Publishing.close_draft)
    confirm_close = _publishing(Publishing.confirm_close)
    keep_for_later = _publishing(Publishing.keep_for_later)
    cancel_close = _publishing(Publishing.cancel_close)
    restore_draft = _publishing(Publishing.restore_draft)
    publish = _publishing(Publishing.publish)
    publish_draft = _publishing(Publishing.publish_draft)
    assign_record_queue = _publishing(Publishing.assign_record_queue)
    record_queue = _publishing(Publishing.record_queue)
    publisher = _publishing(Publishing.publisher)
    feed = _publishing(Publishing.feed)

    # CRM records and their schemas.
    record_schema = _records(Records.schema)
    add_field = _records(Records.add_field)
    change_field = _records(Records.change_field)
    retire_field = _records(Records.retire_field)
    create_record = _records(Records.create_record)
    import_records = _records(Records.import_records)
    change_record = _records(Records.change_record)
    delete_record = _records(Records.delete_record)
    restore_record = _records(Records.restore_record)
    crm_record = _records(Records.record)
    record_history = _records(Records.history)
    record_changes = _change_feed(ChangeFeed.changes)
    apply_record_batch = _record_batches(RecordBatches.apply)

    # What the softphone shows.
    softphone = _softphones(SoftphoneViews.softphone)
    projection = _softphones(SoftphoneViews.projection)
