"""Every cross-aggregate reaction of the desk, registered in one place (ADR/0014).

When aggregates of a kind are saved, the policies registered for that kind run, in
order, and what they change is saved in the same transaction. Their own changes do not
set off further policies: a reaction never loops. A desk built without policies only
records what it is told (an embedded replica, later), so a synced change never sets off
a reaction twice.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from eventsourcing.domain import Aggregate

from calldesk.apps.call_policies import (
    agents_follow_their_calls,
    closed_calls_are_logged,
    links_count_open_calls,
)
from calldesk.apps.unit_of_work import UnitOfWork
from calldesk.domain.calls import Call

#: A policy: the saved aggregate and the unit of work in, the aggregates it changed out.
Policy = Callable[[Any, UnitOfWork], list[Aggregate]]


class Policies:
    """The policies of each kind of aggregate, applied to what a save holds."""

    def __init__(self, rules: Mapping[type[Aggregate], Sequence[Policy]]) -> None:
        self.rules = rules

    def react(self, saved: list[Aggregate], work: UnitOfWork) -> list[Aggregate]:
        changed: list[Aggregate] = []
        for aggregate in saved:
            for policy in self.rules.get(type(aggregate), ()):
                changed.extend(policy(aggregate, work))
        return changed


#: The desk's policies.
POLICIES = Policies(
    {
        Call: (
            agents_follow_their_calls,
            links_count_open_calls,
            closed_calls_are_logged,
        ),
    }
)
