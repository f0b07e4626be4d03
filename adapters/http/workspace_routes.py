"""An agent's console tabs over HTTP: each command answers with the whole workspace.

The console redraws its tab bar from the answer (or from the agent's stream), so a
reload or a second machine shows the same tabs.
"""

from typing import Annotated, Any

import attrs
from annotated_types import MaxLen
from litestar import Request, Router, get, post, put
from litestar.params import FromPath, JSONBody

from calldesk.adapters.http.auth import Acting
from calldesk.adapters.http.bodies import Position, RecordBody
from calldesk.adapters.http.problems import PROBLEM_RESPONSES
from calldesk.adapters.http.routes import Who, desk_of
from calldesk.apps.workspaces import (
    ActOnTab,
    ArrangeWorkspace,
    HighlightTab,
    MoveTab,
    OpenChild,
    OpenPage,
    OpenRecord,
    RelabelTab,
    SetTabLimit,
    TabAction,
)
from calldesk.domain.workspace import ParentUnavailable, WorkspaceView
from calldesk.domain.workspace_tabs import LABEL_MAX_LENGTH, URL_MAX_LENGTH

Label = Annotated[str, MaxLen(LABEL_MAX_LENGTH)]

WORKSPACE = "/agents/{agent:str}/workspace"
TAB = WORKSPACE + "/tabs/{tab:str}"


@attrs.frozen
class OpenRecordBody:
    record: RecordBody
    allow_duplicate: bool = False


@attrs.frozen
class OpenChildBody:
    record: RecordBody
    parent: RecordBody | None = None
    parent_unavailable: ParentUnavailable = ParentUnavailable.MISSING


@attrs.frozen
class OpenPageBody:
    url: Annotated[str, MaxLen(URL_MAX_LENGTH)]
    label: Label | None = None
    allow_duplicate: bool = False


@attrs.frozen
class TabActionBody:
    action: TabAction


@attrs.frozen
class MoveTabBody:
    position: Position


@attrs.frozen
class LabelBody:
    label: Label


@attrs.frozen
class HighlightBody:
    highlighted: bool


@attrs.frozen
class TabLimitBody:
    limit: int


@get(WORKSPACE, sync_to_thread=True, responses=PROBLEM_RESPONSES)
def show_workspace(
    request: Request[Any, Any, Any], who: Who, agent: FromPath[str]
) -> WorkspaceView:
    """The agent's tabs as they were left, wherever they were left."""
    return desk_of(request).workspace(who.tenant, agent)


@post(
    WORKSPACE + "/records",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=200,
)
def open_record(
    request: Request[Any, Any, Any],
    acting: Acting,
    data: JSONBody[OpenRecordBody],
) -> WorkspaceView:
    """Show a record: its tab when it is open already, else a new primary tab."""
    command = OpenRecord(
        **acting.fields,
        record=data.record.ref(),
        allow_duplicate=data.allow_duplicate,
    )
    return desk_of(request).open_record(command)


@post(
    WORKSPACE + "/children",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=200,
)
def open_child(
    request: Request[Any, Any, Any],
    acting: Acting,
    data: JSONBody[OpenChildBody],
) -> WorkspaceView:
    """Show a record as a subtab of its parent's tab, opening the parent if need be."""
    command = OpenChild(
        **acting.fields,
        record=data.record.ref(),
        parent=None if data.parent is None else data.parent.ref(),
        parent_unavailable=data.parent_unavailable,
    )
    return desk_of(request).open_child(command)


@post(
    WORKSPACE + "/pages", sync_to_thread=True, responses=PROBLEM_RESPONSES, status_code=200
)
def open_page(
    request: Request[Any, Any, Any],
    acting: Acting,
    data: JSONBody[OpenPageBody],
) -> WorkspaceView:
    command = OpenPage(
        **acting.fields,
        url=data.url,
        label=data.label,
        allow_duplicate=data.allow_duplicate,
    )
    return desk_of(request).open_page(command)


@post(TAB + "/actions", sync_to_thread=True, responses=PROBLEM_RESPONSES, status_code=200)
def act_on_tab(
    request: Request[Any, Any, Any],
    acting: Acting,
    tab: FromPath[str],
    data: JSONBody[TabActionBody],
) -> WorkspaceView:
    """Focus, close (a tab with unsaved changes asks), answer a close, pin, mark."""
    command = ActOnTab(**acting.fields, tab=tab, action=data.action)
    return desk_of(request).act_on_tab(command)


@post(TAB + "/move", sync_to_thread=True, responses=PROBLEM_RESPONSES, status_code=200)
def move_tab(
    request: Request[Any, Any, Any],
    acting: Acting,
    tab: FromPath[str],
    data: JSONBody[MoveTabBody],
) -> WorkspaceView:
    command = MoveTab(**acting.fields, tab=tab, position=data.position)
    return desk_of(request).move_tab(command)


@put(TAB + "/label", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def relabel_tab(
    request: Request[Any, Any, Any],
    acting: Acting,
    tab: FromPath[str],
    data: JSONBody[LabelBody],
) -> WorkspaceView:
    command = RelabelTab(**acting.fields, tab=tab, label=data.label)
    return desk_of(request).relabel_tab(command)


@put(TAB + "/highlight", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def highlight_tab(
    request: Request[Any, Any, Any],
    acting: Acting,
    tab: FromPath[str],
    data: JSONBody[HighlightBody],
) -> WorkspaceView:
    command = HighlightTab(**acting.fields, tab=tab, highlighted=data.highlighted)
    return desk_of(request).highlight_tab(command)


@put(WORKSPACE + "/limit", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def set_tab_limit(
    request: Request[Any, Any, Any],
    acting: Acting,
    data: JSONBody[TabLimitBody],
) -> WorkspaceView:
    """At most this many primary tabs: the least recently viewed go, or it is refused."""
    command = SetTabLimit(**acting.fields, limit=data.limit)
    return desk_of(request).set_tab_limit(command)


@post(
    WORKSPACE + "/reopen", sync_to_thread=True, responses=PROBLEM_RESPONSES, status_code=200
)
def reopen_closed_tab(request: Request[Any, Any, Any], acting: Acting) -> WorkspaceView:
    """The last closed tab comes back, with its subtabs."""
    command = ArrangeWorkspace(**acting.fields, reopen_closed_tab=True)
    return desk_of(request).arrange(command)


@post(
    WORKSPACE + "/navigation",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=200,
)
def focus_navigation(request: Request[Any, Any, Any], acting: Acting) -> WorkspaceView:
    return desk_of(request).arrange(ArrangeWorkspace(**acting.fields))


workspace_api = Router(
    path="/",
    route_handlers=[
        show_workspace,
        open_record,
        open_child,
        open_page,
        act_on_tab,
        move_tab,
        relabel_tab,
        highlight_tab,
        set_tab_limit,
        reopen_closed_tab,
        focus_navigation,
    ],
)
