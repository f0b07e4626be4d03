"""docs/adapters.md runs as a reader would copy it: each of its files on its own, in a
folder of their own, imported as modules (a missing import is a NameError here too);
the example adapter is attached and served, and keeps the contract."""

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from calldesk.domain.call_states import CallState
from calldesk.domain.calls import Call
from calldesk.testing import AdapterContract

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "adapters.md"
FILES = ("acme_pbx", "serve_acme", "test_acme_pbx")


def guide_files() -> dict[str, str]:
    """The guide's Python blocks by the file name on their first line."""
    blocks = re.findall(
        r"```python\n# (\w+)\.py: [^\n]*\n(.*?)```", GUIDE.read_text(), re.DOTALL
    )
    return dict(blocks)


@pytest.fixture(scope="module")
def guide(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleType]]:
    folder = tmp_path_factory.mktemp("guide")
    for name, code in guide_files().items():
        (folder / f"{name}.py").write_text(code)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)  # its desk writes calldesk.db here
        patch.syspath_prepend(str(folder))
        modules = {name: importlib.import_module(name) for name in FILES}
        yield modules
        modules["serve_acme"].desk.close()
        for name in FILES:
            sys.modules.pop(name, None)


def test_the_guide_is_three_files() -> None:
    assert sorted(guide_files()) == sorted(FILES)


def test_the_example_is_served_as_a_webhook_and_heard_by_the_desk(
    guide: dict[str, ModuleType],
) -> None:
    served = guide["serve_acme"]
    assert "/webhooks/{vendor}/{tenant}" in served.app.openapi_schema.paths
    assert served.app.state.webhooks.adapters[("acme", "acme-pbx")] is served.pbx
    assert "uvicorn.run(app" in guide_files()["serve_acme"]  # the line that serves it
    ringing = guide["test_acme_pbx"].acme("ringing", 1, "c-served")
    (signal,) = served.pbx.receive(ringing)
    call_id = Call.create_id("acme", "acme-pbx", signal.vendor_call_id)
    assert served.desk.call("acme", str(call_id)).state is CallState.OFFERED


CHECKS = sorted(name for name in dir(AdapterContract) if name.startswith("test_"))


@pytest.mark.parametrize("check", CHECKS)
def test_the_example_keeps_the_contract(guide: dict[str, ModuleType], check: str) -> None:
    getattr(guide["test_acme_pbx"].TestAcmePbx(), check)()


def test_without_pytest_the_kit_says_which_extra_to_install() -> None:
    """A plain install has no pytest: the import says what to install, in one line."""
    blocked = "import sys; sys.modules['pytest'] = None; import calldesk.testing"
    run = subprocess.run(
        [sys.executable, "-c", blocked], capture_output=True, text=True, check=False
    )
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: calldesk.testing runs under pytest")
    assert 'pip install "calldesk[contract]"' in last
