"""docs/configuration.md against the code, both ways: every flag of every `calldesk`
command, every field of the phone-systems file and of ConnectorConfig, and every
environment variable the code, the tests and CI read has its row, with the same default
and variable; no row names what the code does not have."""

import enum
import re
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
import typer.main

from calldesk.adapters.cli.main import app
from calldesk.adapters.cli.phone_systems import SimulatorSettings, SipPhoneSettings
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.telephony.amazon_connect import AmazonConnectSettings
from calldesk.adapters.telephony.twilio_account import TwilioAccount
from calldesk.apps.settings import persistence_settings

ROOT = Path(__file__).parents[1]
REFERENCE = ROOT / "docs" / "configuration.md"
FILE_SETTINGS = {
    "twilio": TwilioAccount,
    "amazon-connect": AmazonConnectSettings,
    "baresip": SipPhoneSettings,
    "simulator": SimulatorSettings,
}
#: Where environment variables are read: the product's code, the tests, CI.
READERS = ("adapters", "apps", "testing", "tests", ".ci", "Makefile")
#: A name the code gives an environment variable (quoted in Python, bare in shell).
PYTHON_VARIABLE = re.compile(r"""["']((?:CALLDESK|HYPOTHESIS)_[A-Z_]+)["']""")
SHELL_VARIABLE = re.compile(r"\b(CALLDESK_[A-Z_]+)\b")


@attrs.frozen
class Row:
    where: str
    setting: frozenset[str]
    environment: str
    default: str


def rows() -> list[Row]:
    table = [line for line in REFERENCE.read_text().splitlines() if line.startswith("| ")]
    found = []
    for line in table[1:]:  # after the header
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        where, setting, environment, default = (c.replace("`", "") for c in cells[:4])
        names = frozenset(name.strip() for name in setting.split(",") if name.strip())
        found.append(Row(where, names, environment, default))
    return found


def shown(default: object) -> str:
    """A default as the table writes it."""
    if default is None or default is attrs.NOTHING:
        return ""
    if isinstance(default, bool):
        return "on" if default else "off"
    if isinstance(default, enum.Enum):
        return str(default.value)
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    if isinstance(default, tuple | list):
        return "[" + ", ".join(f'"{item}"' for item in default) + "]"
    if isinstance(default, dict):
        return "{}" if not default else str(default)
    if hasattr(default, "total_seconds"):
        return shown(default.total_seconds())
    return str(default)


def flags() -> Iterator[Row]:
    """Every option of every command, as its row should read; an option the root gives
    every command (--json) has the root's row alone."""
    root = typer.main.get_command(app)
    everywhere = {frozenset(param.opts) for param in root.params}

    def walk(command: object, path: str) -> Iterator[Row]:
        for param in getattr(command, "params", ()):
            if param.param_type_name != "option":
                continue
            if command is not root and frozenset(param.opts) in everywhere:
                continue
            default = None if param.required else param.default
            yield Row(
                path,
                frozenset(param.opts + param.secondary_opts),
                param.envvar or "",
                shown(default),
            )
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, f"{path} {name}")

    yield from walk(root, "calldesk")


def fields() -> Iterator[Row]:
    """Every field of the phone-systems file and of ConnectorConfig."""
    for vendor, settings in FILE_SETTINGS.items():
        for field in attrs.fields(settings):
            default = field.default
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                default = default.factory()
            where = f"phone-systems file, {vendor}"
            yield Row(where, frozenset({field.name}), "", shown(default))
    for field in attrs.fields(ConnectorConfig):
        yield Row("ConnectorConfig", frozenset({field.name}), "", shown(field.default))


def read_variables() -> set[str]:
    names: set[str] = set()
    for reader in READERS:
        path = ROOT / reader
        for source in [path] if path.is_file() else path.rglob("*"):
            if source.suffix == ".py":
                names |= set(PYTHON_VARIABLE.findall(source.read_text()))
            elif source.is_file() and (source.parent.name == ".ci" or source == path):
                names |= set(SHELL_VARIABLE.findall(source.read_text()))
    return names


def test_every_flag_has_its_row_with_its_variable_and_default() -> None:
    documented = {r for r in rows() if r.where.startswith("calldesk")}
    expected = set(flags())
    assert sorted(expected - documented, key=str) == []
    assert sorted(documented - expected, key=str) == []


def test_every_file_and_connector_setting_has_its_row_with_its_default() -> None:
    kinds = ("phone-systems file", "ConnectorConfig")
    documented = {r for r in rows() if r.where.startswith(kinds)}
    expected = set(fields())
    assert sorted(expected - documented, key=str) == []
    assert sorted(documented - expected, key=str) == []


def test_every_environment_variable_read_is_documented_and_none_other() -> None:
    documented = {r.environment for r in rows() if r.environment}
    assert documented == read_variables()


@pytest.mark.parametrize("row", [r for r in rows() if r.where == "database URL"])
def test_each_database_url_parameter_is_one_the_url_reads(row: Row) -> None:
    (name,) = row.setting
    url = "postgresql://desk@127.0.0.1:5432/calldesk"
    assert persistence_settings(f"{url}?{name}=7") != persistence_settings(url)
    assert row.default in persistence_settings(url).values()
