"""The README's examples run as written, so they cannot rot."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def block(language: str) -> str:
    match = re.search(rf"```{language}\n(.*?)```", README.read_text(), re.DOTALL)
    assert match, f"the README has no {language} block"
    return match.group(1)


def test_the_readmes_command_line_session_runs_and_ends_logged_out(tmp_path: Path) -> None:
    calldesk = Path(sys.executable).with_name("calldesk")
    lines = [line[2:] for line in block("console").splitlines() if line.startswith("$ ")]
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "120"}
    results = [
        subprocess.run(
            [str(calldesk), *shlex.split(line)[1:]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        for line in lines
    ]
    failed = [
        (line, r.stderr) for line, r in zip(lines, results, strict=True) if r.returncode
    ]
    assert not failed
    assert '"state": "not-ready"' in results[5].stdout
    assert "is logged out" in results[-1].stdout


def test_the_readmes_embedding_example_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", block("python")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "AgentState.NOT_READY")


def test_make_demo_installs_calldesk_without_its_test_tools() -> None:
    """The README's first command runs the demo: it needs no pytest, mypy or browser."""
    dry = subprocess.run(
        ["make", "--dry-run", "--always-make", "--no-print-directory", "demo"],
        cwd=README.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    installs = [line for line in dry.stdout.splitlines() if "pip install" in line]
    assert any(line.endswith("--editable .") for line in installs), dry.stdout
    assert not any("[test]" in line for line in installs), dry.stdout
    assert dry.stdout.strip().splitlines()[-1].endswith("calldesk demo")
