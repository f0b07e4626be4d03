"""Each agent's console tabs as use cases; the workspace is rebuilt anywhere by replay.

Records are opened as the record directory knows them in the tenant (its title, not
the page's), so another tenant's record is not found; a parent the directory does not
know makes a child open as its own tab. Screen pops and call ends reach the workspace
through the call policies (calldesk.apps.call_policies).
"""

import enum
from collections.abc import Callable

import attrs

from calldesk.apps.aggregates import agent_named, workspace_of
from calldesk.apps.commands import AgentCommand
from calldesk.apps.unit_of_work import Service, writes
from calldesk.domain.record_feed import RecordNotFound
from calldesk.domain.records import RecordRef
from calldesk.domain.workspace import (
    DEFAULT_TAB_LIMIT,
    ParentUnavailable,
    Workspace,
    WorkspaceView,
)


@attrs.frozen
class OpenRecord(AgentCommand):
    record: RecordRef
    allow_duplicate: bool = False


@attrs.frozen
class OpenChild(AgentCommand):
    """Open a record in its parent's tab; without a parent, say why there is none."""

    record: RecordRef
    parent: RecordRef | None = None
    parent_unavailable: ParentUnavailable = ParentUnavailable.MISSING


@attrs.frozen
class OpenPage(AgentCommand):
    url: str
    label: str | None = None
    allow_duplicate: bool = False


class TabAction(enum.Enum):
    FOCUS = "focus"
    CLOSE = "close"
    CONFIRM_CLOSE = "confirm-close"
    CANCEL_CLOSE = "cancel-close"
    PIN = "pin"
    UNPIN = "unpin"
    MARK_UNSAVED = "mark-unsaved"
    MARK_SAVED = "mark-saved"


@attrs.frozen
class ActOnTab(AgentCommand):
    tab: str
    action: TabAction


@attrs.frozen
class MoveTab(AgentCommand):
    tab: str
    position: int


@attrs.frozen
class RelabelTab(AgentCommand):
    tab: str
    label: str


@attrs.frozen
class HighlightTab(AgentCommand):
    tab: str
    highlighted: bool


@attrs.frozen
class SetTabLimit(AgentCommand):
    limit: int


@attrs.frozen
class ArrangeWorkspace(AgentCommand):
    """Reopen the last closed tab, or return to the navigation tab."""

    reopen_closed_tab: bool = False


_ACTIONS: dict[TabAction, Callable[[Workspace, ActOnTab], object]] = {
    TabAction.FOCUS: lambda w, c: w.focus(c.tab, c.at),
    TabAction.CLOSE: lambda w, c: w.close(c.tab, c.at),
    TabAction.CONFIRM_CLOSE: lambda w, c: w.confirm_close(c.tab, c.at),
    TabAction.CANCEL_CLOSE: lambda w, c: w.cancel_close(c.tab, c.at),
    TabAction.PIN: lambda w, c: w.pin(c.tab, c.at),
    TabAction.UNPIN: lambda w, c: w.unpin(c.tab, c.at),
    TabAction.MARK_UNSAVED: lambda w, c: w.mark_unsaved(c.tab, c.at),
    TabAction.MARK_SAVED: lambda w, c: w.mark_saved(c.tab, c.at),
}


class Workspaces(Service):
    """The tabs of every agent."""

    SNAPSHOTS = {Workspace: 100}  # noqa: RUF012 (a workspace grows all day)

    @writes
    def open_record(self, command: OpenRecord) -> WorkspaceView:
        record = self._known_ref(command.tenant, command.record)
        return self._arrange(
            command, lambda w: w.open_record(record, command.at, command.allow_duplicate)
        )

    @writes
    def open_child(self, command: OpenChild) -> WorkspaceView:
        record = self._known_ref(command.tenant, command.record)
        parent: RecordRef | ParentUnavailable = command.parent_unavailable
        if command.parent is not None:
            known = self.work.directory.record(
                command.tenant, command.parent.kind, command.parent.record_id
            )
            parent = ParentUnavailable.MISSING if known is None else known.ref
        return self._arrange(command, lambda w: w.open_child(record, parent, command.at))

    @writes
    def open_page(self, command: OpenPage) -> WorkspaceView:
        return self._arrange(
            command,
            lambda w: w.open_page(
                command.url, command.at, command.label, command.allow_duplicate
            ),
        )

    @writes
    def act_on_tab(self, command: ActOnTab) -> WorkspaceView:
        return self._arrange(command, lambda w: _ACTIONS[command.action](w, command))

    @writes
    def move_tab(self, command: MoveTab) -> WorkspaceView:
        return self._arrange(
            command, lambda w: w.move(command.tab, command.position, command.at)
        )

    @writes
    def relabel_tab(self, command: RelabelTab) -> WorkspaceView:
        return self._arrange(
            command, lambda w: w.relabel(command.tab, command.label, command.at)
        )

    @writes
    def highlight_tab(self, command: HighlightTab) -> WorkspaceView:
        return self._arrange(
            command, lambda w: w.highlight(command.tab, command.highlighted, command.at)
        )

    @writes
    def set_tab_limit(self, command: SetTabLimit) -> WorkspaceView:
        return self._arrange(command, lambda w: w.set_tab_limit(command.limit, command.at))

    @writes
    def arrange(self, command: ArrangeWorkspace) -> WorkspaceView:
        if command.reopen_closed_tab:
            return self._arrange(command, lambda w: w.reopen_closed_tab(command.at))
        return self._arrange(command, lambda w: w.focus_navigation(command.at))

    def workspace(self, tenant: str, agent: str) -> WorkspaceView:
        """The agent's tabs as they were left, on any machine; empty when never used."""
        agent_named(self.work, tenant, agent)
        found = self.work.find(Workspace, Workspace.create_id(tenant, agent))
        if found is None:
            return WorkspaceView(tenant, agent, (), None, (), 0, DEFAULT_TAB_LIMIT)
        return found.view()

    def _arrange(
        self, command: AgentCommand, change: Callable[[Workspace], object]
    ) -> WorkspaceView:
        agent_named(self.work, command.tenant, command.agent)
        workspace = self.work.change(
            lambda: workspace_of(self.work, command.tenant, command.agent, command.at),
            change,
        )
        return workspace.view()

    def _known_ref(self, tenant: str, record: RecordRef) -> RecordRef:
        known = self.work.directory.record(tenant, record.kind, record.record_id)
        if known is None:
            raise RecordNotFound(
                f"no {record.kind.value} {record.record_id} in tenant {tenant}"
            )
        return known.ref
