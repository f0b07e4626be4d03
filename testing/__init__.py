"""Tools for people who build on calldesk: the contract kit for telephony adapters."""

from calldesk.testing.adapter_contract import (
    TENANT,
    AdapterContract,
    AdapterHarness,
    Story,
    desk_with_agents,
)

__all__ = ["TENANT", "AdapterContract", "AdapterHarness", "Story", "desk_with_agents"]
