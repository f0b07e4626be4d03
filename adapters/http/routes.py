"""The connector's commands and queries: each returns the resulting state, or a problem.

Commands are stamped with the connector's clock and the token's tenant and agent; the
path's agent must be the token's own (a supervisor may read and watch, not act).
"""

from typing import Annotated, Any

import attrs
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from calldesk.adapters.http.auth import Acting, watching
from calldesk.adapters.http.bodies import (
    CallCommandBody,
    ChooseRecordBody,
    DialBody,
    NotReadyBody,
    WrapUpBody,
)
from calldesk.adapters.http.problems import PROBLEM_RESPONSES
from calldesk.apps.access import Principal
from calldesk.apps.call_views import CallLogEntry, CallView
from calldesk.apps.calls import (
    ChooseRecord,
    Dial,
    DialView,
    RequestCallCommand,
    WrapUp,
)
from calldesk.apps.desk import Desk
from calldesk.apps.directory import SEARCH_TEXT_MAX, SEARCH_TEXT_MIN
from calldesk.apps.presence import AgentView, GoAvailable, GoNotReady, LogIn, LogOut
from calldesk.domain.errors import DomainError, InvalidValue
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.domain.tenants import NotReadyReason, QuickConnect, WrapUpPolicy
from calldesk.ports.clock import Clock
from calldesk.ports.directory import SEARCH_LIMIT_MAX, KnownRecord

Who = NamedDependency[Principal]


def desk_of(request: Request[Any, Any, Any]) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def now_of(request: Request[Any, Any, Any]) -> Any:
    clock: Clock = request.app.state.clock
    return clock.now()


@get("/agents/{agent:str}", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def show_agent(
    request: Request[Any, Any, Any], who: Who, agent: FromPath[str]
) -> AgentView:
    """The agent's presence and the work of each call, as the softphone draws it."""
    return desk_of(request).agent(who.tenant, agent)


@attrs.frozen
class DeskSettings:
    """What the agent's softphone offers: the tenant's not-ready reasons, its pick
    list of dispositions (empty: the agent types one), its quick-connect numbers, and
    how wrap-up ends."""

    not_ready_reasons: tuple[NotReadyReason, ...]
    dispositions: tuple[str, ...]
    quick_connects: tuple[QuickConnect, ...]
    wrap_up_policy: WrapUpPolicy


@get("/agents/{agent:str}/desk-settings", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def desk_settings(
    request: Request[Any, Any, Any], who: Who, agent: FromPath[str]
) -> DeskSettings:
    desk = desk_of(request)
    desk.agent(who.tenant, agent)  # an agent of the tenant, or 404
    tenant = desk.tenant(who.tenant)
    return DeskSettings(
        tenant.not_ready_reasons,
        tenant.dispositions,
        tenant.quick_connects,
        tenant.wrap_up_policy,
    )


@get("/agents/{agent:str}/calls", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def agent_calls(
    request: Request[Any, Any, Any], who: Who, agent: FromPath[str]
) -> list[CallView]:
    desk = desk_of(request)
    view = desk.agent(who.tenant, agent)
    return [desk.call(who.tenant, work.call) for work in view.calls]


@post(
    "/agents/{agent:str}/login",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=200,
)
def log_in(request: Request[Any, Any, Any], acting: Acting) -> AgentView:
    return desk_of(request).log_in(LogIn(**acting.fields))


@post(
    "/agents/{agent:str}/ready",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=200,
)
def ready(request: Request[Any, Any, Any], acting: Acting) -> AgentView:
    return desk_of(request).go_available(GoAvailable(**acting.fields))


@post(
    "/agents/{agent:str}/not-ready",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=200,
)
def not_ready(
    request: Request[Any, Any, Any], acting: Acting, data: JSONBody[NotReadyBody]
) -> AgentView:
    return desk_of(request).go_not_ready(GoNotReady(**acting.fields, reason=data.reason))


@post(
    "/agents/{agent:str}/logout",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=200,
)
def log_out(request: Request[Any, Any, Any], acting: Acting) -> AgentView:
    return desk_of(request).log_out(LogOut(**acting.fields))


@get("/calls/{call:str}", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def show_call(request: Request[Any, Any, Any], who: Who, call: FromPath[str]) -> CallView:
    view = desk_of(request).call(who.tenant, call)
    if not any(who.may_watch(agent) for agent in view.concerned_agents):
        watching(who, view.agent or "")
    return view


@post(
    "/calls/{call:str}/commands",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=202,
)
def call_command(
    request: Request[Any, Any, Any],
    who: Who,
    call: FromPath[str],
    data: JSONBody[CallCommandBody],
) -> CallView:
    """Recorded as requested and sent; the state changes when the phone system confirms."""
    command = RequestCallCommand(
        who.tenant,
        who.agent,
        call=call,
        kind=data.kind,
        command_id=data.command_id,
        argument=data.argument,
        at=now_of(request),
    )
    return desk_of(request).command(command)


@post(
    "/calls/{call:str}/wrap-up",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=200,
)
def wrap_up(
    request: Request[Any, Any, Any],
    who: Who,
    call: FromPath[str],
    data: JSONBody[WrapUpBody],
) -> CallView:
    command = WrapUp(
        who.tenant,
        who.agent,
        call=call,
        disposition=data.disposition,
        notes=data.notes,
        command_id=data.command_id,
        at=now_of(request),
    )
    return desk_of(request).wrap_up(command)


@post(
    "/calls/{call:str}/record",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=200,
)
def choose_record(
    request: Request[Any, Any, Any],
    who: Who,
    call: FromPath[str],
    data: JSONBody[ChooseRecordBody],
) -> CallView:
    """File the call under this record (one of several its number reached, or another):
    its log and its log's draft go there."""
    command = ChooseRecord(
        who.tenant, who.agent, call=call, record=data.record.ref(), at=now_of(request)
    )
    return desk_of(request).choose_record(command)


@post(
    "/agents/{agent:str}/dial",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=202,
)
def dial(
    request: Request[Any, Any, Any], acting: Acting, data: JSONBody[DialBody]
) -> DialView:
    """Click-to-dial through the tenant's phone system; the same command id dials once."""
    record = None if data.record is None else data.record.ref()
    command = Dial(
        **acting.fields, number=data.number, command_id=data.command_id, record=record
    )
    return desk_of(request).dial(command)


@get("/agents/{agent:str}/call-log", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def agent_call_log(
    request: Request[Any, Any, Any],
    who: Who,
    agent: FromPath[str],
    limit: FromQuery[int] = 20,
    offset: FromQuery[int] = 0,
) -> list[CallLogEntry]:
    return desk_of(request).agent_call_log(who.tenant, agent, limit, offset)


@get(
    "/records/{kind:str}/{record_id:str}/call-log",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
)
def record_call_log(
    request: Request[Any, Any, Any],
    who: Who,
    kind: FromPath[str],
    record_id: FromPath[str],
    limit: FromQuery[int] = 20,
    offset: FromQuery[int] = 0,
) -> list[CallLogEntry]:
    try:
        record = RecordRef(RecordKind(kind), record_id, record_id)
    except ValueError:
        raise InvalidValue(f"{kind!r} is not a kind of record") from None
    return desk_of(request).record_call_log(who.tenant, record, limit, offset)


@get("/screen-pop", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def screen_pop(
    request: Request[Any, Any, Any], who: Who, number: FromQuery[str]
) -> list[RecordRef]:
    """What a call from this number would pop: the records it reaches, best first."""
    return list(desk_of(request).screen_pop(who.tenant, number))


class QueryRefused(DomainError):
    """A query that means more than its route reads: a name it does not take, or one
    given twice."""


def only_query(request: Request[Any, Any, Any], *names: str) -> None:
    """Refuse a query with any parameter but these, or one of them twice: a query that
    names a tenant, say, must not be answered as if it did not."""
    for name in request.query_params:
        if name not in names:
            taken = ", ".join(names)
            raise QueryRefused(
                f"this route takes no query parameter {name!r}; only {taken}"
            )
        if len(request.query_params.getall(name)) > 1:
            raise QueryRefused(f"the query parameter {name!r} is given twice")


SearchText = Annotated[
    str,
    Parameter(
        min_length=SEARCH_TEXT_MIN,
        max_length=SEARCH_TEXT_MAX,
        description="a word of a name (its start), or three digits or more of a number",
    ),
]
SearchLimit = Annotated[int, Parameter(ge=1, le=SEARCH_LIMIT_MAX)]


@get("/agents/{agent:str}/directory", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def search_directory(
    request: Request[Any, Any, Any],
    who: Who,
    agent: FromPath[str],
    q: SearchText,
    limit: SearchLimit = 10,
) -> list[KnownRecord]:
    """The tenant's records with a number that a name or number names, for the transfer
    and conference dialog: contacts, then leads, then accounts (ADR/0022)."""
    only_query(request, "q", "limit")
    desk = desk_of(request)
    desk.agent(who.tenant, agent)  # an agent of the tenant, or 404
    return list(desk.search_directory(who.tenant, q, limit))


@get("/calls/{call:str}/matches", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def call_matches(
    request: Request[Any, Any, Any], who: Who, call: FromPath[str]
) -> list[KnownRecord]:
    """The records the call's number reached, each with what tells it apart: its kind,
    its account, its numbers, a contact's open cases."""
    only_query(request)
    view = desk_of(request).call(who.tenant, call)
    if not any(who.may_watch(agent) for agent in view.concerned_agents):
        watching(who, view.agent or "")
    return list(desk_of(request).call_matches(who.tenant, call))


api = Router(
    path="/",
    route_handlers=[
        show_agent,
        desk_settings,
        agent_calls,
        log_in,
        ready,
        not_ready,
        log_out,
        show_call,
        call_command,
        wrap_up,
        choose_record,
        dial,
        agent_call_log,
        record_call_log,
        screen_pop,
        search_directory,
        call_matches,
    ],
)
