"""SIPp runs on loopback for tests, and which SIP tools a test run is missing.

The baresip peers themselves, their ports and their ctrl client are calldesk's own
(calldesk.adapters.telephony.baresip_peers), since the demo and the benchmark run them
too; what only tests need is here: SIPp scenarios from tests/e2e/sipp, each run on a
block of ports of its own.
"""

import subprocess
import time
from pathlib import Path

from calldesk.adapters.telephony.baresip_peers import (
    BARESIP,
    READY_WITHIN,
    port_block,
    stop_processes,
)

SIPP = Path("/usr/bin/sipp")
SCENARIOS = Path(__file__).resolve().parents[1] / "e2e" / "sipp"
#: How long answer() waits on SIPp's exit before reading the port table again.
LISTEN_CHECK_SECONDS = 0.01


def missing_tools() -> str | None:
    """Why these tests cannot run here, or None."""
    for tool in (BARESIP, SIPP):
        if not tool.exists():
            return f"{tool} is not installed (apt-get install baresip-core sip-tester)"
    return None


class SippRun:
    """One SIPp scenario from tests/e2e/sipp, run against a peer or waiting for calls."""

    def __init__(self, scenario: str, directory: Path, *, calls: int = 1) -> None:
        self.scenario, self.directory, self.calls = SCENARIOS / scenario, directory, calls
        self.port = port_block()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri_template(self) -> str:
        """Where a phone dials a number to reach this SIPp (as a callee)."""
        return f"sip:{{number}}@127.0.0.1:{self.port}"

    def call(self, uri_user: str, host_port: str, rate: int = 100) -> None:
        """Start placing the calls to sip:<uri_user>@<host_port>."""
        self._start([host_port, "-s", uri_user, "-r", str(rate), "-l", str(self.calls)])

    def answer(self) -> None:
        """Start waiting for calls; returns once SIPp listens.

        A bound port sends no notice and SIPp says nothing until it exits, so the port
        table is read again each time the process has not exited within a beat: a SIPp
        that fails is seen at once, one that listens within a beat.
        """
        self._start([])
        assert self.process is not None
        deadline = time.monotonic() + READY_WITHIN
        while not self._listening():
            try:
                self.process.wait(LISTEN_CHECK_SECONDS)
            except subprocess.TimeoutExpired:
                if time.monotonic() < deadline:
                    continue
            raise RuntimeError(f"SIPp does not listen on {self.port}:\n{self.output}")

    def finish(self, timeout: float = 10.0) -> None:
        """Wait for the scenario to end, and fail with SIPp's own words unless it passed."""
        assert self.process is not None
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(
                f"SIPp still running after {timeout} s:\n{self.output}"
            ) from None
        assert status == 0, f"SIPp exited with {status}:\n{self.output}"

    def stop(self) -> None:
        if self.process is not None:
            stop_processes([self.process])

    @property
    def output(self) -> str:
        texts = []
        for name in ("sipp.out", "errors.log", "messages.log"):
            path = self.directory / name
            if path.exists():
                texts.append(f"--- {name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(texts)

    def _start(self, arguments: list[str]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            str(SIPP),
            *arguments,
            *("-sf", str(self.scenario), "-i", "127.0.0.1", "-p", str(self.port)),
            *("-mp", str(self.port + 2), "-m", str(self.calls), "-nostdin"),
            *("-timeout", "20", "-timeout_error"),
            *("-trace_err", "-error_file", str(self.directory / "errors.log")),
            *("-trace_msg", "-message_file", str(self.directory / "messages.log")),
        ]
        with (self.directory / "sipp.out").open("wb") as out:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )

    def _listening(self) -> bool:
        wanted = f"0100007F:{self.port:04X}"
        with open("/proc/net/udp") as table:
            return any(row.split()[1] == wanted for row in list(table)[1:])
