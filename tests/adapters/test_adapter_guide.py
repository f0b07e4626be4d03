"""docs/adapters.md runs: its example adapter is attached, and keeps the contract."""

import re
from pathlib import Path
from typing import Any

import pytest

from calldesk.testing import AdapterContract

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "adapters.md"


def guide_namespace() -> dict[str, Any]:
    """Every Python block of the guide, run in order as one module."""
    namespace: dict[str, Any] = {"__name__": "adapter_guide"}
    for block in re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.DOTALL):
        exec(compile(block, str(GUIDE), "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def guide(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("guide"))  # its desk writes calldesk.db here
        namespace = guide_namespace()
        namespace["desk"].close()
    return namespace


def test_the_example_is_mounted_as_a_webhook(guide: dict[str, Any]) -> None:
    paths = guide["app"].openapi_schema.paths
    assert "/webhooks/{vendor}/{tenant}" in paths
    assert guide["app"].state.webhooks.adapters[("acme", "acme-pbx")] is guide["pbx"]


CHECKS = sorted(name for name in dir(AdapterContract) if name.startswith("test_"))


@pytest.mark.parametrize("check", CHECKS)
def test_the_example_keeps_the_contract(guide: dict[str, Any], check: str) -> None:
    getattr(guide["TestAcmePbx"](), check)()
