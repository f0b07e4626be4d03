"""The hexagon's rules, checked on the source: imports point inward, packages nest."""

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("domain", "ports", "adapters", "apps", "testing", "replica")

#: What each layer may import besides the standard library.
ALLOWED = {
    "domain": ("attrs", "eventsourcing", "calldesk.domain"),
    "ports": ("attrs", "calldesk.domain", "calldesk.ports"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def third_party(name: str) -> bool:
    return name.split(".")[0] not in sys.stdlib_module_names


def breaks(name: str, allowed: tuple[str, ...]) -> bool:
    return third_party(name) and not any(
        name == prefix or name.startswith(prefix + ".") for prefix in allowed
    )


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_inner_layers_import_only_what_they_may(layer: str) -> None:
    offending = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / layer).rglob("*.py")
        for name in imported_modules(path)
        if breaks(name, ALLOWED[layer])
    }
    assert not offending


@pytest.mark.parametrize("layer", LAYERS)
def test_no_module_imports_a_layer_by_its_folder_name(layer: str) -> None:
    offending = {
        f"{path.relative_to(ROOT)}: {name}"
        for folder in LAYERS
        for path in (ROOT / folder).rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] == layer
    }
    assert not offending


def test_apps_never_import_adapters() -> None:
    """The CLI, which wires adapters together, is itself an adapter (ADR/0001)."""
    offending = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "apps").rglob("*.py")
        for name in imported_modules(path)
        if name.startswith("calldesk.adapters")
    }
    assert not offending


def test_nothing_inside_calldesk_imports_the_replica_facade() -> None:
    """`calldesk.replica` is a composition root for embedding apps (ADR/0024)."""
    offending = {
        f"{path.relative_to(ROOT)}: {name}"
        for folder in LAYERS
        if folder != "replica"
        for path in (ROOT / folder).rglob("*.py")
        for name in imported_modules(path)
        if name == "calldesk.replica" or name.startswith("calldesk.replica.")
    }
    assert not offending


def test_the_wheel_installs_every_layer_under_calldesk_only(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("calldesk-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"calldesk", wheel.name.split("-py3")[0] + ".dist-info"}
    packages = {
        name.rsplit("/", 1)[0]
        for name in zipfile.ZipFile(wheel).namelist()
        if name.endswith("/__init__.py")
    }
    assert packages == {
        f"calldesk/{init.parent.relative_to(ROOT)}"
        for layer in LAYERS
        for init in (ROOT / layer).rglob("__init__.py")
    }
