"""Tools for people who build on calldesk: the contract kit for telephony adapters."""

from calldesk.testing.adapter_contract import AdapterContract, AdapterHarness, Story

__all__ = ["AdapterContract", "AdapterHarness", "Story"]
