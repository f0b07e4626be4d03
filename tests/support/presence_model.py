"""A plain reference model of agent presence, written from the rules in ADR/0004.

It shares no code with calldesk.domain.agents: the stateful tests drive both with the
same commands and check they agree on the state, the time it was entered, and on which
commands are refused, recorded, or change nothing.
"""

from datetime import datetime

import attrs

from calldesk.domain.agents import AgentHasCallWork, AgentLoggedOut
from calldesk.domain.errors import Refused

RECORDED = "recorded"
UNCHANGED = "unchanged"
Expected = str | type[Refused]

#: Which work shows when an agent has several calls.
PRECEDENCE = ("on-call", "dialing", "offered", "wrap-up")


@attrs.define
class ReferencePresence:
    since: datetime
    presence: str = "logged-out"
    reason: str | None = None
    next_pick: tuple[str, str | None] | None = None
    calls: dict[str, str] = attrs.field(factory=dict)
    auto_ready: bool = True

    @property
    def state(self) -> str:
        for work in PRECEDENCE:
            if work in self.calls.values():
                return work
        return self.presence

    def log_in(self, at: datetime) -> Expected:
        if self.presence != "logged-out":
            return UNCHANGED
        return self._show("not-ready", None, at)

    def go_available(self, at: datetime) -> Expected:
        return self._pick("available", None, at)

    def go_not_ready(self, reason: str, at: datetime) -> Expected:
        return self._pick("not-ready", reason, at)

    def log_out(self, at: datetime) -> Expected:
        if self.presence == "logged-out":
            return UNCHANGED
        if self.calls:
            return AgentHasCallWork
        return self._show("logged-out", None, at)

    def work_changed(self, call: str, work: str, at: datetime) -> Expected:
        if self.calls.get(call) == work:
            return UNCHANGED
        shown = self.state
        self.calls[call] = work
        if self.state != shown:
            self.since = at
        return RECORDED

    def release(self, call: str, handled: bool, at: datetime) -> Expected:
        if call not in self.calls:
            return UNCHANGED
        shown = self.state
        last = len(self.calls) == 1
        del self.calls[call]
        if last and self.presence != "logged-out":
            if self.next_pick is not None:
                self.presence, self.reason = self.next_pick
            elif handled:
                self.presence = "available" if self.auto_ready else "not-ready"
                self.reason = None
            self.next_pick = None
        if self.state != shown:
            self.since = at
        return RECORDED

    def _pick(self, presence: str, reason: str | None, at: datetime) -> Expected:
        if self.presence == "logged-out":
            return AgentLoggedOut
        if self.calls:
            if (self.next_pick or (self.presence, self.reason)) == (presence, reason):
                return UNCHANGED
            self.next_pick = (presence, reason)
            return RECORDED
        if (self.presence, self.reason) == (presence, reason):
            return UNCHANGED
        return self._show(presence, reason, at)

    def _show(self, presence: str, reason: str | None, at: datetime) -> Expected:
        self.presence, self.reason, self.since = presence, reason, at
        return RECORDED
