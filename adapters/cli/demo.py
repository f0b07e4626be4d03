"""`calldesk demo`: the README's main command."""

import typer

from calldesk.adapters.cli.console import describe, desk_session, now, out
from calldesk.adapters.cli.presence import history_table
from calldesk.apps.demo import DEMO_AGENT, DEMO_TENANT, presence_round_trip


def demo(context: typer.Context) -> None:
    """Run a shift's presence changes on the configured store and show the audit trail."""
    with desk_session(context) as desk:
        out.print(f"Event store: {context.obj.database_url}")
        for caption, view in presence_round_trip(desk, now):
            out.print(f"[bold]{caption:>13}[/]  {describe(view)}")
        history = desk.agent_history(DEMO_TENANT, DEMO_AGENT)
        out.print(history_table(history[-6:]))
        out.print(
            f"{len(history)} events recorded for {DEMO_AGENT}; log head {desk.head()}."
        )
