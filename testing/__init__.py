"""Tools for people who build on calldesk: the contract kit for telephony adapters.

It runs under pytest with hypothesis: `pip install "calldesk[contract]"` brings them.
"""

try:
    import hypothesis  # noqa: F401
    import pytest  # noqa: F401
except ModuleNotFoundError as missing:
    raise ModuleNotFoundError(
        f"calldesk.testing runs under pytest with hypothesis, and {missing.name} is not "
        'installed: pip install "calldesk[contract]"',
        name=missing.name,
    ) from None

from calldesk.testing.adapter_contract import (
    TENANT,
    AdapterContract,
    AdapterHarness,
    Story,
    desk_with_agents,
)

__all__ = ["TENANT", "AdapterContract", "AdapterHarness", "Story", "desk_with_agents"]
